"""`taxonbot preview-request` in a simulated pr.yml step: GitHub's pull_request event file
(tests/fixtures/github-payloads), a read-only token, GITHUB_OUTPUT, PyGithub over loopback HTTP.

Stories: a maintainer's request left in our comment at this head sets the size; the same text
in anyone else's comment, or for an older head, does not; GitHub failing or a push event gives
the default and never fails the run; the output is one validated `pairs=N` line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.comment.reply import section, with_reply
from taxonbot.github.markers import MARKER
from tests.doubles.fake_github import PAYLOADS, FakeGitHub, serve_as_actions

REPO, NUMBER, SHA, OLD_SHA = "community/taxonomy", 12, "c" * 40, "b" * 40
BOT = "github-actions[bot]"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeGitHub]:
    with serve_as_actions(monkeypatch) as server:
        server.add_pull(REPO, NUMBER, SHA)
        monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
        yield server


def pull_request_event(tmp_path: Path) -> Path:
    source = PAYLOADS / "pull_request" / "opened.payload.json"
    payload: dict[str, Any] = json.loads(source.read_text("utf-8"))
    payload["repository"]["full_name"] = REPO
    payload["pull_request"]["number"] = NUMBER
    payload["pull_request"]["head"]["sha"] = SHA
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), "utf-8")
    return path


def ask(tmp_path: Path, event: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    assert main(["preview-request", "--event", str(event), "--default", "10"]) == 0
    printed = int(capsys.readouterr().out.strip())
    return printed, (tmp_path / "github_output").read_text("utf-8")


def request_body(head: str, pairs: int) -> str:
    return with_reply(MARKER, section(head, "`jo`", "Making the preview again.", pairs))


def test_a_request_in_our_comment_at_this_head_sets_the_size(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_comment(REPO, NUMBER, BOT, request_body(SHA, 25))
    assert ask(tmp_path, pull_request_event(tmp_path), capsys) == (25, "pairs=25\n")
    assert fake.writes() == [], "a read-only step"


@pytest.mark.parametrize("who", ["contributor", "not-the-bot"])
def test_the_same_text_from_anyone_else_is_ignored(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], who: str
) -> None:
    fake.add_comment(REPO, NUMBER, who, request_body(SHA, 50))
    assert ask(tmp_path, pull_request_event(tmp_path), capsys) == (10, "pairs=10\n")


def test_a_request_made_for_an_older_head_is_not_reused(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_comment(REPO, NUMBER, BOT, request_body(OLD_SHA, 40))
    assert ask(tmp_path, pull_request_event(tmp_path), capsys) == (10, "pairs=10\n")


def test_github_failing_gives_the_default_and_the_run_goes_on(
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)  # the adapter's backoff between retries
    fake.add_comment(REPO, NUMBER, BOT, request_body(SHA, 25))
    fake.fail_next("500", times=20)
    assert ask(tmp_path, pull_request_event(tmp_path), capsys) == (10, "pairs=10\n")


def test_a_push_event_needs_no_api_call(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main", "repository": {}}), "utf-8")
    assert ask(tmp_path, push, capsys) == (10, "pairs=10\n")
    assert fake.requests == []
