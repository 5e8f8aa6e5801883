"""Files that are almost leaves are findings, in a PR check, the whole-tree audit and the gate.

A contributor commits `qna.YAML`, `qna.yaml ` (a trailing space), `qna.yaml.txt`, a symbolic link
to a leaf folder, or a submodule under a taxonomy root: taxonbot would skip each as a leaf, so
each gets one finding that says what to do (rename it, replace the link, remove the submodule).
The repositories are real (tests/support/git.py); the gate reads the same files through the
in-memory port.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxonbot.check.gate import trusted_check
from taxonbot.check.rules.context import CheckOptions
from taxonbot.cli.main import main
from taxonbot.github.memory import InMemoryGitHub
from taxonbot.github.port import GitHubPort
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.taxonomy.leaf import almost_leaf, wants_check
from tests.doubles.fake_github import APP_TOKEN, no_proxies, serve
from tests.support.git import Repo

from .conftest import LIMERICK, VALID

NEW = "compositional_skills/writing/freeform/haiku"
RENAME = "Rename the file to `qna.yaml`."
LINK = "Replace the link with the real folders and files"
REMOVE = f"Remove the submodule (`git rm {NEW}`)"


@pytest.mark.parametrize(
    "name",
    ["qna.YAML", "qna.yaml ", " qna.yaml", "qna.yml", "QNA.yaml", "qna.yaml.txt", "qna.yaml~"],
)
def test_a_name_meant_as_qna_yaml_is_almost_a_leaf(name: str) -> None:
    assert almost_leaf(name) and wants_check(f"{NEW}/{name}")
    assert not wants_check(f"docs/{name}"), "outside the roots only qna.yaml itself is read"


@pytest.mark.parametrize("name", ["qna.yaml", "attribution.txt", "README.md", "qnas.md", "faq.md"])
def test_other_names_are_not(name: str) -> None:
    assert not almost_leaf(name)
    assert wants_check(f"{NEW}/{name}") == (name == "qna.yaml")


def misnamed(name: str) -> Callable[[Repo], str]:
    def arrange(repo: Repo) -> str:
        (repo.root / NEW).mkdir(parents=True)
        shutil.copy(repo.root / LIMERICK / "qna.yaml", repo.root / NEW / name)
        shutil.copy(repo.root / LIMERICK / "attribution.txt", repo.root / NEW)
        return f"{NEW}/{name}"

    return arrange


def folder_link(repo: Repo) -> str:
    (repo.root / NEW).symlink_to("limerick", target_is_directory=True)
    return NEW


def submodule(repo: Repo) -> str:
    """A real submodule: a second repository, added as `git submodule add` does."""
    other = Repo(repo.root.parent / "other").init()
    other.write("README.md", "another repository\n")
    other.commit("other")
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "--quiet", "../other", NEW)
    return NEW


CASES: dict[str, tuple[Callable[[Repo], str], str, str]] = {
    "upper case": (misnamed("qna.YAML"), "path.filename", RENAME),
    "trailing space": (misnamed("qna.yaml "), "path.filename", "spaces at the start or end"),
    "a .txt suffix": (misnamed("qna.yaml.txt"), "path.filename", RENAME),
    "a backup": (misnamed("qna.yaml~"), "path.filename", RENAME),
    "qna.yml": (misnamed("qna.yml"), "path.filename", RENAME),
    "folder symlink": (folder_link, "path.symlink", LINK),
    "submodule": (submodule, "path.submodule", REMOVE),
}


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)


def only_finding(body: dict[str, Any]) -> tuple[str, str, int, int, str]:
    (finding,) = body["findings"]
    text = f"{finding['message']} {finding['hint']}"
    path = os.path.normpath(finding["path"]).replace(os.sep, "/")
    return finding["rule"], path, finding["line"], finding["col"], text


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("mode", [["--base", "main"], []], ids=["pr", "audit"])
def test_an_almost_leaf_is_one_finding_that_says_what_to_do(
    case: str, mode: list[str], repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    arrange, rule, says = CASES[case]
    path = arrange(repo)
    repo.commit(case)
    code, body = check_json(capsys, *mode)
    assert code == 1
    found_rule, found_path, line, col, text = only_finding(body)
    assert (found_rule, found_path, line, col) == (rule, path, 1, 1)
    assert says in text
    if rule == "path.filename":
        assert repr(path.rsplit("/", 1)[1]) in text, "the message names the file as it is"


def test_a_submodule_not_checked_out_is_found_from_gitmodules(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh clone leaves a submodule's folder empty: `.gitmodules` still names it."""
    submodule(repo)
    repo.commit("submodule")
    repo.git("submodule", "deinit", "--force", "--quiet", NEW)
    assert not any((repo.root / NEW).iterdir())
    for mode in (["--base", "main"], []):
        code, body = check_json(capsys, *mode)
        assert code == 1 and only_finding(body)[:2] == ("path.submodule", NEW)


