"""Where a file sits in the taxonomy: its root, its leaf path, and which schema applies."""

from __future__ import annotations

import os
from dataclasses import dataclass

ROOTS = ("knowledge", "compositional_skills", "foundational_skills")
QNA_NAME = "qna.yaml"
ATTRIBUTION_NAME = "attribution.txt"
YAML_SUFFIXES = (".yaml", ".yml")
# git's modes for the tree entries that are no files: `git diff --raw` prints them.
SYMLINK_MODE, GITLINK_MODE = "120000", "160000"


@dataclass(frozen=True)
class LeafPath:
    """`taxonomy/compositional_skills/writing/haiku/qna.yaml` -> root and the segments below it."""

    file: str
    root: str | None  # one of ROOTS, or None when the file is outside every root
    segments: tuple[str, ...]  # directories between the root and the file

    @property
    def kind(self) -> str:
        return "knowledge" if self.root == "knowledge" else "skills"

    @property
    def leaf(self) -> str:
        """The taxonomy path as contributors write it: `compositional_skills/writing/haiku`."""
        return "/".join((self.root or "?", *self.segments))


def leaf_path(file: str) -> LeafPath:
    # Plain string splitting: pathlib costs ~6 ms to import on the `check` cold path.
    parts = tuple(p for p in file.replace(os.sep, "/").split("/") if p not in ("", "."))
    for index, part in enumerate(parts[:-1]):
        if part in ROOTS:
            return LeafPath(file, part, tuple(parts[index + 1 : -1]))
    return LeafPath(file, None, tuple(parts[:-1]))


def almost_leaf(name: str) -> bool:
    """A name someone meant as `qna.yaml` but is not exactly it: `qna.YAML`, `qna.yaml ` (a
    trailing space), `qna.yml`, `qna.yaml.txt`, `qna.yaml~`, `QnA.json`. The rule: case-folded
    and stripped of spaces, the name is `qna` or starts with `qna.`."""
    folded = name.strip().casefold()
    return name != QNA_NAME and (folded == "qna" or folded.startswith("qna."))


def wants_check(path: str) -> bool:
    """The one selection of `check`, whoever lists the files (a folder walk, git, GitHub's API):
    a qna.yaml anywhere (outside the roots it gets a finding), and under a root any YAML file
    or almost-leaf name (each gets one: taxonbot would skip it as a leaf)."""
    name = path.replace(os.sep, "/").rsplit("/", 1)[-1]
    if name == QNA_NAME:
        return True
    if leaf_path(path).root is None:
        return False
    return almost_leaf(name) or name.strip().casefold().endswith(YAML_SUFFIXES)


def in_taxonomy(path: str) -> bool:
    """The path is a root or sits below one (`knowledge`, `taxonomy/knowledge/a/b`)."""
    return any(part in ROOTS for part in path.replace(os.sep, "/").split("/"))
