"""What each path the merge gate reads is at the head commit: a plain file, a symbolic link, a
submodule, or nothing, from git's modes as "Get a tree" lists them (docs.github.com/rest/git/trees).

The contents API answers a symbolic link to a file with that file's content
(docs.github.com/rest/repos/contents), so only the tree shows a link for what it is. One
recursive read covers a taxonomy of any realistic size; GitHub cuts a recursive listing at
100,000 entries or 7 MB (`truncated`), and then, as its docs advise, each path's folders are read
one at a time, at most MAX_TREE_READS of them. A path that is still not found in a cut listing is
UNKNOWN: the gate says it could not tell, rather than guessing a plain file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from taxonbot.github.port import GitHubPort
from taxonbot.github.records import TreeEntry
from taxonbot.taxonomy.leaf import GITLINK_MODE, SYMLINK_MODE

FILE_MODES = frozenset({"100644", "100755"})
FOLDER_MODE = "040000"
UNKNOWN = "unknown"  # GitHub's answers did not say (a cut listing, or the read cap reached)
MAX_TREE_READS = 100  # sub-trees read one at a time when the recursive listing is cut
# What a link in the scratch folder points at: nothing, so no check ever reads through it.
NOWHERE = "taxonbot-does-not-follow-links"


def modes_at(port: GitHubPort, repo: str, sha: str, paths: Iterable[str]) -> dict[str, str | None]:
    """git's mode of each path at commit `sha`: None where nothing is there, UNKNOWN where
    GitHub's answers do not say."""
    wanted = list(dict.fromkeys(paths))
    if not wanted:
        return {}
    whole = port.git_tree(repo, sha, recursive=True)
    if whole is None:  # no tree for the head commit: nothing can be vouched for
        return dict.fromkeys(wanted, UNKNOWN)
    listed = {entry.path: entry.mode for entry in whole.entries}
    if not whole.truncated:
        return {path: listed.get(path) for path in wanted}
    walk = _Walk(port, repo, sha)
    return {path: listed[path] if path in listed else walk.mode(path) for path in wanted}


def place(workdir: str, path: str, mode: str) -> bool:
    """Put a link or a submodule's folder where `path` is in the scratch folder, as a checkout
    has it, so that `check` itself says what it says of one (its rules, in their one home);
    False for a mode that is neither."""
    target = os.path.join(workdir, *path.split("/"))
    if mode not in (SYMLINK_MODE, GITLINK_MODE):
        return False
    if os.path.lexists(target):  # placed already: a listed attribution.txt is also a leaf's
        return True
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if mode == SYMLINK_MODE:
        os.symlink(NOWHERE, target)  # never the PR's target: nothing here follows it
    else:
        os.makedirs(target)
        open(os.path.join(target, ".git"), "wb").close()  # what a checked-out submodule has
    return True


@dataclass
class _Listing:
    entries: dict[str, TreeEntry]  # name -> entry
    truncated: bool


class _Walk:
    """One path at a time from the commit's root, each folder read once."""

    def __init__(self, port: GitHubPort, repo: str, sha: str) -> None:
        self.port, self.repo, self.sha = port, repo, sha
        self.folders: dict[str, _Listing | None] = {}
        self.reads = 0

    def mode(self, path: str) -> str | None:
        parts = path.split("/")
        folder, tree_sha = "", self.sha
        for depth, name in enumerate(parts):
            listing = self._listing(folder, tree_sha)
            if listing is None:
                return UNKNOWN
            entry = listing.entries.get(name)
            if entry is None:
                return UNKNOWN if listing.truncated else None
            if depth == len(parts) - 1:
                return entry.mode
            if entry.mode != FOLDER_MODE:
                return None  # a file or a link where a folder would be: nothing lies below
            folder, tree_sha = f"{folder}{name}/", entry.sha
        return None  # unreachable: `parts` is never empty

    def _listing(self, folder: str, tree_sha: str) -> _Listing | None:
        if folder not in self.folders:
            if self.reads >= MAX_TREE_READS:
                return None
            self.reads += 1
            tree = self.port.git_tree(self.repo, tree_sha, recursive=False)
            self.folders[folder] = (
                None
                if tree is None
                else _Listing({e.path: e for e in tree.entries}, tree.truncated)
            )
        return self.folders[folder]
