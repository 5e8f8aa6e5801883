"""libyaml's syntax errors, rewritten for people who have never read the YAML spec."""

from __future__ import annotations

import yaml

from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.textlines import byte_position, mark_position, mark_positions

# (substring of libyaml's problem, plain explanation, what to do). First match wins.
_EXPLAINED: tuple[tuple[str, str, str], ...] = (
    (
        "cannot start any token",
        "A character here cannot start a value: usually a tab used for indentation, or a "
        "value starting with `@` or a backtick.",
        "Indent with spaces, not tabs; put a value that starts with `@` or a backtick in quotes.",
    ),
    (
        "mapping values are not allowed",
        "A `: ` (colon and space) inside an unquoted value makes YAML think a new key starts.",
        "Use a block scalar: put `|` after the key and the text on the next lines, indented.",
    ),
    (
        "could not find expected ':'",
        "A line here is not a `key: value` pair; often a value that continues on the next "
        "line without a block scalar, or a missing colon.",
        "Put `|` after the key and indent the text below it, or add the missing `:`.",
    ),
    (
        "expected a comment or a line break",
        "Something follows the `|` or `>` of a block scalar on the same line.",
        "After `|` put nothing but a line break; start the text on the next line, indented.",
    ),
    (
        "expected <block end>, but found '-'",
        "A list item (`-`) is not indented like the items before it.",
        "Line up every `-` of the same list in one column.",
    ),
    (
        "expected <block end>",
        "The indentation here does not match the lines above it.",
        "Indent each level by 2 spaces and keep siblings in the same column.",
    ),
    (
        "found unexpected end of stream",
        "The file ends inside a quoted text; a closing quote is missing.",
        "Add the closing quote, or use a block scalar (`|`) instead of quotes.",
    ),
    (
        "found unknown escape character",
        "A backslash inside double quotes starts an escape YAML does not know.",
        "Use single quotes, a block scalar (`|`), or write the backslash as `\\\\`.",
    ),
    (
        "characters are not allowed",
        "The file holds an invisible control character YAML does not accept.",
        "Delete the character at this position (often pasted from a PDF or word processor).",
    ),
    (
        "found undefined alias",
        "An alias (`*name`) points at nothing.",
        "Remove the `*`; anchors and aliases are not allowed in qna.yaml.",
    ),
)


def syntax_finding(path: str, exc: yaml.YAMLError, text: str) -> Finding:
    """`text` is what libyaml read: its marks become GitHub's line:col on it."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    pos = mark_position(mark, mark_positions(text)) if mark is not None else Position()
    offset = getattr(exc, "position", None)  # ReaderError: a byte offset into UTF-8, no mark
    if mark is None and isinstance(offset, int):
        pos = byte_position(text.encode("utf-8"), offset)
    problem = str(getattr(exc, "problem", None) or getattr(exc, "reason", None) or exc)
    for needle, message, hint in _EXPLAINED:
        if needle in problem:
            return error("yaml.syntax", path, pos, message, hint)
    return error(
        "yaml.syntax",
        path,
        pos,
        f"This is not valid YAML: {problem.strip()}.",
        "Compare the line with the examples in taxonomy/CONTRIBUTING.md; check indentation "
        "and quotes.",
    )
