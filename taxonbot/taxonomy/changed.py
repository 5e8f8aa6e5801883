"""Which taxonomy files a branch changed, for `check` and `preview --base REF`.

One comparison with the merge base (taxonbot.taxonomy.diff: two git processes, whatever the branch
length),
then a file-level view of it: the leaves' qna.yaml files that exist now, plus any other YAML the
checker should see (a misnamed file under a taxonomy root, a qna.yaml outside the roots).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from taxonbot.taxonomy.diff import (
    Comparison,
    DiffError,
    FileChange,
    compare,
    leaves_of,
    worktree_blobs,
)
from taxonbot.taxonomy.leaf import QNA_NAME, leaf_path

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
        if change.status != "deleted" and _other_yaml(change.path):
            files.add(comparison.relative(change.path))
    return sorted(files)


def listed(files: Sequence[FileChange]) -> Comparison:
    """A comparison of files someone else listed (the API), with paths from the repo's top."""
    return Comparison("", "", "", "", "", tuple(files))


def _other_yaml(path: str) -> bool:
    """A qna.yaml anywhere, or a YAML under a root (the checker flags its wrong name)."""
    name = posixpath.basename(path)
    if name == QNA_NAME:
        return True
    return name.endswith((".yaml", ".yml")) and leaf_path(path).root is not None
