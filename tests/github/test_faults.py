"""What goes wrong between the comment job and GitHub, and what the PR ends up showing.

A POST stored but answered 502, rate limits with and without a tolerable wait, flaky reads,
a PR closed or pushed to while the job ran, and runs finishing out of order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from github import Auth, Github

from taxonbot.comment.plan import desired_state, plan
from taxonbot.github.apply import apply
from taxonbot.github.locate import RunFacts, find_pulls
from taxonbot.github.port import GitHubError, RateLimitWaitTooLong
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.github.retry import rate_limit_wait
from taxonbot.github.values import RunInfo
from tests.doubles.fake_github import APP_TOKEN, FakeGitHub, no_proxies, serve

REPO, FORK, NUMBER = "instructlab/taxonomy", "contributor/taxonomy", 7
SHA, NEWER_SHA = "a" * 40, "b" * 40
BODY = '<!-- taxonbot:comment -->\n<!-- taxonbot:run {"run_id": 41, "run_attempt": 1} -->\nhi'
COMMENTS = rf"/repos/{REPO}/issues/{NUMBER}/comments"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    no_proxies(monkeypatch)
    with serve() as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK)
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def github(fake: FakeGitHub, sleeps: list[float]) -> Iterator[PyGithubAdapter]:
    adapter = PyGithubAdapter(
        APP_TOKEN,
        fake.url,
        sleep=sleeps.append,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    with adapter:
        yield adapter


def trail(fake: FakeGitHub) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in fake.requests]


# ---- a POST that GitHub stored but did not confirm --------------------------------------------


def test_pygithubs_default_retry_would_post_the_comment_twice(fake: FakeGitHub) -> None:
    """Why the adapter turns urllib3 retries off: GithubRetry retries POST on 5xx."""
    fake.fail_next("store-then-502", method="POST", path=COMMENTS)
    with Github(
        auth=Auth.Token(APP_TOKEN),
        base_url=fake.url,
        lazy=True,  # only the POST goes out; the default retry is what is on trial
        seconds_between_requests=None,
        seconds_between_writes=None,
    ) as gh:
        gh.get_repo(REPO).get_issue(NUMBER).create_comment(BODY)
    assert [c.body for c in fake.comments_on(REPO, NUMBER)] == [BODY, BODY]


@pytest.mark.parametrize("fault", ["store-then-502", "store-then-drop"])
def test_a_comment_stored_but_unconfirmed_is_found_not_posted_again(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float], fault: str
) -> None:
    fake.fail_next(fault, method="POST", path=COMMENTS)
    comment_id = github.create_comment(REPO, NUMBER, BODY)
    assert [(c.id, c.body) for c in fake.comments_on(REPO, NUMBER)] == [(comment_id, BODY)]
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", COMMENTS),
        ("GET", COMMENTS),  # ours: by github-actions[bot], with this run's marker and run line
    ]
    assert sleeps == [1.0]  # a moment for the stored comment to show up in the list


def test_a_comment_lost_on_the_way_is_posted_again(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("502", method="POST", path=COMMENTS)
    github.create_comment(REPO, NUMBER, BODY)
    assert [c.body for c in fake.comments_on(REPO, NUMBER)] == [BODY]
    assert trail(fake) == [("POST", 502), ("GET", 200), ("POST", 201)]
    assert sleeps == [1.0]


def test_an_older_runs_comment_with_the_same_marker_is_not_taken_for_ours(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    older = BODY.replace('"run_id": 41', '"run_id": 40')
    fake.add_comment(REPO, NUMBER, "github-actions[bot]", older)
    fake.add_comment(REPO, NUMBER, "mallory", BODY)  # someone copied our run line
    fake.fail_next("502", method="POST", path=COMMENTS)
    comment_id = github.create_comment(REPO, NUMBER, BODY)
    assert [(c.author, c.id == comment_id) for c in fake.comments_on(REPO, NUMBER)] == [
        ("github-actions[bot]", False),
        ("mallory", False),
        ("github-actions[bot]", True),
    ]


def test_a_post_that_never_gets_through_ends_in_a_plain_error(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("502", method="POST", path=COMMENTS, times=10)
    with pytest.raises(GitHubError, match=rf"did not answer posting the comment on {REPO}#7"):
        github.create_comment(REPO, NUMBER, BODY)
    assert fake.comments_on(REPO, NUMBER) == []
    assert [r.method for r in fake.requests].count("POST") == github.attempts
    assert sleeps == [1.0, 2.0, 4.0, 8.0]  # after each POST: wait, then look for it


def test_an_edit_answered_502_is_sent_again(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    comment_id = fake.add_comment(REPO, NUMBER, "github-actions[bot]", "old")
    fake.fail_next("store-then-502", method="PATCH")
    github.edit_comment(REPO, comment_id, BODY)  # PATCH sets the whole body: safe to repeat
    assert [c.body for c in fake.comments_on(REPO, NUMBER)] == [BODY]
    assert trail(fake) == [("PATCH", 502), ("PATCH", 200)]


# ---- rate limits ------------------------------------------------------------------------------


def test_a_secondary_rate_limit_is_waited_out(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("secondary-rate-limit", method="POST", retry_after=7)
    github.create_comment(REPO, NUMBER, BODY)
    assert sleeps == [7.0]
    assert trail(fake) == [("POST", 403), ("POST", 201)]  # refused unprocessed: post again
    assert len(fake.comments_on(REPO, NUMBER)) == 1


def test_a_secondary_rate_limit_without_retry_after_waits_a_minute(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("secondary-rate-limit", method="GET")
    github.pull(REPO, NUMBER)
    assert sleeps == [60.0]


def test_a_spent_primary_limit_waits_for_its_reset(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("primary-rate-limit", method="GET", retry_after=20)
    github.pull(REPO, NUMBER)
    [wait] = sleeps
    assert 19 <= wait <= 21


def test_a_wait_longer_than_the_cap_stops_cleanly(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("secondary-rate-limit", method="POST", retry_after=3600)
    with pytest.raises(RateLimitWaitTooLong) as raised:
        github.create_comment(REPO, NUMBER, BODY)
    assert str(raised.value) == (
        f"GitHub's rate limit asks us to wait 3600s before posting the comment on {REPO}#7, "
        "more than the 60s we allow; re-run the comment workflow later"
    )
    assert isinstance(raised.value, GitHubError)  # the CLI prints it, no traceback
    assert sleeps == []
    assert fake.comments_on(REPO, NUMBER) == []


@pytest.mark.parametrize(
    ("status", "headers", "data", "wait"),
    [
        (429, {"Retry-After": "5"}, None, 5.0),
        (403, {"retry-after": "0"}, None, 0.0),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1100"}, {}, 101.0),
        (403, {}, {"message": "You have exceeded a secondary rate limit."}, 60.0),
        (403, {}, {"message": "Resource not accessible by integration"}, None),
        (403, {"X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "1100"}, {}, None),
        (502, {"Retry-After": "5"}, None, None),
    ],
)
def test_what_counts_as_a_rate_limit(
    status: int, headers: dict[str, Any], data: Any, wait: float | None
) -> None:
    assert rate_limit_wait(status, headers, data, now=1000.0) == wait


# ---- flaky reads ------------------------------------------------------------------------------


def test_server_errors_on_reads_are_retried_a_few_times(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("500", method="GET", times=2)
    fake.fail_next("503", method="GET", path=COMMENTS)
    assert github.pull(REPO, NUMBER).head_sha == SHA
    assert trail(fake) == [("GET", 500), ("GET", 500), ("GET", 200), ("GET", 503), ("GET", 200)]
    assert sleeps == [1.0, 2.0, 1.0]
    assert (github.api_calls.reads, github.api_calls.writes) == (5, 0)


def test_reads_give_up_after_a_bounded_number_of_tries(
    fake: FakeGitHub, github: PyGithubAdapter, sleeps: list[float]
) -> None:
    fake.fail_next("502", method="GET", times=50)
    with pytest.raises(GitHubError) as raised:
        github.pulls_for_head(REPO, SHA, FORK)
    assert str(raised.value) == (
        f"GitHub did not answer finding the pull request for {FORK}@aaaaaaaaaaaa after 4 tries "
        "(last: 502 Server Error); re-run the comment workflow later"
    )
    assert len(fake.requests) == 4


# ---- the PR moved on while the job ran ----------------------------------------------------------


def run_of(run_id: int, sha: str = SHA) -> RunInfo:
    return RunInfo(sha, run_id, 1, REPO, NUMBER)


def result_of(run: RunInfo, errors: int) -> dict[str, Any]:
    check = {
        "format": "taxonbot-check/1",
        "files": ["knowledge/science/physics/qna.yaml"],
        "summary": {"files": 1, "errors": errors, "warnings": 0},
        "findings": [],
    }
    return {
        "format": "taxonbot-result/1",
        "head_sha": run.head_sha,
        "run_id": run.run_id,
        "run_attempt": run.run_attempt,
        "check": check,
        "diff": None,
        "gaps": None,
        "preview": None,
    }


def reconcile(github: PyGithubAdapter, run: RunInfo, errors: int = 0) -> list[str]:
    """The comment job's steps for a fork's PR: find it by its head, plan, apply."""
    pulls = find_pulls(github, RunFacts(REPO, run.head_sha, FORK, "topic"))
    if not pulls:
        return []  # closed, merged or pushed to: a newer run owns the PR
    [pull] = pulls
    desired = desired_state(result_of(run, errors), run)
    actions = plan(desired, github.pull(REPO, pull.number), run, github.viewer_login())
    return apply(actions, github, run)


@pytest.mark.parametrize("merged", [False, True])
def test_a_pr_closed_before_posting_gets_nothing(
    fake: FakeGitHub, github: PyGithubAdapter, merged: bool
) -> None:
    fake.close(REPO, NUMBER, merged=merged)
    if merged:
        assert reconcile(github, run_of(41)) == []
    else:  # GitHub no longer links a closed, unmerged PR to its commits
        assert github.pulls_for_head(REPO, SHA, FORK) == []
    assert fake.writes() == []


def test_a_pr_pushed_to_before_posting_is_left_to_the_newer_run(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    fake.push(REPO, NUMBER, NEWER_SHA)  # a force-push while this run's job was queued
    assert reconcile(github, run_of(41)) == []
    assert fake.writes() == []


def test_runs_finishing_out_of_order_leave_the_newest_result(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    newer, older = run_of(42), run_of(41)
    assert len(reconcile(github, newer, errors=0)) == 2  # comment + labels
    assert reconcile(github, older, errors=3) == []  # late, and would say the check failed
    [comment] = fake.comments_on(REPO, NUMBER)
    assert '"run_id": 42' in comment.body
    assert "check:passed" in fake.pulls[(REPO, NUMBER)].labels


def test_runs_finishing_in_order_move_the_comment_forward(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    reconcile(github, run_of(41), errors=3)
    lines = reconcile(github, run_of(42), errors=0)
    assert [line.split()[0] for line in lines] == ["edit", "add", "remove"]
    [comment] = fake.comments_on(REPO, NUMBER)
    assert '"run_id": 42' in comment.body
    assert fake.pulls[(REPO, NUMBER)].labels == ["kind:knowledge", "check:passed"]
