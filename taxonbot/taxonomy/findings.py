"""A finding is a value: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

QUOTE_LIMIT = 60  # characters of a value quoted in a message
MESSAGE_LIMIT = 1000  # characters of a whole message or hint, whatever it quotes


def clip(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` cut to `limit` characters; a cut one ends in `…` and says how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


def quoted(value: object, limit: int = QUOTE_LIMIT) -> str:
    """**The** way a value from a file goes into a message: in backticks, cut to `limit`."""
    text = str(value)
    if len(text) <= limit:
        return f"`{text}`"
    return f"`{text[: limit - 1]}…` ({len(text):,} characters)"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Position(NamedTuple):
    """1-based line and column, as editors and GitHub annotations count them.

    A NamedTuple rather than a frozen dataclass: the loader makes one per YAML event, and tuple
    construction is several times cheaper.
    """

    line: int = 1
    col: int = 1


@dataclass(frozen=True)
class Finding:
    rule: str  # stable ID, e.g. "schema.min-items"; never renamed once released
    severity: Severity
    path: str  # as given on the command line or relative to the repo root
    pos: Position
    message: str  # one plain sentence for a contributor
    hint: str  # what to do next
    yaml_path: str = ""  # e.g. "seed_examples[2].answer"; empty for whole-file findings
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.pos.line}:{self.pos.col}"

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.pos.line, self.pos.col, self.rule)


def error(
    rule: str, path: str, pos: Position, message: str, hint: str, yaml_path: str = ""
) -> Finding:
    return _finding(rule, Severity.ERROR, path, pos, message, hint, yaml_path)


def warning(
    rule: str, path: str, pos: Position, message: str, hint: str, yaml_path: str = ""
) -> Finding:
    return _finding(rule, Severity.WARNING, path, pos, message, hint, yaml_path)


def _finding(
    rule: str, severity: Severity, path: str, pos: Position, message: str, hint: str, where: str
) -> Finding:
    # The backstop behind `quoted`: no message carries a file's worth of text.
    message, hint = clip(message, MESSAGE_LIMIT), clip(hint, MESSAGE_LIMIT)
    return Finding(rule, severity, path, pos, message, hint, clip(where, MESSAGE_LIMIT))
