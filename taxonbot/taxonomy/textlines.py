"""Line and column as GitHub shows them: the one place positions in a file are counted.

GitHub (its file view, its diffs, the annotations and `#L` links on them) and git break lines at
LF only: CR LF is an LF with a CR before it, and a lone CR is no line break at all (GitHub shows
an old-Mac file, CR only, as one long line). libyaml reads YAML 1.1, which also breaks lines at a
lone CR, U+0085 NEXT LINE, U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR, so its marks can
point lines below what a person sees. Every position we report is GitHub's: the line counted at
LF only, the column in characters (code points) since the last LF, both from 1.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from typing import Protocol

from taxonbot.taxonomy.findings import Position

# Where libyaml breaks a line and GitHub does not.
YAML_ONLY_BREAK = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


class Mark(Protocol):
    """What we read of a libyaml mark: its own line:col (0-based) and the character offset."""

    @property
    def line(self) -> int: ...

    @property
    def column(self) -> int: ...

    @property
    def index(self) -> int: ...


def position_of_offset(data: bytes | str, offset: int) -> Position:
    """line:col of an offset into `data` (a character offset for text, a byte one for bytes)."""
    newline = b"\n" if isinstance(data, bytes) else "\n"
    line_start = data.rfind(newline, 0, offset) + 1  # type: ignore[arg-type]
    return Position(data.count(newline, 0, offset) + 1, offset - line_start + 1)  # type: ignore[arg-type]


def byte_position(data: bytes, offset: int) -> Position:
    """line:col of a byte offset into UTF-8, the column counted in characters like every rule."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Position(data.count(b"\n", 0, offset) + 1, col)


class LineIndex:
    """Offset -> line:col, built lazily: most files have no finding and never need it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] | None = None

    def position(self, offset: int) -> Position:
        if self.starts is None:
            self.starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self.starts, offset)
        return Position(line, offset - self.starts[line - 1] + 1)


def mark_positions(text: str) -> Callable[[Mark], Position] | None:
    """How to read libyaml's marks on `text`: None where its own line:col are GitHub's (it breaks
    lines only where GitHub does: nearly every file), else GitHub's line:col of the mark's
    character offset (libyaml counts `index` in code points, as Python's str does)."""
    if YAML_ONLY_BREAK.search(text) is None:
        return None
    index = LineIndex(text)
    return lambda mark: index.position(mark.index)


def mark_position(mark: Mark, place: Callable[[Mark], Position] | None) -> Position:
    """One mark's line:col, `place` from `mark_positions` (the loader inlines this per event)."""
    return place(mark) if place else Position(mark.line + 1, mark.column + 1)
