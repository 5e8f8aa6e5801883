"""The comment job end to end: `taxonbot comment` in a simulated Actions environment, PyGithub
talking over real HTTP to the fake GitHub on loopback.

Stories: the first run posts one comment and the labels; the same run again writes nothing;
an artifact for another head or run is never posted; a dry run (no --post) writes nothing; the PR
is found through the API by head SHA and head repository, never from the artifact.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_github import FakeGitHub, serve_as_actions

from bot.cli import main

REPO, FORK, NUMBER = "community/taxonomy", "contributor/taxonomy", 12
SHA, RUN_ID, ATTEMPT = "c" * 40, 9001, 1
DATA = Path(__file__).resolve().parents[1] / "comment" / "data"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serve_as_actions(monkeypatch, REPO) as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK)
        yield server


def result_file(tmp_path: Path, **override: Any) -> Path:
    check = json.loads((DATA / "check.json").read_text("utf-8"))
    body = {
        "format": "taxonbot-result/1",
        "head_sha": SHA,
        "run_id": RUN_ID,
        "run_attempt": ATTEMPT,
        "check": check,
        "diff": None,
        "gaps": None,
        "preview": None,
    }
    body.update(override)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(body), "utf-8")
    return path


def comment(path: Path, *extra: str, head: str = SHA, run_id: int = RUN_ID) -> int:
    return main(
        [
            "comment",
            "--result",
            str(path),
            "--repo",
            REPO,
            "--head-sha",
            head,
            "--head-repo",
            FORK,
            "--run-id",
            str(run_id),
            "--run-attempt",
            str(ATTEMPT),
            *extra,
        ]
    )


def test_the_first_run_posts_one_comment_and_the_same_run_again_writes_nothing(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    path = result_file(tmp_path)
    assert comment(path, "--post") == 0
    (posted,) = fake.comments_on(REPO, NUMBER)
    assert posted.body.startswith("<!-- taxonbot:comment -->")
    writes_before = len(fake.writes())
    reads_before = len(fake.requests)
    assert comment(path, "--post") == 0
    assert len(fake.writes()) == writes_before, "an unchanged re-run writes nothing"
    assert len(fake.requests) - reads_before <= 3
    assert len(fake.comments_on(REPO, NUMBER)) == 1


def test_a_dry_run_shows_the_plan_and_writes_nothing(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert comment(result_file(tmp_path)) == 0
    assert fake.writes() == [] and fake.comments_on(REPO, NUMBER) == []
    assert "would apply" in capsys.readouterr().out


@pytest.mark.parametrize("field", ["head", "run"])
def test_an_artifact_for_another_run_is_never_posted(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    path = result_file(
        tmp_path, **({"head_sha": "d" * 40} if field == "head" else {"run_id": RUN_ID + 1})
    )
    assert comment(path, "--post") == 1
    assert fake.requests == [], "refused before any API call"
    assert "never posted" in capsys.readouterr().err


def test_an_artifact_that_breaks_the_schema_or_is_not_json_is_refused(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = result_file(tmp_path, check={"format": "taxonbot-check/1", "pr_number": 1})
    assert comment(bad, "--post") == 1
    bad.write_text("not json", "utf-8")
    assert comment(bad, "--post") == 1
    err = capsys.readouterr().err
    assert "does not match schemas/result.json" in err and "is not JSON" in err
    assert fake.writes() == []


def test_a_head_with_no_open_pull_request_is_a_quiet_no_op(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    other = "e" * 40
    assert comment(result_file(tmp_path, head_sha=other), "--post", head=other) == 0
    assert fake.writes() == []


def test_the_event_named_pr_saves_the_lookup_but_its_head_is_still_checked(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    """A same-repo PR: the workflow_run event names it, so an unchanged re-run costs two reads
    (the PR, its comments) and no write; a number whose head is another commit gets nothing."""
    path = result_file(tmp_path)
    assert comment(path, "--post", "--pr-number", str(NUMBER)) == 0
    before = len(fake.requests)
    assert comment(path, "--post", "--pr-number", str(NUMBER)) == 0
    rerun = fake.requests[before:]
    assert [r.method for r in rerun] == ["GET", "GET"]
    fake.add_pull(REPO, NUMBER + 1, "f" * 40)
    writes = len(fake.writes())
    assert comment(path, "--post", "--pr-number", str(NUMBER + 1)) == 0
    assert len(fake.writes()) == writes


def test_the_event_file_github_writes_names_the_run_and_the_pr(
    fake: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Actions the job passes only $GITHUB_EVENT_PATH: a real workflow_run payload (from
    ../shared) supplies repository, head SHA and repository, run id and attempt, and the PR."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "github-payloads" / "workflow_run"
    source = shared / "completed.with-pull-requests.payload.json"
    if not source.is_file():
        pytest.skip("the shared webhook payloads are not beside the project")
    event = json.loads(source.read_text("utf-8"))
    run = event["workflow_run"]
    repo, number = event["repository"]["full_name"], run["pull_requests"][0]["number"]
    fake.add_pull(repo, number, run["head_sha"], head_repo=run["head_repository"]["full_name"])
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event), "utf-8")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event_path))
    path = result_file(
        tmp_path, head_sha=run["head_sha"], run_id=run["id"], run_attempt=run["run_attempt"]
    )
    assert main(["comment", "--result", str(path), "--event", str(event_path), "--post"]) == 0
    (posted,) = fake.comments_on(repo, number)
    assert f'"run_id": {run["id"]}' in posted.body
    # An artifact claiming another run of the same head is refused before any API call.
    before = len(fake.requests)
    other = result_file(
        tmp_path, head_sha=run["head_sha"], run_id=run["id"] + 1, run_attempt=run["run_attempt"]
    )
    assert main(["comment", "--result", str(other), "--event", str(event_path), "--post"]) == 1
    assert len(fake.requests) == before


def test_an_unreadable_event_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "event.json"
    broken.write_text("{}", "utf-8")
    assert main(["comment", "--result", str(result_file(tmp_path)), "--event", str(broken)]) == 2
