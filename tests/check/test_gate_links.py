"""A symbolic link or a submodule in a pull request: the merge gate finds what `taxonbot check`
finds in a checkout, word for word.

GitHub's contents API answers a link to a file with that file's content, so the gate would read a
`qna.yaml` link as a plain leaf; the tree (`GET /git/trees/{sha}?recursive=1`) shows git's mode.
Each story builds a real repository (tests/support/git.py), runs `taxonbot check --base main`
in it, mirrors the same commit into the HTTP fake of GitHub (tests/doubles/fake_github.py) and
runs the gate through the PyGithub adapter: the findings must be equal, rule, line, column and
message. A repository too large for one tree listing (`truncated`) is read folder by folder;
where even that cannot tell, the gate says so (`gate.unverified`) and fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.check import gatetree
from taxonbot.check.gate import trusted_check
from taxonbot.check.rules.context import CheckOptions
from taxonbot.cli.main import main
from taxonbot.github.memory import InMemoryGitHub
from taxonbot.github.port import GitHubPort
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.github.records import GitTree
from tests.doubles.fake_github import APP_TOKEN, FakeGitHub, no_proxies, serve
from tests.support.git import Repo

from .conftest import LIMERICK, VALID

NEW = "compositional_skills/writing/freeform/haiku"
REPO, BASE, HEAD = "community/taxonomy", "b" * 40, "c" * 40
Found = tuple[str, str, int, int, str]


def qna_link(repo: Repo) -> None:
    """The leaf's qna.yaml is a link to another leaf's: the contents API would serve that."""
    (repo.root / NEW).mkdir(parents=True)
    (repo.root / NEW / "qna.yaml").symlink_to("../limerick/qna.yaml")
    shutil.copy(repo.root / LIMERICK / "attribution.txt", repo.root / NEW)


def attribution_link(repo: Repo) -> None:
    (repo.root / NEW).mkdir(parents=True)
    shutil.copy(repo.root / LIMERICK / "qna.yaml", repo.root / NEW)
    (repo.root / NEW / "attribution.txt").symlink_to("../limerick/attribution.txt")


def folder_link(repo: Repo) -> None:
    (repo.root / NEW).symlink_to("limerick", target_is_directory=True)


def odd_name_link(repo: Repo) -> None:
    """A link named like an almost-leaf, to a file: no leaf, and no file either."""
    (repo.root / NEW).mkdir(parents=True)
    (repo.root / NEW / "notes.md").symlink_to("../limerick/qna.yaml")


STORIES: dict[str, tuple[Callable[[Repo], None], list[tuple[str, str, str]]]] = {
    "qna.yaml links to a file": (qna_link, [("file.symlink", f"{NEW}/qna.yaml", "symbolic")]),
    "attribution.txt links to a file": (
        attribution_link,
        [
            ("path.symlink", f"{NEW}/attribution.txt", "is a symbolic link"),
            ("attribution.missing", f"{NEW}/qna.yaml", "no readable attribution.txt"),
        ],
    ),
    "a folder link": (folder_link, [("path.symlink", NEW, "is a symbolic link")]),
    "a link to a file under another name": (
        odd_name_link,
        [("path.symlink", f"{NEW}/notes.md", "is a symbolic link")],
    ),
}


def local_findings(capsys: pytest.CaptureFixture[str]) -> list[Found]:
    assert main(["check", "--format", "json", "--base", "main"]) == 1
    body = json.loads(capsys.readouterr().out)
    return [_found(f) for f in body["findings"]]


def _found(f: dict[str, Any]) -> Found:
    return (f["rule"], f["path"].removeprefix("./"), f["line"], f["col"], f["message"])


def tree_of(repo: Repo, ref: str) -> dict[str, tuple[str, bytes]]:
    """path -> (git's mode, the blob's bytes: a link's target for a link), as git stores it."""
    found = {}
    for line in repo.git("ls-tree", "-r", "-z", ref).split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            mode, _, blob = meta.split()
            data = subprocess.run(
                ["git", "cat-file", "blob", blob], cwd=repo.root, capture_output=True, check=True
            ).stdout
            found[path] = (mode, data)
    return found


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    no_proxies(monkeypatch)
    with serve() as server:
        yield server


def mirror(fake: FakeGitHub, repo: Repo) -> None:
    """main at BASE, the branch's commit at HEAD, as pull request #12 from a fork."""
    base, head = tree_of(repo, "main"), tree_of(repo, "HEAD")
    fake.add_commit(REPO, BASE, {p: d for p, (_, d) in base.items()})
    fake.add_pull(REPO, 12, HEAD, head_repo="contributor/taxonomy")
    changed: dict[str, bytes | None] = {p: d for p, (m, d) in head.items() if base.get(p) != (m, d)}
    fake.set_files(REPO, 12, changed | {p: None for p in base if p not in head})
    for path, (mode, data) in head.items():
        if mode == "120000":
            fake.no_file(HEAD, path, "symlink", data.decode())


def gate_findings(port: GitHubPort, tmp_path: Path) -> list[Found]:
    pull = port.pull_head(REPO, 12)
    assert pull is not None
    work = tmp_path / "gate"
    work.mkdir()
    gate = trusted_check(port, REPO, pull, str(work), CheckOptions(changed=True))
    return [(f.rule, f.path, f.pos.line, f.pos.col, f.message) for f in gate.report.findings]


def adapter(fake: FakeGitHub) -> PyGithubAdapter:
    return PyGithubAdapter(
        APP_TOKEN, fake.url, seconds_between_requests=None, seconds_between_writes=None
    )


@pytest.mark.parametrize("story", list(STORIES))
def test_the_gate_finds_what_check_finds_in_a_checkout(
    story: str,
    repo: Repo,
    fake: FakeGitHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    arrange, expected = STORIES[story]
    arrange(repo)
    repo.commit(story)
    local = local_findings(capsys)
    assert [(r, p) for r, p, *_ in local] == [(r, p) for r, p, _ in expected]
    assert all(
        says in f[4] and f[2:4] == (1, 1) for f, (_, _, says) in zip(local, expected, strict=True)
    )
    mirror(fake, repo)
    with adapter(fake) as port:
        assert gate_findings(port, tmp_path) == local


def test_a_truncated_tree_is_read_folder_by_folder(
    repo: Repo, fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GitHub cuts a recursive listing past 100,000 entries or 7 MB (`truncated: true`); the
    fake cuts this one after 3 entries, and the gate still finds the link."""
    qna_link(repo)
    repo.commit("link")
    local = local_findings(capsys)
    mirror(fake, repo)
    fake.tree_max_entries = 3
    with adapter(fake) as port:
        assert gate_findings(port, tmp_path) == local
    reads = [r for r in fake.requests if "/git/trees/" in r.path]
    assert "recursive" in reads[0].query and len(reads) > 1
    assert not any("recursive" in r.query for r in reads[1:]), "then one folder at a time"


class CutTrees(InMemoryGitHub):
    """Every listing cut short and empty: GitHub's answers never say what a path is."""

    def git_tree(self, repo: str, tree_sha: str, recursive: bool) -> GitTree | None:
        super().git_tree(repo, tree_sha, recursive)
        return GitTree((), truncated=True)


def test_a_path_no_listing_shows_fails_the_gate_saying_so(tmp_path: Path) -> None:
    path = f"{NEW}/qna.yaml"
    gh = CutTrees()
    gh.add_pull(REPO, 12, HEAD, files={path: (VALID / LIMERICK / "qna.yaml").read_bytes()})
    (found,) = gate_findings(gh, tmp_path)
    assert found[:4] == ("gate.unverified", path, 1, 1)
    assert "could not tell from GitHub's API whether this path is a regular file" in found[4]


def test_the_walk_stops_at_its_cap_and_says_it_could_not_tell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, HEAD, files={f"{NEW}/qna.yaml": b"x", f"{LIMERICK}/qna.yaml": b"y"})
    real = gh.git_tree

    def cut(repo: str, tree_sha: str, recursive: bool) -> GitTree | None:
        tree = real(repo, tree_sha, recursive)
        return GitTree((), truncated=True) if recursive or tree is None else tree

    monkeypatch.setattr(gh, "git_tree", cut)
    monkeypatch.setattr(gatetree, "MAX_TREE_READS", 4)  # root, compositional_skills, ...
    modes = gatetree.modes_at(gh, REPO, HEAD, [f"{NEW}/qna.yaml", f"{LIMERICK}/qna.yaml", "x/y"])
    assert modes == {
        f"{NEW}/qna.yaml": gatetree.UNKNOWN,  # the fifth folder: past the cap
        f"{LIMERICK}/qna.yaml": gatetree.UNKNOWN,
        "x/y": None,  # the root lists no `x`, and the root's listing is whole
    }


def test_an_in_memory_link_to_a_file_is_served_as_the_file_and_listed_as_a_link() -> None:
    """InMemoryGitHub answers as GitHub does: the contents of a link to a plain file are the
    file's; the tree shows mode 120000."""
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, HEAD, files={f"{LIMERICK}/qna.yaml": b"version: 3\n"})
    gh.add_link(REPO, HEAD, f"{NEW}/qna.yaml", "../limerick/qna.yaml")
    found = gh.file_at(REPO, f"{NEW}/qna.yaml", HEAD)
    assert found is not None and found.data == b"version: 3\n"
    tree = gh.git_tree(REPO, HEAD, recursive=True)
    assert tree is not None
    modes = {e.path: e.mode for e in tree.entries}
    assert modes[f"{NEW}/qna.yaml"] == "120000" and modes[NEW] == "040000"
    assert modes[f"{LIMERICK}/qna.yaml"] == "100644"