def test_a_plain_file_under_a_root_is_still_no_finding(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.write(f"{LIMERICK}/notes.md", "# notes\n")
    repo.commit("notes")
    for mode in (["--base", "main"], []):
        code, body = check_json(capsys, *mode)
        assert (code, body["findings"]) == (0, [])


def test_a_pr_check_run_inside_a_root_sees_the_link_too(
    repo: Repo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder_link(repo)
    repo.commit("link")
    monkeypatch.chdir(repo.root / "compositional_skills")
    code, body = check_json(capsys, "--base", "main")
    assert code == 1 and only_finding(body)[:2] == ("path.symlink", "writing/freeform/haiku")


# ---- the merge gate: the same files, read through the API ------------------------------

REPO, SHA = "community/taxonomy", "c" * 40
TOP = "taxonomy"


def gate_findings(gh: GitHubPort, tmp_path: Path) -> list[tuple[str, str]]:
    pull = gh.pull_head(REPO, 12)
    assert pull is not None
    (tmp_path).mkdir()
    gate = trusted_check(gh, REPO, pull, str(tmp_path), CheckOptions(changed=True))
    return [(f.rule, f.path) for f in gate.report.findings]


@pytest.mark.parametrize("name", ["qna.YAML", "qna.yaml ", "qna.yaml.txt", "qna.yml"])
def test_the_gate_fails_an_almost_leaf(name: str, tmp_path: Path) -> None:
    leaf = VALID / LIMERICK
    path = f"{TOP}/{NEW}/{name}"
    files = {path: (leaf / "qna.yaml").read_bytes()}
    files[f"{TOP}/{NEW}/attribution.txt"] = (leaf / "attribution.txt").read_bytes()
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, files=dict(files))
    assert gate_findings(gh, tmp_path / "work") == [("path.filename", path)]


@pytest.mark.parametrize(
    ("mode", "rule"), [("120000", "path.symlink"), ("160000", "path.submodule")]
)
def test_the_gate_fails_a_folder_link_or_a_submodule(mode: str, rule: str, tmp_path: Path) -> None:
    """The PR lists the path; the tree gives its mode, so the gate reports it as `check` does
    in a checkout."""
    path = f"{TOP}/{NEW}"
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, files={path: b"limerick"})
    gh.add_link(REPO, SHA, path, "limerick", mode)
    assert gate_findings(gh, tmp_path / "work") == [(rule, path)]


def test_the_gate_fails_a_listed_path_the_head_does_not_have(tmp_path: Path) -> None:
    path = f"{TOP}/{NEW}"
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, files={path: b"limerick"})
    del gh.contents[(REPO, SHA, path)]
    assert gate_findings(gh, tmp_path / "work") == [("gate.unreadable", path)]


def test_the_gate_reads_a_plain_file_under_a_root_and_passes_it(tmp_path: Path) -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, files={f"{TOP}/{LIMERICK}/notes.md": b"# notes\n"})
    assert gate_findings(gh, tmp_path / "work") == []


@pytest.mark.parametrize(
    ("kind", "target"), [("symlink", "limerick"), ("submodule", "https://example.invalid/x.git")]
)
def test_the_gate_fails_what_the_contents_api_calls_a_symlink_or_a_submodule(
    kind: str, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through PyGithub and the HTTP fake: the files API lists the path, the contents API
    answers `type` symlink or submodule, the tree mode 120000 or 160000
    (tests/doubles/fake_github.py, `no_file`)."""
    no_proxies(monkeypatch)
    path = f"{TOP}/{NEW}"
    with serve() as fake:
        fake.add_pull(REPO, 12, SHA)
        fake.set_files(REPO, 12, {path: target.encode()})
        fake.no_file(SHA, path, kind, target)
        adapter = PyGithubAdapter(
            APP_TOKEN, fake.url, seconds_between_requests=None, seconds_between_writes=None
        )
        with adapter:
            # The tree shows the mode: the finding `check` gives in a checkout.
            rule = "path.symlink" if kind == "symlink" else "path.submodule"
            assert gate_findings(adapter, tmp_path / "work") == [(rule, path)]
