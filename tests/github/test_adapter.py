"""Every port method through PyGithub against the HTTP fake, and the two in-process ports.

Stories: the comment job finds a fork's PR by its head, reads it with its labels and comments,
posts, edits, labels; an unchanged re-run costs two reads and no write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from taxonbot.comment.plan import desired_state, plan
from taxonbot.github.apply import apply
from taxonbot.github.dryrun import DRY_RUN_COMMENT_ID, DryRun
from taxonbot.github.memory import InMemoryGitHub
from taxonbot.github.port import GitHubError, GitHubPort
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.github.values import (
    Action,
    AddLabels,
    Comment,
    CreateComment,
    EditComment,
    RemoveLabel,
    RunInfo,
)
from tests.doubles.fake_github import (
    APP_TOKEN,
    OLD_APP_TOKEN,
    PAYLOADS,
    USER_TOKEN,
    FakeGitHub,
    no_proxies,
    serve,
)

REPO, FORK, NUMBER = "instructlab/taxonomy", "contributor/taxonomy", 7
SHA = "a" * 40
MARKED = "<!-- taxonbot:comment -->\nold words"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    no_proxies(monkeypatch)
    with serve() as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK, labels=["help wanted"])
        yield server


def connect(fake: FakeGitHub, token: str = APP_TOKEN, **options: Any) -> PyGithubAdapter:
    # No pacing between requests in tests; production keeps PyGithub's 0.25 s / 1 s.
    return PyGithubAdapter(
        token,
        fake.url,
        seconds_between_requests=None,
        seconds_between_writes=None,
        **options,
    )


@pytest.fixture
def github(fake: FakeGitHub) -> Iterator[PyGithubAdapter]:
    with connect(fake) as adapter:
        yield adapter


def test_a_pr_is_read_with_its_labels_and_comments_in_two_requests(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    first = fake.add_comment(REPO, NUMBER, "reviewer", "Looks good")
    second = fake.add_comment(REPO, NUMBER, "github-actions[bot]", MARKED)
    state = github.pull(REPO, NUMBER)
    assert (state.number, state.state, state.merged, state.head_sha) == (NUMBER, "open", False, SHA)
    assert state.labels == frozenset({"help wanted"})
    assert state.comments == (
        Comment(first, "reviewer", "Looks good"),
        Comment(second, "github-actions[bot]", MARKED),
    )
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", f"/repos/{REPO}/pulls/{NUMBER}"),
        ("GET", f"/repos/{REPO}/issues/{NUMBER}/comments"),
    ]
    assert (github.api_calls.reads, github.api_calls.writes) == (2, 0)


@pytest.mark.parametrize(("count", "pages"), [(0, 1), (99, 1), (100, 2), (205, 3)])
def test_a_long_discussion_is_read_100_comments_a_request(
    fake: FakeGitHub, github: PyGithubAdapter, count: int, pages: int
) -> None:
    for index in range(count):
        fake.add_comment(REPO, NUMBER, "reviewer", f"comment {index}")
    state = github.pull(REPO, NUMBER)
    assert [c.body for c in state.comments] == [f"comment {i}" for i in range(count)]
    assert github.api_calls.reads == 1 + pages
    assert {r.query.get("per_page") for r in fake.requests if r.path.endswith("/comments")} == {
        "100"
    }


def test_a_merged_pr_reads_as_closed_and_merged(fake: FakeGitHub, github: PyGithubAdapter) -> None:
    fake.close(REPO, NUMBER, merged=True)
    state = github.pull(REPO, NUMBER)
    assert (state.state, state.merged) == ("closed", True)


def test_commit_to_pulls_finds_a_same_repository_pr_but_never_a_forks(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    """GitHub answers `GET /commits/{sha}/pulls` with [] for a commit that lives only in a fork
    (tests/doubles/fake_github.py cites the reports), which is why the comment job looks up a
    fork's PR by its head branch instead (test_a_fork_pr_is_found_by_owner_and_branch)."""
    assert github.pulls_for_head(REPO, SHA, FORK) == []
    fake.add_pull(REPO, 8, "d" * 40, head_repo=REPO)
    assert github.pulls_for_head(REPO, "d" * 40, REPO) == [8]
    assert github.pulls_for_head(REPO, "d" * 40, REPO.upper()) == [8]  # logins fold
    assert github.pulls_for_head(REPO, "b" * 40, REPO) == []
    assert github.api_calls.reads == 4


