"""A finding is a value: what is wrong, where, and what to do about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


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
    return Finding(rule, Severity.ERROR, path, pos, message, hint, yaml_path)


def warning(
    rule: str, path: str, pos: Position, message: str, hint: str, yaml_path: str = ""
) -> Finding:
    return Finding(rule, Severity.WARNING, path, pos, message, hint, yaml_path)
