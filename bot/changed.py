"""Which taxonomy files a branch changed, for `check` and `preview --changed-since REF`.

One comparison with the merge base (bot.diff: two git processes, whatever the branch length),
then a file-level view of it: the leaves' qna.yaml files that exist now, plus any other YAML the
checker should see (a misnamed file under a taxonomy root, a qna.yaml outside the roots).
"""

from __future__ import annotations

import posixpath

from bot.diff import DiffError, compare, leaves_of, worktree_blobs
from bot.leaf import QNA_NAME, leaf_path

# Callers catch ChangedError; one type, so errors from bot.diff need no translating.
ChangedError = DiffError


def changed_files(ref: str, cwd: str = ".") -> list[str]:
    """Files to check, relative to `cwd`, sorted; deletions are left out."""
    comparison = compare(ref, cwd)
    files = set(leaves_of(comparison, worktree_blobs(comparison)).paths())
    for change in comparison.files:
        if change.status != "deleted" and _other_yaml(change.path):
            files.add(comparison.relative(change.path))
    return sorted(files)


def _other_yaml(path: str) -> bool:
    """A qna.yaml anywhere, or a YAML under a root (the checker flags its wrong name)."""
    name = posixpath.basename(path)
    if name == QNA_NAME:
        return True
    return name.endswith((".yaml", ".yml")) and leaf_path(path).root is not None
