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

Pure: no I/O. The matcher sweeps the path once per pattern segment, so its time is linear in
the path's depth whatever the pattern; rules.py still caps `**` per pattern (MAX_DOUBLE_STARS).
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
    # would hit Python's limit on bytes the contributor controls. Each pattern segment is one
    # pass over the path, so a match costs O(pattern segments x path segments).
    reached = [True] + [False] * len(path)  # reached[j]: the pattern so far consumed j segments
    for segment in pattern:
        if segment == "**":
            reached = _after_double_star(path, reached)
        else:
            reached = [False] + [
                reached[j] and _segment_matches(segment, path[j]) for j in range(len(path))
            ]
        if not any(reached):
            return False
    return reached[len(path)]


def _after_double_star(path: tuple[str, ...], reached: list[bool]) -> list[bool]:
    """Where `**` can end: at or after a reached position, never past a hidden segment.

    One sweep: `**` is still running at k when it started at or before k and every segment it
    crossed is visible.
    """
    after = []
    running = False
    for k, was_reached in enumerate(reached):
        running = was_reached or (running and not path[k - 1].startswith("."))
        after.append(running)
    return after


def _segment_matches(pattern: str, name: str) -> bool:
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatchcase(name, pattern)
