"""The workflows keep the trust boundary (ARCHITECTURE.md): a maintainer reads these as rules.

- every workflow starts from `permissions: {}` and each job asks for what it needs;
- every action is pinned to a full commit SHA, with the version in a comment;
- no checkout leaves a token behind (`persist-credentials: false`);
- no `pull_request_target`, ever;
- a job holding a write token never expands `${{ ... }}` inside `run:` nor writes
  $GITHUB_ENV / $GITHUB_OUTPUT / $GITHUB_PATH, and never checks out or fetches PR code;
- zizmor (offline) finds nothing, except findings ignored in the file with a stated reason.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOW_DIR.glob("*.yml")) + sorted(WORKFLOW_DIR.glob("*.yaml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(\.\d+)*\s*$")
IGNORE_COMMENT = re.compile(r"#\s*zizmor:\s*ignore\[(?P<rules>[^\]]+)\](?P<reason>.*)$")
EXPRESSION = re.compile(r"\$\{\{")
PR_HEAD = ("workflow_run.head_sha", "workflow_run.head_branch", "pull_request.head")
ENV_FILES = ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH")


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in document:  # YAML 1.1 reads the key `on` as the boolean true
        document["on"] = document.pop(True)
    assert isinstance(document, dict)
    return document


WORKFLOWS = {path.name: _load(path) for path in WORKFLOW_FILES}
ids = pytest.mark.parametrize("name", sorted(WORKFLOWS))


def _triggers(workflow: dict[str, Any]) -> set[str]:
    on = workflow["on"]
    return {on} if isinstance(on, str) else set(on)


def _steps(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def _privileged(job: dict[str, Any]) -> bool:
    """A job that can write anything, or sees a secret."""
    grants = job.get("permissions", {})
    writes = grants == "write-all" or (isinstance(grants, dict) and "write" in grants.values())
    return writes or "secrets." in json.dumps(job)


def _checkouts(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for _, s in _steps(workflow) if s.get("uses", "").startswith("actions/checkout@")]


def test_the_four_workflows_exist() -> None:
    assert {"pr.yml", "comment.yml", "retrain.yml", "release.yml"} <= set(WORKFLOWS)


@ids
def test_top_level_permissions_are_empty_and_every_job_asks_for_its_own(name: str) -> None:
    workflow = WORKFLOWS[name]
    assert workflow["permissions"] == {}, f"{name}: top-level `permissions: {{}}` is required"
    for job_name, job in workflow["jobs"].items():
        grants = job.get("permissions")
        assert isinstance(grants, dict), f"{name}: job {job_name} needs its own permissions map"
        assert set(grants.values()) <= {"read", "write", "none"}


@ids
def test_every_action_is_pinned_to_a_full_sha_with_a_version_comment(name: str) -> None:
    for number, line in enumerate((WORKFLOW_DIR / name).read_text().splitlines(), 1):
        match = USES_LINE.match(line)
        if match is None or match["ref"].startswith("./"):
            continue
        assert PINNED.match(match["ref"]), f"{name}:{number}: not pinned by SHA: {line.strip()}"
        assert VERSION_COMMENT.match(match["rest"]), f"{name}:{number}: add `# vX.Y.Z`"
    for job_name, job in WORKFLOWS[name]["jobs"].items():  # reusable workflows too
        if "uses" in job and not job["uses"].startswith("./"):
            assert PINNED.match(job["uses"]), f"{name}: job {job_name} is not pinned"


@ids
def test_no_checkout_keeps_credentials(name: str) -> None:
    for step in _checkouts(WORKFLOWS[name]):
        assert step.get("with", {}).get("persist-credentials") is False, name


@ids
def test_no_pull_request_target(name: str) -> None:
    assert "pull_request_target" not in _triggers(WORKFLOWS[name])


@ids
def test_privileged_jobs_take_values_through_env_only(name: str) -> None:
    for job_name, job in WORKFLOWS[name]["jobs"].items():
        if not _privileged(job):
            continue
        for step in job.get("steps", []):
            run = step.get("run", "")
            where = f"{name}: job {job_name}, step {step.get('name', run[:40])!r}"
            assert not EXPRESSION.search(run), f"{where}: pass `${{{{ }}}}` values via env:"
            assert not any(f in run for f in ENV_FILES), f"{where}: writes {ENV_FILES}"


def test_the_pull_request_job_holds_no_write_token_and_no_secret() -> None:
    workflow = WORKFLOWS["pr.yml"]
    assert "pull_request" in _triggers(workflow)
    for job_name, job in workflow["jobs"].items():
        assert not _privileged(job), f"pr.yml: job {job_name} must stay read-only"


def test_the_comment_job_never_touches_pull_request_code() -> None:
    workflow = WORKFLOWS["comment.yml"]
    assert _triggers(workflow) == {"workflow_run"}
    assert workflow["on"]["workflow_run"]["types"] == ["completed"]
    for step in _checkouts(workflow):
        settings = step.get("with", {})
        # No ref and no repository: the default branch at the triggering commit.
        assert "ref" not in settings and "repository" not in settings
        assert not any(head in json.dumps(settings) for head in PR_HEAD)
    for job_name, step in _steps(workflow):
        run = step.get("run", "")
        assert not re.search(r"\bgit\s+(fetch|pull|checkout|clone)\b|\bgh\s+pr\b", run), job_name


def test_the_comment_job_keeps_the_artifact_out_of_the_workspace() -> None:
    downloads = [
        step
        for _, step in _steps(WORKFLOWS["comment.yml"])
        if step.get("uses", "").startswith("actions/download-artifact@")
    ]
    assert downloads
    for step in downloads:
        assert step["with"]["path"].startswith("${{ runner.temp }}/")


def test_the_comment_job_finds_the_pull_request_from_the_event_not_the_artifact() -> None:
    workflow = WORKFLOWS["comment.yml"]
    (job,) = workflow["jobs"].values()
    assert job["permissions"] == {
        "actions": "read",
        "contents": "read",
        "pull-requests": "write",
    }
    (post,) = [s for s in job["steps"] if "taxonbot comment" in s.get("run", "")]
    # The run's identity and the PR come from the event file GitHub writes, not the artifact.
    assert '--event "$GITHUB_EVENT_PATH"' in post["run"]
    assert set(post["env"]) == {"GITHUB_TOKEN"}


def test_retraining_runs_only_from_main_of_this_repository_behind_a_reviewed_environment() -> None:
    (job,) = WORKFLOWS["retrain.yml"]["jobs"].values()
    assert "!github.event.repository.fork" in job["if"]
    assert "github.ref == 'refs/heads/main'" in job["if"]
    assert job["environment"] == "retrain"
    assert job["runs-on"] == ["self-hosted", "gpu"]
    assert job["permissions"] == {"contents": "read"}


# --------------------------------------------------------------------------- zizmor


def _zizmor() -> str:
    beside_python = Path(sys.executable).with_name("zizmor")
    found = str(beside_python) if beside_python.exists() else shutil.which("zizmor")
    if found is None:
        pytest.skip("zizmor is not installed (pip install -e '.[dev]')")
    return found


def _zizmor_findings(*flags: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [_zizmor(), "--offline", "--format", "json", *flags, str(WORKFLOW_DIR)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # zizmor exits non-zero when it finds something; the JSON says what.
    assert done.stdout.strip(), done.stderr
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def test_zizmor_finds_nothing() -> None:
    findings = _zizmor_findings()
    assert findings == [], json.dumps(findings, indent=1)[:4000]


def test_every_zizmor_finding_is_ignored_where_it_is() -> None:
    """Ignored findings are ignored on their own line, not by a config file nobody reads."""
    for finding in _zizmor_findings("--no-ignores"):
        rule = finding["ident"]
        primary = [loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"]
        for location in primary:
            path = ROOT / location["symbolic"]["key"]["Local"]["verbatim_path"]
            span = location["concrete"]["location"]
            lines = path.read_text().splitlines()
            lines = lines[span["start_point"]["row"] : span["end_point"]["row"] + 1]
            ignored = [m for m in map(IGNORE_COMMENT.search, lines) if m and rule in m["rules"]]
            where = f"{path.name}:{span['start_point']['row'] + 1}"
            assert ignored, f"{where}: zizmor {rule} is neither fixed nor ignored in place"


@ids
def test_every_zizmor_ignore_says_why(name: str) -> None:
    for number, line in enumerate((WORKFLOW_DIR / name).read_text().splitlines(), 1):
        match = IGNORE_COMMENT.search(line)
        if match:
            assert len(match["reason"].split()) >= 3, f"{name}:{number}: say why it is safe"
