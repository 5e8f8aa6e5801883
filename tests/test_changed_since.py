"""`taxonbot check --changed-since main` in a real git repository (pinned author and dates).

The base branch has three valid leaves. A contributor's branch edits the qna.yaml of one (a
version-2 skill), the attribution.txt of another, and adds a README; the third stays untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import git.cmd as gitcmd
import pytest

from taxonbot.cli.main import main

VALID = Path(__file__).resolve().parent / "data" / "check" / "valid"
LIMERICK = "compositional_skills/writing/freeform/limerick"
OLD_SKILL = "compositional_skills/writing/freeform/old_limerick"
KNOWLEDGE = "knowledge/astronomy/planets/jupiter"
PINNED = {
    "GIT_AUTHOR_NAME": "Jane Doe",
    "GIT_AUTHOR_EMAIL": "jdoe@example.invalid",
    "GIT_AUTHOR_DATE": "2024-05-01T12:00:00+00:00",
    "GIT_COMMITTER_NAME": "Jane Doe",
    "GIT_COMMITTER_EMAIL": "jdoe@example.invalid",
    "GIT_COMMITTER_DATE": "2024-05-01T12:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], check=True, capture_output=True, text=True)
    return done.stdout.strip()


def copy_leaf(case: str, leaf: str, to: str) -> None:
    shutil.copytree(VALID / case / leaf, to)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in [n for n in os.environ if n.startswith("GIT_")]:
        monkeypatch.delenv(name)  # e.g. GIT_DIR when the suite runs from a git hook
    for name, value in PINNED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    git("init", "--quiet", "-b", "main")
    copy_leaf("version_2_skill_in_audit", LIMERICK, OLD_SKILL)
    copy_leaf("limerick_skill", LIMERICK, LIMERICK)
    copy_leaf("knowledge_jupiter", KNOWLEDGE, KNOWLEDGE)
    git("add", "--all")
    git("commit", "--quiet", "-m", "three leaves")

    git("switch", "--quiet", "-c", "contribution")
    qna = Path(OLD_SKILL, "qna.yaml")
    qna.write_text(qna.read_text("utf-8").replace("jdoe", "jroe"), encoding="utf-8")
    attribution = Path(LIMERICK, "attribution.txt")
    attribution.write_text(attribution.read_text("utf-8") + "Revision: v2\n", encoding="utf-8")
    Path("README.md").write_text("# My taxonomy\n", encoding="utf-8")
    git("add", "--all")
    git("commit", "--quiet", "-m", "edit two leaves")
    return tmp_path


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_a_pr_checks_exactly_the_leaves_it_touched(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The edited qna.yaml, and the qna.yaml beside the edited attribution.txt; not the README,
    not the untouched knowledge leaf."""
    code, body = check_json(capsys, "--changed-since", "main")
    assert body["mode"] == "changed"
    assert body["files"] == [f"{LIMERICK}/qna.yaml", f"{OLD_SKILL}/qna.yaml"]
    assert code == 1


def test_a_changed_version_2_skill_must_move_to_version_3(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Touching an old skill in a PR → version.outdated is an error that names the fix; the same
    file in a whole-tree audit is only a warning."""
    code, body = check_json(capsys, "--changed-since", "main")
    found = [(f["rule"], f["severity"], f["path"], f["line"], f["col"]) for f in body["findings"]]
    assert found == [("version.outdated", "error", f"{OLD_SKILL}/qna.yaml", 1, 10)]
    assert "required for files changed in a pull request" in body["findings"][0]["hint"]

    code, body = check_json(capsys)
    assert code == 0
    assert body["mode"] == "audit" and len(body["files"]) == 3
    assert [(f["rule"], f["severity"]) for f in body["findings"]] == [
        ("version.outdated", "warning")
    ]


def test_paths_narrow_the_changed_files(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--changed-since main compositional_skills/.../limerick` checks only that changed leaf."""
    code, body = check_json(capsys, "--changed-since", "main", LIMERICK)
    assert (code, body["files"], body["findings"]) == (0, [f"{LIMERICK}/qna.yaml"], [])


def test_the_diff_costs_two_git_processes_however_long_the_branch(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding the changed files costs one `git rev-parse` (both ends and the merge base) and
    one `git diff`, run through GitPython; thirty more commits on the branch cost nothing more."""
    calls: list[list[str]] = []
    real_execute = gitcmd.Git.execute

    def counting_execute(self: gitcmd.Git, command: Any, *rest: Any, **kwargs: Any) -> Any:
        calls.append([str(part) for part in command])
        return real_execute(self, command, *rest, **kwargs)

    monkeypatch.setattr(gitcmd.Git, "execute", counting_execute)
    check_json(capsys, "--changed-since", "main")
    assert [c[1] for c in calls] == ["rev-parse", "diff"]
    assert "main^{commit}...HEAD" in calls[0]

    for number in range(30):
        Path("README.md").write_text(f"# My taxonomy, take {number}\n", encoding="utf-8")
        subprocess.run(["git", "commit", "--quiet", "-am", f"take {number}"], check=True)
    calls.clear()
    code, body = check_json(capsys, "--changed-since", "main")
    assert [c[1] for c in calls] == ["rev-parse", "diff"]
    assert code == 1
    assert body["files"] == [f"{LIMERICK}/qna.yaml", f"{OLD_SKILL}/qna.yaml"]


def test_a_ref_git_does_not_know_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in the base branch → exit 2, and the message names the ref and how to fetch it."""
    code = main(["check", "--changed-since", "mian"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "`mian`" in err and "git fetch" in err
    assert out == ""
