"""Two jobs, one comment: comment.yml (results) and command.yml (replies) interleaved for real.

Each story lets the other job's write land at the worst moment (the fake's `before_next`: just
before a given request is served), with PyGithub talking over HTTP to the fake on loopback, and
checks the comment ends up with both the newest result and the maintainer's reply, once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_command_job import MAINTAINER, command, event, say
from test_comment_job import comment, result_file

from taxonbot.comment.reply import REPLY_PREFIX, section, with_reply
from taxonbot.github.converge import MAX_READ_AGE
from taxonbot.github.markers import MARKER, recorded_run
from tests.doubles.fake_github import FakeGitHub, serve_as_actions

REPO, FORK, NUMBER, SHA = "community/taxonomy", "contributor/taxonomy", 12, "c" * 40
BOT = "github-actions[bot]"
LIST = rf"/repos/{REPO}/issues/{NUMBER}/comments"
EDIT = rf"/repos/{REPO}/issues/comments/\d+"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serve_as_actions(monkeypatch) as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK)
        yield server


def ours(fake: FakeGitHub) -> list[str]:
    return [c.body for c in fake.comments_on(REPO, NUMBER) if c.author == BOT]


def sticky_with_run(fake: FakeGitHub, tmp_path: Path, run_id: int) -> str:
    """Our comment as the comment job leaves it for `run_id` (made through the real job)."""
    path = result_file(tmp_path, run_id=run_id)
    assert comment(path, "--post", run_id=run_id) == 0
    (body,) = ours(fake)
    return body


def test_a_stale_reply_write_cannot_take_the_comment_back_to_an_older_run(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    old_body = sticky_with_run(fake, tmp_path, 100)
    reply = section(SHA, f"`{MAINTAINER}`", "Help text.")

    def command_job_writes_what_it_read_before(f: FakeGitHub) -> None:
        (sticky,) = [c for c in f.comments_on(REPO, NUMBER) if c.author == BOT]
        sticky.body = with_reply(old_body, reply)

    # The command job read the comment at run 100; the comment job writes run 200; then the
    # command job's write (run 100 + its reply) lands, just before the comment job looks again.
    fake.before_next(
        "PATCH", EDIT, lambda f: f.before_next("GET", LIST, command_job_writes_what_it_read_before)
    )
    assert comment(result_file(tmp_path, run_id=200), "--post", run_id=200) == 0
    (body,) = ours(fake)
    assert recorded_run(body) == (200, 1), "the newer result is back"
    assert body.endswith(reply), "and the maintainer's reply is kept"
    assert body.count(MARKER) == 1 and body.count(REPLY_PREFIX) == 1


def test_a_result_written_over_a_fresh_reply_gets_the_reply_back(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    sticky_with_run(fake, tmp_path, 100)
    newer = ours(fake)[0].replace('"run_id": 100', '"run_id": 200')
    assert recorded_run(newer) == (200, 1)

    def comment_job_writes_without_the_reply(f: FakeGitHub) -> None:
        (sticky,) = [c for c in f.comments_on(REPO, NUMBER) if c.author == BOT]
        sticky.body = newer  # planned from a read taken before the reply existed

    fake.before_next(
        "PATCH", EDIT, lambda f: f.before_next("GET", LIST, comment_job_writes_without_the_reply)
    )
    assert command(tmp_path, event("/taxonbot help", say(fake, "/taxonbot help")), "--post") == 0
    (body,) = ours(fake)
    assert recorded_run(body) == (200, 1), "the result the other job wrote stays"
    assert "taxonbot commands" in body and body.count(REPLY_PREFIX) == 1


def test_two_jobs_creating_the_comment_at_once_leave_one_with_both_parts(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    reply = section(SHA, f"`{MAINTAINER}`", "Help text.")

    def command_job_creates_first(f: FakeGitHub) -> None:
        f.add_comment(REPO, NUMBER, BOT, with_reply(MARKER, reply))

    fake.before_next("POST", LIST, command_job_creates_first)  # both saw no comment
    assert comment(result_file(tmp_path, run_id=300), "--post", run_id=300) == 0
    (body,) = ours(fake)
    assert recorded_run(body) == (300, 1) and body.endswith(reply)
    deletes = [r for r in fake.writes() if r.method == "DELETE"]
    assert len(deletes) == 1, "the duplicate the comment job made is deleted"


def test_an_unchanged_rerun_costs_five_reads_and_no_writes(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    path = result_file(tmp_path, run_id=400)
    assert comment(path, "--post", "--pr-number", str(NUMBER), run_id=400) == 0
    before_reads = len([r for r in fake.requests if r.method == "GET"])
    before_writes = len(fake.writes())
    assert comment(path, "--post", "--pr-number", str(NUMBER), run_id=400) == 0
    reads = len([r for r in fake.requests if r.method == "GET"]) - before_reads
    # The PR (confirming the hint), its files, the gate's check runs, the PR and its comments.
    assert (reads, len(fake.writes()) - before_writes) == (5, 0)


def test_the_settle_wait_is_what_the_workflow_gets_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taxonbot.cli.main import build_parser

    monkeypatch.delenv("TAXONBOT_SETTLE_SECONDS")
    args = build_parser("comment").parse_args(["comment", "--result", "r.json"])
    assert args.settle == 10.0 > MAX_READ_AGE
