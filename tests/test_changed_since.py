"""`taxonbot check --base main` in a real git repository (pinned author and dates).

The base branch has three valid leaves. A contributor's branch edits the qna.yaml of one (a
version-2 skill), the attribution.txt of another, and adds a README; the third stays untouched.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import git.cmd as gitcmd
import pytest

from taxonbot.cli.check import CheckCommand, options
from taxonbot.cli.main import build_parser, main
from tests.support.git import git, pin

VALID = Path(__file__).resolve().parent / "data" / "check" / "valid"
LIMERICK = "compositional_skills/writing/freeform/limerick"
OLD_SKILL = "compositional_skills/writing/freeform/old_limerick"
KNOWLEDGE = "knowledge/astronomy/planets/jupiter"


def copy_leaf(case: str, leaf: str, to: str) -> None:
    shutil.copytree(VALID / case / leaf, to)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pin(monkeypatch, tmp_path)
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
    revised = attribution.read_text("utf-8").replace("Revision: -", "Revision: v2")
    attribution.write_text(revised, encoding="utf-8")  # a second Revision line is a duplicate
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
    code, body = check_json(capsys, "--base", "main")
    assert body["mode"] == "changed"
    assert body["files"] == [f"{LIMERICK}/qna.yaml", f"{OLD_SKILL}/qna.yaml"]
    assert code == 1


def test_a_changed_version_2_skill_must_move_to_version_3(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Touching an old skill in a PR → version.outdated is an error that names the fix; the same
    file in a whole-tree audit is only a warning."""
    code, body = check_json(capsys, "--base", "main")
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
    """`--base main compositional_skills/.../limerick` checks only that changed leaf."""
    code, body = check_json(capsys, "--base", "main", LIMERICK)
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
    check_json(capsys, "--base", "main")
    assert [c[1] for c in calls] == ["rev-parse", "diff"]
    assert "main^{commit}...HEAD" in calls[0]

    for number in range(30):
        Path("README.md").write_text(f"# My taxonomy, take {number}\n", encoding="utf-8")
        git("commit", "--quiet", "-am", f"take {number}")
    calls.clear()
    code, body = check_json(capsys, "--base", "main")
    assert [c[1] for c in calls] == ["rev-parse", "diff"]
    assert code == 1
    assert body["files"] == [f"{LIMERICK}/qna.yaml", f"{OLD_SKILL}/qna.yaml"]


def test_a_ref_git_does_not_know_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in the base branch → exit 2, and the message names the ref and how to fetch it."""
    code = main(["check", "--base", "mian"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "`mian`" in err and "git fetch" in err
    assert out == ""


# ---- one name per concept: --base, as in diff and gaps; --changed-since until taxonbot 0.3 ----


def check_options(*argv: str) -> CheckCommand:
    args = build_parser("check").parse_args(["check", *argv])
    return options(args)


def test_the_old_spelling_parses_to_the_same_options_and_names_the_new_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert check_options("--base", "main", "x") == check_options("--changed-since", "main", "x")
    assert check_options("--changed-since=main").base == "main"
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "--changed-since is now --base" in err
    assert check_options("x").base is None and capsys.readouterr().err == ""


def test_the_old_spelling_is_hidden_from_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--base REF" in out and "--changed-since" not in out


def test_a_pr_checked_with_the_old_spelling_gets_the_same_answer(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = main(["check", "--format", "json", "--changed-since", "main"])
    old_out, err = capsys.readouterr()
    assert "--changed-since is now --base" in err
    assert (old, old_out) == (
        main(["check", "--format", "json", "--base", "main"]),
        capsys.readouterr().out,
    )
