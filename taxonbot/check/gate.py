"""The merge gate: `taxonbot check` on a pull request's files, computed by trusted code.

pr.yml runs the PR's own code, so its verdict is only advisory. comment.yml (default-branch
code, a write token) reads the PR's changed taxonomy files as data through the API, at the head
commit, writes them into a scratch folder, and runs the very same check on them; nothing there
is executed. The result becomes the `taxonbot / check` check run on the head commit, the
`check:*` labels and the comment's verdict.

What each path is comes from git's modes in the head commit's tree (gatetree.py), since the
contents API answers a symbolic link to a file with that file's content: a link (to a file or a
folder) or a submodule is placed in the scratch folder as a checkout has it, and `check` reports
it as it does locally (`file.symlink`, `path.symlink`, `path.submodule`, `attribution.missing`).
A changed path under a taxonomy root that `check` would not read (not a leaf's name, not an
attribution.txt) is looked up the same way. A path whose mode GitHub's answers do not give (a cut
listing of a huge repository) is a finding, `gate.unverified`, never a guess.

A pull request too large to read in full (GitHub lists at most 3,000 changed files, and we read
at most MAX_TAXONOMY_FILES taxonomy files) never passes: it fails with a finding that says so.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from taxonbot.check.gatetree import UNKNOWN, modes_at, place
from taxonbot.check.reporters.report import CheckReport
from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_files
from taxonbot.github.port import GitHubPort
from taxonbot.github.records import PullFile, PullHead, RepoFile
from taxonbot.taxonomy.changed import files_to_check, listed
from taxonbot.taxonomy.diff import FileChange
from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME, QNA_NAME, in_taxonomy

MAX_LISTED_FILES = 3000  # "List pull requests files" returns at most 3,000 files
MAX_TAXONOMY_FILES = 300  # files read through the API for one pull request
# GitHub's file statuses in git's words (taxonbot/taxonomy/diff.py's); "copied" is a new file, as
# git -C says.
STATUS = {"added": "added", "copied": "added", "removed": "deleted", "renamed": "renamed"}
LEAF_FILES = (QNA_NAME, ATTRIBUTION_NAME)


@dataclass(frozen=True)
class Gate:
    report: CheckReport
    too_large: bool  # not everything could be read: the gate fails, whatever was found


def trusted_check(
    port: GitHubPort, repo: str, pull: PullHead, workdir: str, options: CheckOptions
) -> Gate:
    """Read the PR's changed taxonomy files at its head into `workdir` and check them there."""
    if pull.changed_files > MAX_LISTED_FILES:
        return _too_large(pull.changed_files, "changed files", MAX_LISTED_FILES)
    listing = port.pull_files(repo, pull.number)
    if len(listing) >= MAX_LISTED_FILES:
        return _too_large(len(listing), "changed files", MAX_LISTED_FILES)
    listed_paths = [f.path for f in listing if f.status != "removed" and in_taxonomy(f.path)]
    modes = modes_at(port, repo, pull.head_sha, _neighbours(listed_paths))
    changes = [_change(f, modes.get(f.path)) for f in listing]

    def blob_of(path: str) -> str | None:  # does it exist at the head? (attribution-only changes)
        return None if modes.get(path) is None else "listed"

    targets = [t for t in files_to_check(listed(changes), blob_of) if safe_path(t)]
    others = [c.path for c in changes if _maybe_no_file(c, targets) and safe_path(c.path)]
    if len(targets) + len(others) > MAX_TAXONOMY_FILES:
        return _too_large(len(targets) + len(others), "taxonomy files", MAX_TAXONOMY_FILES)
    scratch = _Scratch(port, repo, pull.head_sha, workdir, modes)
    for path in others:  # a plain file there is no finding; what the tree does not show is
        scratch.unreadable.append(_unverified(path) if modes.get(path) else _unreadable(path))
    checked = [path for path in targets if scratch.copy(path, needed=True)]
    for path in checked:
        scratch.copy(posixpath.join(posixpath.dirname(path), ATTRIBUTION_NAME), needed=False)
    with _inside(workdir):
        findings = check_files(checked, options)
    report = CheckReport((*targets, *others), (*findings, *scratch.unreadable), "changed")
    return Gate(report, too_large=False)


def _neighbours(paths: list[str]) -> list[str]:
    """Each path, and the leaf files beside it: what the gate may read (a listed
    attribution.txt brings in its qna.yaml, a qna.yaml its attribution.txt)."""
    folders = {posixpath.dirname(path) for path in paths}
    beside = (posixpath.join(f, name) for f in sorted(folders) for name in LEAF_FILES)
    return list(dict.fromkeys([*paths, *beside]))


