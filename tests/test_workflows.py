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

from tests.support.git import Repo, pinned

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


# The first major of each action whose action.yml says `runs: using: node24` (read from the
# actions' own repositories, tag by tag); hosted runners removed Node 20 (ARCHITECTURE.md).
NODE24_SINCE = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/cache": 5,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 7,
}


@ids
def test_every_github_action_is_a_node24_release(name: str) -> None:
    for number, line in enumerate((WORKFLOW_DIR / name).read_text().splitlines(), 1):
        match = USES_LINE.match(line)
        if match is None or not match["ref"].startswith("actions/"):
            continue
        action = match["ref"].split("@")[0]
        major = int(re.findall(r"v(\d+)", match["rest"])[0])
        assert action in NODE24_SINCE, f"{name}:{number}: {action}: which release runs Node 24?"
        assert major >= NODE24_SINCE[action], f"{name}:{number}: {action} v{major} runs Node 20"


SAME_ACTION_SAME_PIN = "one SHA per action across the workflows"


def test_each_action_has_one_pin_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in WORKFLOW_FILES:
        for line in path.read_text().splitlines():
            match = USES_LINE.match(line)
            if match is not None and "@" in match["ref"]:
                action, sha = match["ref"].split("@")
                pins.setdefault(action, set()).add(sha)
    assert all(len(shas) == 1 for shas in pins.values()), (SAME_ACTION_SAME_PIN, pins)


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
        "checks": "write",  # the merge gate: the `taxonbot / check` check run
        "contents": "read",
        "issues": "write",  # adding a label the repository lacks creates it: issues only
        "pull-requests": "write",
    }
    (post,) = [s for s in job["steps"] if "taxonbot comment" in s.get("run", "")]
    # The run's identity and the PR come from the event file GitHub writes, not the artifact;
    # the step runs whether or not an artifact came (the gate must report either way).
    assert '--event "$GITHUB_EVENT_PATH"' in post["run"]
    assert "--post" in post["run"] and "if" not in post
    assert set(post["env"]) == {"GITHUB_TOKEN"}


def test_the_gate_publishing_job_holds_checks_write_and_runs_no_pull_request_code() -> None:
    """The check-run job is the merge gate: it runs default-branch code on a workflow_run, so
    its checkout takes no ref, nothing fetches or installs PR code, and it publishes for
    pull requests and merge queues alike (a merge group's required check must report too)."""
    (job,) = WORKFLOWS["comment.yml"]["jobs"].values()
    assert job["permissions"]["checks"] == "write"
    assert "merge_group" in job["if"] and "pull_request" in job["if"]
    for step in job["steps"]:
        assert "ref" not in step.get("with", {}), step
        run = step.get("run", "")
        # setup.sh installs the default branch's own lock file and package, nothing else
        assert (
            re.fullmatch(
                r"bash scripts/setup\.sh bot|\.venv/bin/taxonbot comment[^|;&]*",
                " ".join(run.split()),
            )
            or not run
        ), run


def test_every_pull_request_runs_pr_yml_so_the_required_gate_never_stays_pending() -> None:
    on = WORKFLOWS["pr.yml"]["on"]
    assert on["pull_request"] in (None, {}) or "paths" not in on["pull_request"]
    assert "paths-ignore" not in (on["pull_request"] or {})
    assert "merge_group" in on  # a merge queue's commits need the gate too
    (job,) = WORKFLOWS["pr.yml"]["jobs"].values()
    assert "merge_group.base_sha" in job["env"]["BASE_SHA"]
    assert "merge_group.head_sha" in job["env"]["HEAD_SHA"]


def test_a_push_whose_before_is_all_zeros_or_unknown_audits_the_whole_tree() -> None:
    """`before` is 40 zeros for a new branch and unreachable after a force-push: the Base step
    validates it with git before anything compares with it; every comparison uses its output."""
    (job,) = WORKFLOWS["pr.yml"]["jobs"].values()
    (base,) = [s for s in job["steps"] if s.get("id") == "base"]
    assert "0" * 40 in base["run"] and "git cat-file -e" in base["run"]
    for step in job["steps"]:
        run = step.get("run", "")
        if re.search(r"taxonbot (check|diff|gaps|preview)\b", run):
            assert "BASE_SHA" not in run, step["name"]


def test_the_bash_base_step_picks_a_known_commit_and_nothing_else(tmp_path: Path) -> None:
    (job,) = WORKFLOWS["pr.yml"]["jobs"].values()
    (base,) = [s for s in job["steps"] if s.get("id") == "base"]
    known = Repo(tmp_path).init().commit("x")
    env = {"PATH": "/usr/bin:/bin", **pinned()}  # what the runner's bash step sees, no more
    for before, expected in ((known, known), ("0" * 40, ""), ("f" * 40, ""), ("HEAD", "")):
        output = tmp_path / "out"
        output.write_text("")
        subprocess.run(
            ["bash", "-c", base["run"]],
            cwd=tmp_path,
            check=True,
            env={**env, "BASE_SHA": before, "GITHUB_OUTPUT": str(output)},
            capture_output=True,
        )
        assert output.read_text() == f"sha={expected}\n", before


def test_an_ordinary_comment_cannot_cancel_a_queued_maintainer_command() -> None:
    """Workflow-level concurrency applies before the job's `if:`, so any comment would join the
    group and replace a queued command; on the job, only real commands join it."""
    workflow = WORKFLOWS["command.yml"]
    assert "concurrency" not in workflow
    (job,) = workflow["jobs"].values()
    assert job["concurrency"]["group"] == "command-${{ github.event.issue.number }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "concurrency" not in WORKFLOWS["comment.yml"]  # the same reason: skipped runs


def test_retraining_runs_only_from_main_of_this_repository_behind_a_reviewed_environment() -> None:
    jobs = WORKFLOWS["retrain.yml"]["jobs"]
    for job in jobs.values():
        assert "!github.event.repository.fork" in job["if"]
        assert "github.ref == 'refs/heads/main'" in job["if"]
    (build,) = [job for job in jobs.values() if job["runs-on"] == ["self-hosted", "gpu"]]
    assert build["environment"] == "retrain"
    assert build["permissions"] == {"contents": "read"}  # the long job holds no write token


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


@ids
def test_every_install_comes_from_the_lock_file(name: str) -> None:
    """What the runner installs is what the tests ran with: scripts/setup.sh installs only the
    hash-pinned requirements/*.txt, never a resolver's fresh pick (`pip install .`)."""
    for job_name, step in _steps(WORKFLOWS[name]):
        run = " ".join(step.get("run", "").split())
        if "pip install" in run:
            assert "--require-hashes" in run, f"{name}: {job_name}: {step.get('name')}"
        if re.search(r"(^|[;&|] *)taxonbot ", run):
            pytest.fail(f"{name}: {job_name}: run .venv/bin/taxonbot, installed from the lock")
