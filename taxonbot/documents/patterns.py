"""Which repository paths a `document.patterns` entry selects.

The semantics follow Python's `glob.glob(pattern, recursive=True)` run in a checkout, which is
how InstructLab's SDG reads the same field, but over `git ls-tree` paths so nothing is checked
out:

- a pattern and a path are split on "/" and compared segment by segment, case-sensitively;
- inside a segment, `*` matches any run of characters, `?` one character and `[abc]` / `[!abc]`
  a class (`fnmatch.fnmatchcase`); none of them crosses a "/";
- a segment that is exactly `**` matches zero or more whole segments;
- as with glob, a wildcard never matches a name starting with "." unless the pattern segment
  itself starts with ".", so `docs/**/*.md` skips `docs/.hidden/x.md`.

Pure: no I/O. The matcher tracks a set of positions, so `**/**/**` costs polynomial time.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def matches(pattern: str, path: str) -> bool:
    """True when repository path `path` is selected by `pattern`."""
    return _match_segments(tuple(pattern.split("/")), tuple(path.split("/")))


def matches_any(patterns: Iterable[str], path: str) -> bool:
    return any(matches(pattern, path) for pattern in patterns)


def _match_segments(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    # Iterative on purpose: a tree may hold a path thousands of segments deep, and recursion
    # would hit Python's limit on bytes the contributor controls.
    reached = {0}  # how many path segments the pattern so far can have consumed
    for segment in pattern:
        if segment == "**":
            reached = {k for j in reached for k in _visible_run(path, j)}
        else:
            reached = {
                j + 1 for j in reached if j < len(path) and _segment_matches(segment, path[j])
            }
        if not reached:
            return False
    return len(path) in reached


def _visible_run(path: tuple[str, ...], start: int) -> range:
    """Positions `**` can reach from `start`: it stops before the first hidden segment."""
    end = start
    while end < len(path) and not path[end].startswith("."):
        end += 1
    return range(start, end + 1)


def _segment_matches(pattern: str, name: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatchcase(name, pattern)
