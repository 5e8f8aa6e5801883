"""Which taxonomy leaves a branch added, changed, renamed or deleted since its merge base.

Cost: two git processes through GitPython, whatever the number of commits on the branch:

1. `git rev-parse --is-shallow-repository --show-toplevel --show-prefix REF^{commit}...HEAD`:
   the symmetric-difference syntax makes rev-parse print HEAD, REF and `^<merge base>` lines,
   so one process resolves both ends and their merge base;
2. `git diff --raw -z -M <merge base> -- <YAML and attribution.txt pathspecs>`: one tree-to-
   working-tree comparison, never a walk over the branch's commits.

(Importing GitPython, once per Python process, also runs `git version` twice: its own probe of
the executable, in `git.refresh()`.)

The comparison includes uncommitted changes to tracked files (staged or not) and files added
with `git add`; untracked files are not seen. CI checkouts are clean, so there it is exactly
the committed branch; locally (pre-commit) it shows what is about to be committed. HEAD may be
detached: the merge base is that of REF and the HEAD commit.

Paths are relative to `repo_dir`, like `git diff --relative`, and only changes below it count.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from taxonbot.errors import CannotRun
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME, QNA_NAME, ROOTS, in_taxonomy, leaf_path

STATUSES = {"A": "added", "C": "added", "D": "deleted", "R": "renamed"}  # others: changed
FETCH_HINT = (
    "the base commit is not in this shallow clone; fetch more history "
    "(actions/checkout with fetch-depth: 0, or `git fetch --unshallow`)"
)
# --no-relative/--no-ext-diff/--no-textconv/-M: a user's diff.* config must not change the output.
DIFF_OPTIONS = (
    "--raw",
    "-z",
    "--no-abbrev",
    "-M",
    "--no-color",
    "--no-relative",
    "--no-ext-diff",
    "--no-textconv",
    "--ignore-submodules=dirty",  # a submodule's own work tree is not ours; a new gitlink is
)
REV_PARSE_OPTIONS = ("--is-shallow-repository", "--show-toplevel", "--show-prefix")
# Relative to repo_dir (so only changes below it), any depth; *.yaml also finds misnamed leaves,
# and everything under a root shows almost-leaf names, symbolic links and submodules.
PATHSPECS = (
    ":(glob,icase)**/*.yaml",
    ":(glob,icase)**/*.yml",
    f":(glob)**/{ATTRIBUTION_NAME}",
    *(f":(glob)**/{root}/**" for root in ROOTS),
)
GIT_TIMEOUT_S = 120


class DiffError(CannotRun):
    """git could not answer; the message says what to do."""


@dataclass(frozen=True)
class LeafChange:
    status: str  # added | changed | renamed | deleted
    path: str  # relative to repo_dir; for a deletion, where the leaf was
    old_path: str | None  # renamed only
    blob: str | None  # git object id of the qna.yaml now (HEAD or working tree); None if deleted
    # The taxonomy root, from the path at the repository's top (repo_dir may sit inside a root).
    root: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ChangedLeaves:
    base: str  # the commit REF names
    merge_base: str
    head: str
    changes: tuple[LeafChange, ...]

    def paths(self) -> list[str]:
        """The qna.yaml files that exist now (not deleted), sorted."""
        return sorted(c.path for c in self.changes if c.status != "deleted")


class FileChange(NamedTuple):  # internal records are NamedTuples: ~0.6 ms less import each
    """One entry of git's raw diff; paths from the repository's top."""

    status: str
    path: str
    old_path: str | None
    blob: str | None  # None: deleted, or a working-tree file git did not hash
    mode: str = ""  # git's mode now (120000: a symbolic link, 160000: a submodule); "": unknown


class Comparison(NamedTuple):
    base: str
    merge_base: str
    head: str
    top: str  # the repository's top folder
    prefix: str  # repo_dir below the top: "" or "dir/sub/"
    files: tuple[FileChange, ...]

    def relative(self, path: str) -> str:
        return posixpath.relpath(path, self.prefix) if self.prefix else path


# ---- pure core: parse git's output, pick the leaves ----------------------------------------


def is_leaf(path: str) -> bool:
    return posixpath.basename(path) == QNA_NAME and leaf_path(path).root is not None


def parse_raw_diff(raw: bytes) -> list[FileChange]:
    """`git diff --raw -z --no-abbrev`: `:mode mode old new STATUS\\0path\\0[new path\\0]`."""
    tokens = raw.decode("utf-8", "surrogateescape").split("\0")
    changes: list[FileChange] = []
    index = 0
    while index < len(tokens) and tokens[index].startswith(":"):
        meta = tokens[index].split(" ")
        letter, blob, mode = meta[4][:1], meta[3], meta[1]
        status = STATUSES.get(letter, "changed")
        if letter in ("R", "C"):
            old, path, index = tokens[index + 1], tokens[index + 2], index + 3
        else:
            old, path, index = None, tokens[index + 1], index + 2
        known = status != "deleted" and blob.strip("0") != ""  # zeros: not hashed by git
        old = old if status == "renamed" else None
        changes.append(FileChange(status, path, old, blob if known else None, mode))
    return changes


def leaves_of(comparison: Comparison, blob_of: Callable[[str], str | None]) -> ChangedLeaves:
    """Leaf-level changes; an attribution.txt change marks its leaf's qna.yaml "changed".

    `blob_of(path)` is the object id of a file as it is now, or None when it does not exist.
    """
    found: dict[str, LeafChange] = {}
    for change in comparison.files:
        leaf = _leaf_change(change)
        if leaf is not None:
            found[leaf.path] = leaf
    gone = {c.old_path for c in found.values() if c.old_path}
    for folder in _attribution_folders(comparison.files):
        qna = posixpath.join(folder, QNA_NAME)
        if is_leaf(qna) and qna not in found and qna not in gone:
            blob = blob_of(qna)
            if blob is not None:
                found[qna] = LeafChange("changed", qna, None, blob)
    changes = (_relative(comparison, found[path]) for path in sorted(found))
    return ChangedLeaves(comparison.base, comparison.merge_base, comparison.head, tuple(changes))


def _leaf_change(change: FileChange) -> LeafChange | None:
    new_leaf = change.status != "deleted" and is_leaf(change.path)
    old_leaf = is_leaf(change.old_path or change.path)
    if change.status == "renamed" and not (new_leaf and old_leaf):
        if new_leaf:  # something outside the taxonomy became a leaf
            return LeafChange("added", change.path, None, change.blob)
        return LeafChange("deleted", change.old_path or "", None, None) if old_leaf else None
    if change.status == "deleted":
        return LeafChange("deleted", change.path, None, None) if old_leaf else None
    return (
        LeafChange(change.status, change.path, change.old_path, change.blob) if new_leaf else None
    )


def _attribution_folders(files: Iterable[FileChange]) -> set[str]:
    folders: set[str] = set()
    for change in files:
        for path in (change.path, change.old_path):
            if path and posixpath.basename(path) == ATTRIBUTION_NAME:
                folders.add(posixpath.dirname(path))
    return folders


def _relative(comparison: Comparison, change: LeafChange) -> LeafChange:
    old = comparison.relative(change.old_path) if change.old_path else None
    root = leaf_path(change.path).root
    return LeafChange(change.status, comparison.relative(change.path), old, change.blob, root)


# ---- adapter: git through GitPython, and the working tree ----------------------------------


def changed_leaves(ref: str, repo_dir: str = ".") -> ChangedLeaves:
    """Leaves changed between the merge base of `ref` and HEAD, and the working tree."""
    comparison = compare(ref, repo_dir)
    return leaves_of(comparison, worktree_blobs(comparison))


def compare(ref: str, repo_dir: str = ".") -> Comparison:
    """Resolve REF, HEAD and their merge base, then diff: two git processes."""
    if not ref or ref.startswith("-") or ".." in ref:
        raise DiffError(f"`{ref}` is not a git ref; pass one branch, tag or commit (not a range).")
    if not os.path.isdir(repo_dir):
        raise DiffError(f"no such folder: {repo_dir}; run taxonbot in a clone of the taxonomy.")
    git = _git(repo_dir)
    symmetric = f"{ref}^{{commit}}...HEAD"  # prints HEAD, REF, then ^<merge base> lines
    status, out, err = run_git(git, "rev-parse", *REV_PARSE_OPTIONS, symmetric)
    if status != 0:
        raise _diagnose(git, ref, repo_dir, err)
    lines = out.decode("utf-8", "surrogateescape").rstrip("\n").split("\n")
    shallow, top, prefix, head, base, *bases = lines
    merge_bases = [b[1:] for b in bases if b.startswith("^")]
    if not merge_bases:
        why = FETCH_HINT if shallow == "true" else "pass the branch this one was made from"
        raise DiffError(f"`{ref}` and HEAD have no merge base (no shared history): {why}.")
    # Criss-cross histories have several merge bases; the first is the one `git merge-base` picks.
    specs = (".",) if in_taxonomy(prefix) else PATHSPECS  # repo_dir inside a root: all of it
    status, raw, err = run_git(git, "diff", *DIFF_OPTIONS, merge_bases[0], "--", *specs)
    if status != 0:
        raise DiffError(f"git diff failed ({_last_line(err)}); see `git status`.")
    files = tuple(parse_raw_diff(raw))
    return fill_blobs(Comparison(base, merge_bases[0], head, top, prefix, files))


def worktree_blobs(comparison: Comparison) -> Callable[[str], str | None]:
    """Object ids of working-tree files, hashed here as `git hash-object` does (no filters)."""
    name = "sha1" if len(comparison.head) == 40 else "sha256"

    def blob_of(path: str) -> str | None:
        return hash_blob(os.path.join(comparison.top, path), name)

    return blob_of


def fill_blobs(comparison: Comparison) -> Comparison:
    """git shows a zero id for a file changed in the working tree; hash those here."""
    blob_of = worktree_blobs(comparison)
    files = tuple(
        f._replace(blob=blob_of(f.path)) if f.blob is None and f.status != "deleted" else f
        for f in comparison.files
    )
    return comparison._replace(files=files)


def hash_blob(file: str, algorithm: str) -> str | None:
    import hashlib  # ~3 ms; only a dirty working tree or an attribution-only change needs it

    try:
        data = os.fsencode(os.readlink(file)) if os.path.islink(file) else _read(file)
    except OSError:
        return None
    digest = hashlib.new(algorithm, b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


def _read(file: str) -> bytes:
    with open(file, "rb") as handle:
        return handle.read()


def _git(repo_dir: str) -> Any:
    try:
        import git  # lazy: ~70 ms, and `taxonbot check` without --base never needs it
    except ImportError as exc:  # GitPython raises this when it cannot run `git version`
        raise DiffError(f"cannot run git ({exc}); install git and put it on PATH.") from exc
    return git.Git(repo_dir)


def run_git(
    git: Any, command: str, *args: str, timeout_s: int = GIT_TIMEOUT_S
) -> tuple[int, bytes, str]:
    """(status, stdout bytes, stderr text) of one git command through GitPython, bounded."""
    from git.exc import GitCommandNotFound

    try:
        status, out, err = getattr(git, command.replace("-", "_"))(
            *args,
            with_extended_output=True,
            with_exceptions=False,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
            # GitPython refuses a timeout on Windows; there git runs unbounded.
            kill_after_timeout=None if os.name == "nt" else timeout_s,
        )
    except GitCommandNotFound as exc:
        raise DiffError(f"cannot run git ({exc}); install git and put it on PATH.") from exc
    text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
    return int(status), out, text


def _diagnose(git: Any, ref: str, repo_dir: str, stderr: str) -> DiffError:
    """The first rev-parse failed: say why, at the cost of one more process (errors only)."""
    if "not a git repository" in stderr:
        where = os.path.abspath(repo_dir)
        return DiffError(
            f"{where} is not inside a git repository; run taxonbot in a clone of the "
            f"taxonomy (`git clone <url>`), or `git init` one."
        )
    if not any(m in stderr for m in ("unknown revision", "bad revision", "ambiguous argument")):
        return DiffError(f"git could not compare with `{ref}` ({_last_line(stderr)}).")
    status, out, _ = run_git(
        git, "rev-parse", "--is-shallow-repository", "--verify", "--quiet", "HEAD^{commit}"
    )
    if status != 0 and out.strip() in (b"true", b"false"):  # HEAD did not verify
        return DiffError("HEAD has no commit yet; commit something or check out a branch first.")
    if out.startswith(b"true"):
        return DiffError(f"git does not know `{ref}` here: {FETCH_HINT}; or check its spelling.")
    return DiffError(
        f"git does not know `{ref}`; fetch it first (e.g. `git fetch origin main`) "
        f"or pass a branch, tag or commit that exists here."
    )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no detail"