def test_a_fork_pr_is_found_by_owner_and_branch(fake: FakeGitHub, github: PyGithubAdapter) -> None:
    fake.add_pull(REPO, 8, SHA, head_repo="someone-else/taxonomy")  # same commit, other fork
    (found,) = github.open_pulls(REPO, "contributor:topic")
    assert (found.number, found.head_repo, found.base_repo) == (NUMBER, FORK, REPO)
    assert github.open_pulls(REPO, "nobody:topic") == []
    assert [p.number for p in github.open_pulls(REPO, None)] == sorted([8, NUMBER], reverse=True)
    head = github.pull_head(REPO, NUMBER)
    assert head is not None and head.head_sha == SHA and head.head_ref == "topic"
    assert github.pull_head(REPO, 999) is None  # 404: no such PR


def test_an_actions_token_is_github_actions_bot_without_asking(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    assert github.viewer_login() == "github-actions[bot]"  # a ghs_ token cannot read /user
    assert fake.requests == []


def test_an_unprefixed_app_token_is_github_actions_bot_once_asked(fake: FakeGitHub) -> None:
    with connect(fake, OLD_APP_TOKEN) as github:
        assert github.viewer_login() == "github-actions[bot]"
        assert github.viewer_login() == "github-actions[bot]"
    assert [(r.path, r.status) for r in fake.requests] == [("/user", 403)]


def test_a_user_token_is_its_user_and_a_given_login_costs_nothing(fake: FakeGitHub) -> None:
    with connect(fake, USER_TOKEN) as user:
        assert user.viewer_login() == "taxonbot-maintainer"
    with connect(fake, login="taxonbot-app[bot]") as app:
        assert app.viewer_login() == "taxonbot-app[bot]"
        assert app.api_calls.reads == 0
    assert len(fake.requests) == 1


def test_the_bot_posts_edits_and_labels_with_one_request_each(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    comment_id = github.create_comment(REPO, NUMBER, MARKED)
    github.edit_comment(REPO, comment_id, MARKED + "\nnew words")
    github.add_labels(REPO, NUMBER, ("kind:skill", "check:passed"))
    github.remove_label(REPO, NUMBER, "help wanted")
    [comment] = fake.comments_on(REPO, NUMBER)
    assert (comment.id, comment.author, comment.body) == (
        comment_id,
        "github-actions[bot]",
        MARKED + "\nnew words",
    )
    assert fake.pulls[(REPO, NUMBER)].labels == ["check:passed", "kind:skill"]
    assert [(r.method, r.status) for r in fake.requests] == [
        ("POST", 201),
        ("PATCH", 200),
        ("POST", 200),
        ("DELETE", 200),
    ]
    assert fake.requests[2].body == ["check:passed", "kind:skill"]
    assert fake.requests[3].path.endswith("/labels/help wanted")
    assert (github.api_calls.reads, github.api_calls.writes) == (0, 4)


def test_removing_a_label_that_is_gone_already_is_done(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    github.remove_label(REPO, NUMBER, "check:failed")  # GitHub: 404 "Label does not exist"
    assert [r.status for r in fake.requests] == [404]


@pytest.mark.parametrize(
    ("token", "number", "said"),
    [
        ("ghp_revoked", NUMBER, "401 Bad credentials; the token is missing or expired"),
        (APP_TOKEN, 999, "404 Not Found; check the repository and pull request exist"),
    ],
)
def test_a_refusal_is_one_plain_sentence(
    fake: FakeGitHub, token: str, number: int, said: str
) -> None:
    with connect(fake, token) as github, pytest.raises(GitHubError) as raised:
        github.pull(REPO, number)
    assert str(raised.value).startswith(f"GitHub refused reading pull request {REPO}#{number}")
    assert said in str(raised.value)
    assert len(fake.requests) == 1  # a 4xx is an answer: no retry


def test_the_fake_serves_the_real_payload_shapes(fake: FakeGitHub, github: PyGithubAdapter) -> None:
    payload = json.loads((PAYLOADS / "pull_request/opened.payload.json").read_text())
    assert fake.pr_template is not None
    served = fake.pull_json(fake.pulls[(REPO, NUMBER)])
    assert set(payload["pull_request"]) <= set(served)
    assert all("api.github.com" not in value for value in _strings(served))
    assert github.pull(REPO, NUMBER).head_sha == SHA


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


# ---- the whole reconcile loop over HTTP -------------------------------------------------------

RESULT = {
    "format": "taxonbot-result/1",
    "head_sha": SHA,
    "run_id": 41,
    "run_attempt": 1,
    "check": {
        "format": "taxonbot-check/1",
        "files": ["compositional_skills/writing/poems/qna.yaml"],
        "summary": {"files": 1, "errors": 0, "warnings": 0},
        "findings": [],
    },
    "diff": None,
    "gaps": None,
    "preview": None,
}
RUN = RunInfo(SHA, 41, 1, REPO, NUMBER)


def reconcile(port: GitHubPort, run: RunInfo = RUN) -> list[str]:
    desired = desired_state({**RESULT, "run_id": run.run_id}, run)
    actions = plan(desired, port.pull(run.repo, run.pr_number), run, port.viewer_login())
    return apply(actions, port, run)


def test_an_unchanged_rerun_costs_two_reads_and_no_write(fake: FakeGitHub) -> None:
    with connect(fake) as first:
        assert len(reconcile(first)) == 2  # the comment, the labels ("help wanted" is not ours)
    with connect(fake, login="github-actions[bot]") as again:
        assert reconcile(again) == []
        assert (again.api_calls.reads, again.api_calls.writes) == (2, 0)
    assert len(fake.comments_on(REPO, NUMBER)) == 1


def test_a_dry_run_reads_github_and_writes_nothing(
    fake: FakeGitHub, github: PyGithubAdapter
) -> None:
    dry = DryRun(github)
    lines = reconcile(dry)
    assert [call.name for call in dry.calls] == ["create_comment", "add_labels"]
    assert dry.calls[1].args == (REPO, NUMBER, ("check:passed", "kind:skill"))
    assert lines[0].endswith(f"comment {DRY_RUN_COMMENT_ID}")
    assert fake.writes() == []
    assert [r.method for r in fake.requests] == ["GET", "GET"]  # the PR, its comments


# ---- the in-memory port ----------------------------------------------------------------------


def test_the_recording_port_keeps_state_and_every_call() -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, NUMBER, SHA, head_repo=FORK, labels=["check:failed"])
    lines = reconcile(gh)
    assert [call.name for call in gh.writes] == ["create_comment", "add_labels", "remove_label"]
    assert [call.name for call in gh.calls if not call.is_write] == ["pull", "viewer_login"]
    assert lines[1:] == [
        f"add labels to {REPO}#{NUMBER}: check:passed, kind:skill",
        f"remove label from {REPO}#{NUMBER}: check:failed",
    ]
    state = gh.pull(REPO, NUMBER)
    assert state.labels == {"check:passed", "kind:skill"}
    assert [c.author for c in state.comments] == ["github-actions[bot]"]
    assert gh.pulls_for_head(REPO, SHA, FORK) == []  # a fork's commit: GitHub answers []
    gh.add_pull(REPO, NUMBER + 1, "d" * 40, head_repo=REPO)
    assert gh.pulls_for_head(REPO, "d" * 40, REPO) == [NUMBER + 1]


def test_the_recording_port_refuses_what_github_would() -> None:
    gh = InMemoryGitHub()
    with pytest.raises(GitHubError, match="not a pull request"):
        gh.pull(REPO, 1)
    with pytest.raises(GitHubError, match="comment 5 is not in"):
        gh.edit_comment(REPO, 5, "text")


def test_apply_runs_each_action_kind_in_order() -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, NUMBER, SHA)
    old = gh.add_comment(REPO, NUMBER, gh.login, MARKED)
    actions: list[Action] = [
        CreateComment("second"),
        EditComment(old, "edited"),
        AddLabels(("kind:skill",)),
        RemoveLabel("kind:skill"),
    ]
    lines = apply(actions, gh, RUN)
    assert [call.name for call in gh.calls] == [
        "create_comment",
        "edit_comment",
        "add_labels",
        "remove_label",
    ]
    assert lines[0] == f"create comment on {REPO}#{NUMBER} (6 characters): comment 2"
    assert lines[1] == f"edit comment {old} on {REPO}#{NUMBER} (6 characters)"
    assert gh.bodies(REPO, NUMBER) == ["edited", "second"]
    assert gh.pull(REPO, NUMBER).labels == frozenset()
