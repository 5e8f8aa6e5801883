"""JSON Lines, the one way we read and write them: one record a line, split on "\n" only.

`str.splitlines()` also breaks at U+2028, U+2029, U+0085, \r, \v, \f and \x1c-\x1e, which a
model reply may well contain: a reader that used it took such a reply for a torn write and lost
the rest of the file. Every JSONL reader in taxonbot goes through `split_lines`; every writer
goes through `dump_line`, which escapes those characters as well (JSON allows it), so even a
reader elsewhere that splits on them reads our files whole.
"""

from __future__ import annotations

import json
from typing import Any

# Line breaks to str.splitlines() that json.dumps(ensure_ascii=False) leaves raw.
_RAW_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def dump_line(record: Any) -> str:
    """One record as one line (ending in "\n"): non-ASCII text kept readable, except the
    characters some readers take for a line break, which are escaped."""
    text = json.dumps(record, ensure_ascii=False)
    for raw, escaped in _RAW_BREAKS.items():
        if raw in text:  # only ever inside a JSON string, where the escape means the same
            text = text.replace(raw, escaped)
    return text + "\n"


def split_lines(text: str) -> list[str]:
    """The lines of a JSONL text, split on "\n" only; the empty rest after a final "\n" is no
    line. A last line without its "\n" is kept: the reader decides whether it is torn."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def complete_records(text: str) -> list[dict[str, Any]]:
    """The records of an append-only file up to the first line that is not a JSON object: a
    torn write from a killed run, after which nothing was appended (everything before is
    intact)."""
    records = []
    for line in split_lines(text):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            break
        if not isinstance(record, dict):
            break
        records.append(record)
    return records
