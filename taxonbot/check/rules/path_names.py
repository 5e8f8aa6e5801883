"""Where a file lives: under a known root, named qna.yaml, in lower_snake_case directories; and
what is no file at all (a symbolic link to a folder, a submodule) where the taxonomy is."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from taxonbot.check.rules.context import CheckContext
from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.leaf import QNA_NAME, ROOTS, LeafPath, wants_check

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
    name = leaf.file.replace("\\", "/").rsplit("/", 1)[-1]
    if name != QNA_NAME:
        spaces = " (it has spaces at the start or end)" if name != name.strip() else ""
        yield error(
            "path.filename",
            leaf.file,
            here,
            f"Taxonomy files must be named exactly `{QNA_NAME}` (lowercase); {name!r}{spaces} "
            "is not, so it is no leaf and nothing in it is trained on.",
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


def entry_findings(path: str) -> list[Finding] | None:
    """A folder symlink or a submodule where the taxonomy is (or a link with a name that is no
    leaf's): the one finding for it; None for anything the loader should read."""
    if os.path.islink(path) and (os.path.isdir(path) or not wants_check(path)):
        return [
            error(
                "path.symlink",
                path,
                Position(),
                f"`{_shown(path)}` is a symbolic link; taxonbot and the training build do not "
                "follow links in the taxonomy, so nothing behind it is checked or trained on.",
                "Replace the link with the real folders and files (copy them here, `git add` "
                "them), then delete the link.",
            )
        ]
    if os.path.isdir(path) and not os.path.islink(path) and not wants_check(path):
        return [
            error(
                "path.submodule",
                path,
                Position(),
                f"`{_shown(path)}` is a git submodule (another repository inside the taxonomy); "
                "nothing in it is checked or trained on.",
                f"Remove the submodule (`git rm {_shown(path)}`) and add its {QNA_NAME} and "
                "attribution.txt as plain files in a leaf folder.",
            )
        ]
    return None


def _shown(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/").replace("`", "'")
