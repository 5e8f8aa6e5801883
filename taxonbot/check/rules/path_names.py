"""Where a file lives: under a known root, named qna.yaml, in lower_snake_case directories."""

from __future__ import annotations

import re
from collections.abc import Iterator

from taxonbot.check.rules.context import CheckContext
from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.leaf import QNA_NAME, ROOTS, LeafPath

_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


def check(ctx: CheckContext) -> Iterator[Finding]:
    yield from path_findings(ctx.leaf)


def path_findings(leaf: LeafPath) -> Iterator[Finding]:
    here = Position()
    if leaf.root is None:
        yield error(
            "path.root",
            leaf.file,
            here,
            "This file is not under knowledge/, compositional_skills/ or foundational_skills/.",
            "Move the leaf folder under one of the three taxonomy roots.",
        )
    if leaf.file.replace("\\", "/").rsplit("/", 1)[-1] != QNA_NAME:
        yield error(
            "path.filename",
            leaf.file,
            here,
            f"Taxonomy files must be named `{QNA_NAME}`.",
            f"Rename the file to `{QNA_NAME}`.",
        )
    if leaf.root is not None and not leaf.segments:
        yield error(
            "path.leaf-depth",
            leaf.file,
            here,
            f"`{QNA_NAME}` sits directly in `{leaf.root}/`; it needs a folder of its own.",
            f"Move it to `{leaf.root}/<topic>/<your_leaf>/{QNA_NAME}`.",
        )
    for segment in leaf.segments if leaf.root is not None else ():
        if segment not in ROOTS and not _SNAKE.fullmatch(segment):
            yield error(
                "path.name",
                leaf.file,
                here,
                f"The folder name `{segment}` is not lower_snake_case.",
                f"Rename it to `{suggest(segment)}` (lowercase letters, digits and underscores).",
            )


def suggest(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name))
    return "_".join(word.lower() for word in words) or "my_leaf"