def _change(listed: PullFile, mode: str | None) -> FileChange:
    """A listed file as git's diff would show it, with its mode at the head where the tree
    gave one (the selection picks links and submodules by it, as it does in a checkout)."""
    status = STATUS.get(listed.status, "changed")
    known = mode if mode not in (None, UNKNOWN) else ""
    return FileChange(status, listed.path, listed.old_path, "listed", known or "")


class _Scratch:
    """The scratch folder `check` runs in: each path as the head commit has it."""

    def __init__(
        self, port: GitHubPort, repo: str, sha: str, workdir: str, modes: dict[str, str | None]
    ) -> None:
        self.port, self.repo, self.sha, self.workdir, self.modes = port, repo, sha, workdir, modes
        self.unreadable: list[Finding] = []

    def copy(self, path: str, needed: bool) -> bool:
        """Write, link or place `path`; False (with a finding when `needed`) where it can't."""
        mode = self.modes.get(path)
        if mode == UNKNOWN:
            self.unreadable.append(_unverified(path))
            return False
        if mode is not None and place(self.workdir, path, mode):
            return True
        found = self.port.file_at(self.repo, path, self.sha) if mode or needed else None
        if found is None:
            if needed:
                self.unreadable.append(_unreadable(path))
            return False
        _write(self.workdir, found)
        return True


def _maybe_no_file(change: FileChange, targets: list[str]) -> bool:
    """A listed path under a root that is no plain file the tree shows, and that check does
    not read: it is gone at the head, or GitHub's answers did not say what it is."""
    return (
        change.status != "deleted"
        and in_taxonomy(change.path)
        and not change.mode
        and change.path not in targets
        and posixpath.basename(change.path) != ATTRIBUTION_NAME
    )


def safe_path(path: str) -> bool:
    """A repository path we may create under the scratch folder (git forbids the rest anyway)."""
    parts = path.split("/")
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and "\0" not in path
        and (not any(p in ("", ".", "..") for p in parts))
    )


def combine(gates: Sequence[Gate]) -> Gate:
    """One verdict for a commit that heads several PRs: every finding of each, once."""
    files = tuple(dict.fromkeys(f for g in gates for f in g.report.files))
    findings = tuple(dict.fromkeys(f for g in gates for f in g.report.findings))
    return Gate(CheckReport(files, findings, "changed"), any(g.too_large for g in gates))


def _write(workdir: str, found: RepoFile) -> None:
    target = os.path.join(workdir, *found.path.split("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "wb") as handle:
        if found.data is not None:
            handle.write(found.data)
        else:  # over 1 MB: GitHub sends no content; the loader reports the size from this
            handle.truncate(found.size)


@contextlib.contextmanager
def _inside(folder: str) -> Iterator[None]:
    """check reads files by their repository paths, as it does in a checkout."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _too_large(count: int, what: str, limit: int) -> Gate:
    finding = error(
        "gate.too-large",
        ".",
        Position(1, 1),
        f"This pull request has {count:,} {what}; taxonbot reads at most {limit:,}, so it "
        "cannot be analysed in full and cannot pass the check.",
        "Split it into smaller pull requests (one leaf or a few each), or ask a maintainer to "
        "review it by hand.",
    )
    return Gate(CheckReport((), (finding,), "changed"), too_large=True)


def _unreadable(path: str) -> Finding:
    return error(
        "gate.unreadable",
        path,
        Position(1, 1),
        "taxonbot could not read this file at the pull request's head commit through GitHub's "
        "API: it is not a regular file there (a symbolic link, a folder or a submodule), so "
        "nothing behind it is checked or trained on.",
        "Replace a symbolic link with the real folders and files, remove a submodule "
        "(`git rm PATH`), and commit plain files: a leaf's folder holds qna.yaml and "
        "attribution.txt.",
    )


def _unverified(path: str) -> Finding:
    return error(
        "gate.unverified",
        path,
        Position(1, 1),
        "taxonbot could not tell from GitHub's API whether this path is a regular file, a "
        "symbolic link or a submodule at the pull request's head commit (the repository's tree "
        "is too large to list in full), so it cannot vouch for it.",
        "Ask a maintainer to check the path by hand (`git ls-tree HEAD PATH` shows its mode: "
        "100644 is a plain file), or split the pull request so it touches fewer folders.",
    )


def unrecognised_group(branch: str) -> Gate:
    """A merge-queue run taxonbot cannot tie to one open pull request: fail closed."""
    finding = error(
        "gate.merge-group",
        ".",
        Position(1, 1),
        f"taxonbot could not tie the merge queue's branch {branch[:120]!r} to an open pull "
        "request into this repository, so it cannot vouch for this merge group.",
        "Remove the pull request from the merge queue and add it again; if this repeats, "
        "report it to the taxonbot maintainers.",
    )
    return Gate(CheckReport((), (finding,), "changed"), too_large=True)
