"""Where a file sits in the taxonomy: its root, its leaf path, and which schema applies."""

from __future__ import annotations

import os
from dataclasses import dataclass

ROOTS = ("knowledge", "compositional_skills", "foundational_skills")
QNA_NAME = "qna.yaml"
ATTRIBUTION_NAME = "attribution.txt"


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
