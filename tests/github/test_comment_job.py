"""The comment job end to end: `taxonbot comment` on the workflow_run event GitHub writes, PyGithub
talking over real HTTP to the faithful fake GitHub on loopback, with comment.yml's permissions.

Stories: a fork's PR (the event names no PR; commit -> pulls answers []) gets one comment, the
labels and a failing `taxonbot / check` with one annotation per finding; a same-repository PR
likewise; a PR whose artifact lies gets the trusted verdict and a warning; an unchanged re-run
writes nothing; a missing, foreign, malformed or absurdly nested artifact is a notice, never a
red run, and the gate still reports; a deleted fork's PR, the same head in two PRs, a PR closed
or pushed to meanwhile, a 6,000-file PR, a merge queue; GitHub refusing or failing a request is
one clear line, nothing posted twice, never a false `check:passed`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.comment.checkrun import GATE_NAME
from tests.doubles.fake_github import COMMENT_JOB, FakeGitHub, serve_as_actions
from tests.doubles.payloads import (
    deleted_fork_event,
    event_for_pull,
    fork_pull_event,
    merge_group_event,
    pull_entry,
    same_repo_pull_event,
)

REPO, FORK, NUMBER = "community/taxonomy", "contributor/taxonomy", 12
SHA, RUN_ID, ATTEMPT = "c" * 40, 9001, 1
DATA = Path(__file__).resolve().parents[1] / "comment" / "data"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pull_request"
GOOD = EXAMPLE / "compositional_skills/writing/freeform/email/reschedule_meeting"
LEAF = "taxonomy/compositional_skills/writing/freeform/email/reschedule_meeting"
ERRORS = 12


def leaf_with_errors(errors: int) -> dict[str, bytes | None]:
    """The example's good leaf with `errors` lines ending in a space (one error each)."""
    lines = (GOOD / "qna.yaml").read_text("utf-8").splitlines()
    text = "\n".join(f"{t} " if i < errors else t for i, t in enumerate(lines)) + "\n"
    return {
        f"{LEAF}/qna.yaml": text.encode(),
        f"{LEAF}/attribution.txt": (GOOD / "attribution.txt").read_bytes(),
    }


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serve_as_actions(monkeypatch, REPO, permissions=COMMENT_JOB) as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK)
        server.set_files(REPO, NUMBER, leaf_with_errors(ERRORS))
        yield server


def result_file(tmp_path: Path, **override: Any) -> Path:
    """What pr.yml uploads; by default it reports what the PR's own check found (the data file)."""
    check = json.loads((DATA / "check.json").read_text("utf-8"))
    body = {
        "format": "taxonbot-result/1",
        "head_sha": SHA,
        "run_id": RUN_ID,
        "run_attempt": ATTEMPT,
        "check": check,
        "diff": None,
        "gaps": None,
        "preview": json.loads((DATA / "preview.json").read_text("utf-8")),
    }
    body.update(override)
    path = tmp_path / "result.json"
    path.write_text(json.dumps(body), "utf-8")
    return path


def lying(tmp_path: Path) -> Path:
    """An artifact whose check says all is well: PR code can write anything."""
    check = {
        "format": "taxonbot-check/1",
        "taxonbot": "0.1.0",
        "mode": "changed",
        "files": [f"{LEAF}/qna.yaml"],
        "summary": {"files": 1, "errors": 0, "warnings": 0},
        "findings": [],
    }
    return result_file(tmp_path, check=check)


def run_job(tmp_path: Path, event: dict[str, Any], result: Path | None = None, *extra: str) -> int:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event), "utf-8")
    args = ["comment", "--event", str(path), "--post", *extra]
    return main(args + (["--result", str(result)] if result is not None else []))


def comment(path: Path, *extra: str, head: str = SHA, run_id: int = RUN_ID) -> int:
    """The job run with flags instead of an event file (what other stories reuse)."""
    flags = ["--repo", REPO, "--head-sha", head, "--head-repo", FORK, "--head-branch", "topic"]
    ids = ["--run-id", str(run_id), "--run-attempt", str(ATTEMPT)]
    return main(["comment", "--result", str(path), *flags, *ids, *extra])


