"""What the comment job reads first: whose run it reports on, and that run's artifact.

Stories: a local run missing flags is told which ones (exit 2); a broken event is a usage error
that names the file; an artifact from another attempt, or that is not JSON, is refused with a
sentence that becomes the comment job's notice (never a red run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxonbot.comment.job import (
    ArtifactRefused,
    Job,
    JobError,
    JobFlags,
    read_artifact,
    read_job,
    read_result,
)
from taxonbot.exits import Exit
from taxonbot.github.locate import RunFacts

REPO, SHA = "community/taxonomy", "a" * 40


def test_flags_alone_identify_a_local_run() -> None:
    flags = JobFlags(REPO, SHA, "fork/taxonomy", "fix", 9, 1, pr_number=4)
    assert read_job(None, flags) == Job(RunFacts(REPO, SHA, "fork/taxonomy", "fix", (4,)), 9, 1,
                                        "pull_request")  # fmt: skip


def test_missing_flags_are_named_and_a_usage_error() -> None:
    with pytest.raises(JobError, match=r"^missing --head-sha, --head-repo, --run-attempt$") as e:
        read_job(None, JobFlags(repo=REPO, run_id=9))
    assert e.value.exit == Exit.CANNOT


def test_the_event_wins_over_the_flags_except_repo_and_the_hint(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    run = {"id": 5, "event": "merge_group", "head_sha": SHA, "pull_requests": [{"number": 8}]}
    event.write_text(json.dumps({"repository": {"full_name": REPO}, "workflow_run": run}), "utf-8")
    job = read_job(str(event), JobFlags(repo="given/repo", run_id=1, pr_number=3))
    assert job == Job(RunFacts("given/repo", SHA, None, "", (3, 8)), 5, 1, "merge_group")


@pytest.mark.parametrize("text", ["{}", "not json"], ids=["no-run", "not-json"])
def test_a_broken_event_is_a_usage_error_naming_the_file(tmp_path: Path, text: str) -> None:
    event = tmp_path / "event.json"
    event.write_text(text, "utf-8")
    with pytest.raises(JobError, match=r"event\.json is not") as caught:
        read_job(str(event), JobFlags())
    assert caught.value.exit == Exit.CANNOT


def result(tmp_path: Path, **changes: Any) -> Path:
    body = {
        "format": "taxonbot-result/1", "head_sha": SHA, "run_id": 9, "run_attempt": 1,
        "check": None, "diff": None, "gaps": None, "preview": None, "pull_request": 4,
    } | changes  # fmt: skip
    path = tmp_path / "result.json"
    path.write_text(json.dumps(body), "utf-8")
    return path


def test_this_runs_artifact_is_shown_with_its_hint(tmp_path: Path) -> None:
    job = read_job(None, JobFlags(REPO, SHA, "fork/taxonomy", "", 9, 1))
    artifact = read_artifact(str(result(tmp_path)), job)
    assert artifact.notice is None and artifact.hint == 4
    assert artifact.result is not None and artifact.result["run_id"] == 9


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"run_attempt": 2},
            "an artifact from another run, attempt or pull request is never shown",
        ),
        ({"run_id": "9"}, "does not match schemas/result.json at run_id"),
    ],
    ids=["another-attempt", "invalid"],
)
def test_another_runs_or_an_invalid_artifact_is_refused(
    tmp_path: Path, changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(ArtifactRefused, match=says) as caught:
        read_result(str(result(tmp_path, **changes)), SHA, (9, 1))
    assert caught.value.exit == Exit.NO


def test_a_refused_or_missing_artifact_is_a_notice_not_an_error(tmp_path: Path) -> None:
    job = read_job(None, JobFlags(REPO, SHA, "fork/taxonomy", "", 9, 1))
    broken = tmp_path / "broken.json"
    broken.write_text("[[", "utf-8")
    refused = read_artifact(str(broken), job)
    assert refused.result is None and refused.notice and "is not JSON" in refused.notice
    missing = read_artifact(str(tmp_path / "absent.json"), job)
    assert missing.result is None and missing.notice and "uploaded no result.json" in missing.notice
