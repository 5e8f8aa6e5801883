"""The merge gate: `taxonbot check` on a pull request's files, computed by trusted code.

pr.yml runs the PR's own code, so its verdict is only advisory. comment.yml (default-branch
code, a write token) reads the PR's changed taxonomy files as data through the API, at the head
commit, writes them into a scratch folder, and runs the very same check on them; nothing there
is executed. The result becomes the `taxonbot / check` check run on the head commit, the
`check:*` labels and the comment's verdict.

A changed path under a taxonomy root that `check` would not read (not a leaf's name, not an
attribution.txt) is looked up too: the contents API answers a symbolic link to a folder or a
submodule with no file (`type` "symlink" or "submodule", docs.github.com/rest/repos/contents),
and that is a finding, as `check` finds one in a checkout.

A pull request too large to read in full (GitHub lists at most 3,000 changed files, and we read
at most MAX_TAXONOMY_FILES taxonomy files) never passes: it fails with a finding that says so.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from taxonbot.check.reporters.report import CheckReport
from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_files
from taxonbot.github.port import GitHubPort
from taxonbot.github.records import PullHead, RepoFile
from taxonbot.taxonomy.changed import files_to_check, listed
from taxonbot.taxonomy.diff import FileChange
from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME, in_taxonomy, wants_check

MAX_LISTED_FILES = 3000  # "List pull requests files" returns at most 3,000 files
MAX_TAXONOMY_FILES = 300  # files read through the API for one pull request
# GitHub's file statuses in git's words (taxonbot/taxonomy/diff.py's); "copied" is a new file, as
# git -C says.
STATUS = {"added": "added", "copied": "added", "removed": "deleted", "renamed": "renamed"}


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
    changes = [
        FileChange(STATUS.get(f.status, "changed"), f.path, f.old_path, "listed") for f in listing
    ]
    fetched: dict[str, RepoFile | None] = {}

    def read(path: str) -> RepoFile | None:  # each file once, at the head commit
        if path not in fetched:
            fetched[path] = port.file_at(repo, path, pull.head_sha)
        return fetched[path]

    def blob_of(path: str) -> str | None:  # does it exist at the head? (attribution-only changes)
        return "fetched" if read(path) is not None else None

    targets = [t for t in files_to_check(listed(changes), blob_of) if safe_path(t)]
    others = [c.path for c in changes if _maybe_no_file(c) and safe_path(c.path)]
    if len(targets) + len(others) > MAX_TAXONOMY_FILES:
        return _too_large(len(targets) + len(others), "taxonomy files", MAX_TAXONOMY_FILES)
    unreadable = [_unreadable(path) for path in others if read(path) is None]
    for path in targets:
        found = read(path)
        if found is None:
            unreadable.append(_unreadable(path))
            continue
        _write(workdir, found)
        side = read(posixpath.join(posixpath.dirname(path), ATTRIBUTION_NAME))
        if side is not None:
            _write(workdir, side)
    readable = [t for t in targets if fetched.get(t) is not None]
    with _inside(workdir):
        findings = check_files(readable, options)
    files = tuple(targets) + tuple(p for p in others if fetched.get(p) is None)
    report = CheckReport(files, tuple(findings) + tuple(unreadable), "changed")
    return Gate(report, too_large=False)


def _maybe_no_file(change: FileChange) -> bool:
    """A path under a root the check would not read: it may be a folder link or a submodule."""
    name = posixpath.basename(change.path)
    return (
        change.status != "deleted"
        and in_taxonomy(change.path)
        and not wants_check(change.path)
        and name != ATTRIBUTION_NAME
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