def fork_event(**run: Any) -> dict[str, Any]:
    return fork_pull_event(REPO, FORK, head_sha=SHA, run_id=RUN_ID, **run)


def gate(fake: FakeGitHub, sha: str = SHA) -> Any:
    (run,) = [r for r in fake.check_runs_on(REPO, sha) if r.name == GATE_NAME]
    return run


def labels(fake: FakeGitHub, number: int = NUMBER) -> set[str]:
    return set(fake.pulls[(REPO, number)].labels)


# ---- the stories the issue names -------------------------------------------------------------


def test_a_fork_pr_gets_one_comment_labels_and_a_failing_gate_with_every_annotation(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    assert fake.resolve(REPO, SHA) is not None
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    (posted,) = fake.comments_on(REPO, NUMBER)
    assert "12 errors" in posted.body and "Nothing has to change" not in posted.body
    assert labels(fake) == {"check:failed", "kind:skill"}
    check = gate(fake)
    assert (check.status, check.conclusion) == ("completed", "failure")
    assert len(check.annotations) == ERRORS
    assert {a["path"] for a in check.annotations} == {f"{LEAF}/qna.yaml"}
    # The preview is the PR run's own data, and the comment says so.
    assert "computed by this pull request's workflow run and are advisory" in posted.body


def test_a_same_repository_pr_likewise(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_pull(REPO, 30, "d" * 40, head_repo=REPO, head_ref="fix-leaf")
    fake.set_files(REPO, 30, leaf_with_errors(ERRORS))
    event = same_repo_pull_event(REPO, 30, head_sha="d" * 40, head_ref="fix-leaf", run_id=RUN_ID)
    assert run_job(tmp_path, event, result_file(tmp_path, head_sha="d" * 40)) == 0
    assert len(fake.comments_on(REPO, 30)) == 1
    assert labels(fake, 30) == {"check:failed", "kind:skill"}
    assert len(gate(fake, "d" * 40).annotations) == ERRORS


def test_an_artifact_that_lies_gets_the_trusted_verdict_and_a_warning(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    assert run_job(tmp_path, fork_event(), lying(tmp_path)) == 0
    (posted,) = fake.comments_on(REPO, NUMBER)
    assert "check:passed" not in labels(fake) and "check:failed" in labels(fake)
    assert "Nothing has to change" not in posted.body
    assert "reported 0 errors and 0 warnings, but taxonbot's trusted check" in posted.body
    assert gate(fake).conclusion == "failure"


def test_an_unchanged_rerun_makes_no_writes(fake: FakeGitHub, tmp_path: Path) -> None:
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    writes = len(fake.writes())
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    assert len(fake.writes()) == writes
    assert len(fake.check_runs_on(REPO, SHA)) == 1


def test_a_clean_pr_passes_the_gate(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.set_files(REPO, NUMBER, leaf_with_errors(0))
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    assert gate(fake).conclusion == "success" and "check:passed" in labels(fake)
    (posted,) = fake.comments_on(REPO, NUMBER)
    assert "Nothing has to change" in posted.body
    # The artifact's 7 errors are PR code's words: the comment says they differ.
    assert "reported 7 errors" in posted.body


def test_a_dry_run_shows_the_plan_and_writes_nothing(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(fork_event()), "utf-8")
    assert main(["comment", "--event", str(path), "--result", str(result_file(tmp_path))]) == 0
    assert fake.writes() == [] and fake.comments_on(REPO, NUMBER) == []
    assert "would apply" in capsys.readouterr().out


# ---- the artifact: data from PR code ----------------------------------------------------------


@pytest.mark.parametrize("field", ["head", "run", "attempt"])
def test_an_artifact_for_another_head_run_or_attempt_is_a_notice_and_the_gate_still_reports(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    other = {"head": {"head_sha": "d" * 40}, "run": {"run_id": RUN_ID + 1}}
    path = result_file(tmp_path, **other.get(field, {"run_attempt": ATTEMPT + 1}))
    assert run_job(tmp_path, fork_event(), path) == 0
    out = capsys.readouterr().out
    assert "::notice::" in out and "never shown" in out
    (posted,) = fake.comments_on(REPO, NUMBER)
    assert "left no results this comment can use" in posted.body
    assert "Sample pairs" not in posted.body  # the foreign preview is not shown
    assert gate(fake).conclusion == "failure" and "check:failed" in labels(fake)


def test_no_artifact_at_all_is_a_notice(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_job(tmp_path, fork_event(), tmp_path / "absent" / "result.json") == 0
    assert "uploaded no result.json" in capsys.readouterr().out
    assert len(fake.comments_on(REPO, NUMBER)) == 1 and gate(fake).conclusion == "failure"


@pytest.mark.parametrize("kind", ["schema", "not-json", "nested"])
def test_a_malformed_artifact_is_refused_cleanly_and_the_gate_still_reports(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = result_file(tmp_path, check={"format": "taxonbot-check/1", "pr_number": 1})
    if kind == "not-json":
        path.write_text("not json", "utf-8")
    elif kind == "nested":
        path.write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    assert run_job(tmp_path, fork_event(), path) == 0
    said = capsys.readouterr().out
    expected = {
        "schema": "does not match schemas/result.json",
        "not-json": "is not JSON",
        "nested": "nests deeper than Python can read",
    }[kind]
    assert expected in said and "Traceback" not in said
    assert gate(fake).conclusion == "failure"


# ---- finding the pull request ------------------------------------------------------------------


def test_a_hint_naming_another_repositorys_pr_is_not_trusted(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    """The real with-pull-requests payload names a PR of another repository; and pr.yml's
    artifact may name any number. Both are tried, neither is believed without the API."""
    fake.add_pull(REPO, 2, "e" * 40, head_repo=FORK, head_ref="elsewhere")
    other = pull_entry("someone/else", 2, head_sha=SHA)
    event = fork_event(extra_pulls=[other])
    assert run_job(tmp_path, event, result_file(tmp_path, pull_request=2)) == 0
    assert fake.comments_on(REPO, 2) == [] and len(fake.comments_on(REPO, NUMBER)) == 1


def test_a_deleted_forks_pr_is_found_by_its_head(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.delete_fork(REPO, NUMBER)
    event = deleted_fork_event(REPO, head_sha=SHA, run_id=RUN_ID)
    assert run_job(tmp_path, event, result_file(tmp_path)) == 0
    assert len(fake.comments_on(REPO, NUMBER)) == 1 and gate(fake).conclusion == "failure"


def test_the_same_head_in_two_open_prs_gets_both_comments_and_one_gate(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.add_pull(REPO, 14, SHA, head_repo=FORK, head_ref="topic")
    fake.set_files(REPO, 14, leaf_with_errors(ERRORS))
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    assert len(fake.comments_on(REPO, NUMBER)) == len(fake.comments_on(REPO, 14)) == 1
    assert len(fake.check_runs_on(REPO, SHA)) == 1


@pytest.mark.parametrize("change", ["closed", "pushed"])
def test_a_pr_closed_or_pushed_to_while_the_job_runs_gets_nothing(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    if change == "closed":
        fake.close(REPO, NUMBER)
    else:
        fake.push(REPO, NUMBER, "f" * 40)
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    assert fake.writes() == []
    assert "no open pull request" in capsys.readouterr().out


def test_a_pr_closed_between_the_gate_and_the_comment_gets_no_comment(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.before_next("GET", rf"/repos/{REPO}/pulls/{NUMBER}/files", lambda f: f.close(REPO, NUMBER))
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    assert fake.comments_on(REPO, NUMBER) == [] and not labels(fake)


def test_the_event_for_any_pr_the_fake_knows_finds_it(fake: FakeGitHub, tmp_path: Path) -> None:
    event = event_for_pull(fake, REPO, NUMBER, run_id=RUN_ID)
    assert event["workflow_run"]["pull_requests"] == []  # a fork's run names no PR
    assert run_job(tmp_path, event, result_file(tmp_path)) == 0
    assert len(fake.comments_on(REPO, NUMBER)) == 1


# ---- sizes and the merge queue -------------------------------------------------------------


def test_a_pr_of_6000_files_gets_a_comment_saying_it_is_too_large(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    files: dict[str, bytes | None] = {f"docs/page{i}.md": b"x\n" for i in range(6000)}
    fake.set_files(REPO, NUMBER, {**files, **leaf_with_errors(0)})
    assert run_job(tmp_path, fork_event(), None) == 0
    (posted,) = fake.comments_on(REPO, NUMBER)
    assert "6,002 changed files" in posted.body and "cannot be analysed in full" in posted.body
    assert gate(fake).conclusion == "failure" and "check:failed" in labels(fake)


@pytest.mark.parametrize("content", [b"#" * (300 * 1024), bytes(range(256)) * 4])
def test_a_300_kib_or_binary_file_fetched_through_the_api_is_a_finding(
    fake: FakeGitHub, tmp_path: Path, content: bytes
) -> None:
    fake.set_files(REPO, NUMBER, {f"{LEAF}/qna.yaml": content})
    assert run_job(tmp_path, fork_event(), None) == 0
    assert gate(fake).conclusion == "failure" and "check:failed" in labels(fake)


def test_a_merge_queue_gets_the_gate_on_its_own_commit(fake: FakeGitHub, tmp_path: Path) -> None:
    group = "a" * 40
    fake.add_commit(REPO, group, dict(fake.commits[SHA].tree), branch="gh-readonly-queue")
    event = merge_group_event(REPO, NUMBER, head_sha=group, base_sha="0" * 40, run_id=RUN_ID)
    assert run_job(tmp_path, event, None) == 0
    assert gate(fake, group).conclusion == "failure"
    assert len(gate(fake, group).annotations) == ERRORS
    assert fake.comments_on(REPO, NUMBER) == []  # a merge group has no comment


# ---- GitHub saying no ---------------------------------------------------------------------------


def test_labels_the_repository_lacks_need_issues_write_and_the_403_says_so(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.doubles.fake_github import APP_TOKEN

    fake.grant(APP_TOKEN, {**COMMENT_JOB, "issues": "read"})
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "403" in err and "issues: write" in err
    assert "check:passed" not in labels(fake)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("502", rf"/repos/{REPO}/pulls/{NUMBER}/files"),
        ("secondary-rate-limit", rf"/repos/{REPO}/contents/.*"),
        ("store-then-502", rf"/repos/{REPO}/check-runs"),
        ("store-then-502", rf"/repos/{REPO}/issues/{NUMBER}/comments"),
    ],
)
def test_a_failing_request_is_retried_without_posting_twice(
    fake: FakeGitHub, tmp_path: Path, kind: str, path: str
) -> None:
    fake.fail_next(kind, path=path, retry_after=0 if "rate" in kind else None)
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 0
    assert len(fake.comments_on(REPO, NUMBER)) == 1
    assert len(fake.check_runs_on(REPO, SHA)) == 1
    assert gate(fake).conclusion == "failure"


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_github_down_for_good_is_one_line_and_never_a_pass(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    fake.fail_next(status, path=rf"/repos/{REPO}/contents/.*", times=20)
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not answer" in err and "Traceback" not in err
    assert fake.writes() == []


def test_an_unreadable_event_is_a_usage_error(tmp_path: Path) -> None:
    broken = tmp_path / "event.json"
    broken.write_text("{}", "utf-8")
    assert main(["comment", "--result", str(result_file(tmp_path)), "--event", str(broken)]) == 2


def test_a_hint_naming_no_pull_request_at_all_is_a_404_and_passed_over(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    assert run_job(tmp_path, fork_event(), result_file(tmp_path, pull_request=999)) == 0
    assert len(fake.comments_on(REPO, NUMBER)) == 1
    assert any(r.status == 404 and r.path.endswith("/pulls/999") for r in fake.requests)


def test_a_repository_the_token_cannot_see_is_one_line_and_nothing_posted(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.doubles.fake_github import APP_TOKEN

    fake.add_repo(REPO, private=True)
    fake.scope(APP_TOKEN, ["someone/else"])
    assert run_job(tmp_path, fork_event(), result_file(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "404" in err and "can see them" in err and err.count("\n") == 1
    assert fake.writes() == []
