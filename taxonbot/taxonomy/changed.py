"""Which taxonomy files a branch changed, for `check` and `preview --base REF`.

One comparison with the merge base (taxonbot.taxonomy.diff: two git processes, whatever the branch
length),
then a file-level view of it: the leaves' qna.yaml files that exist now, plus anything else the
checker should see (taxonomy.leaf.wants_check: a misnamed or almost-leaf file under a taxonomy
root, a qna.yaml outside the roots; and a symbolic link or a submodule under a root).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from taxonbot.taxonomy.diff import (
    Comparison,
    DiffError,
    FileChange,
    compare,
    leaves_of,
    worktree_blobs,
)
from taxonbot.taxonomy.leaf import GITLINK_MODE, SYMLINK_MODE, in_taxonomy, wants_check

# Callers catch ChangedError; one type, so errors from taxonbot.taxonomy.diff need no translating.
ChangedError = DiffError


def changed_files(ref: str, cwd: str = ".") -> list[str]:
    """Files to check, relative to `cwd`, sorted; deletions are left out."""
    comparison = compare(ref, cwd)
    return files_to_check(comparison, worktree_blobs(comparison))


def files_to_check(comparison: Comparison, blob_of: Callable[[str], str | None]) -> list[str]:
    """The selection itself, pure: the same rule whether git or GitHub's API listed the files
    (`blob_of(path)`: an id of the file as it is now, None when it does not exist)."""
    files = set(leaves_of(comparison, blob_of).paths())
    for change in comparison.files:
        if change.status != "deleted" and _to_check(change):
            files.add(comparison.relative(change.path))
    return sorted(files)


def listed(files: Sequence[FileChange]) -> Comparison:
    """A comparison of files someone else listed (the API), with paths from the repo's top."""
    return Comparison("", "", "", "", "", tuple(files))


def _to_check(change: FileChange) -> bool:
    """Selected by name, or no file at all under a root (the checker says what to do)."""
    linked = change.mode in (SYMLINK_MODE, GITLINK_MODE) and in_taxonomy(change.path)
    return linked or wants_check(change.path)
