"""Characters a person cannot see but a parser acts on: each is a finding that names it.

- U+0085, U+2028, U+2029 and a CR without an LF after it: libyaml (YAML 1.1) breaks the line
  there, GitHub and editors do not, so a value can end, or a second key start, where the reader
  sees one line (attribution.txt is read the same way, so one rule serves both files);
- the bidi embeddings, overrides and isolates U+202A–U+202E, U+2066–U+2069 reorder what is
  displayed ("Trojan Source", CVE-2021-42574);
- C0 and C1 control characters and DEL, but tab and LF: invisible, and YAML refuses most of them.

A CR right before an LF is a Windows line ending: `text.crlf` reports that once per file, not
here. U+200E, U+200F and U+061C (the bidi marks) are allowed: right-to-left text needs them.
"""

from __future__ import annotations

import re
import unicodedata

from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.textlines import LineIndex

MAX_REPORTED = 3  # per file: the first few say what to look for; the last one counts the rest

HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\r(?!\n)"
)
# What libyaml's reader refuses outright: it would stop at the first, so we do not parse.
YAML_REFUSES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
_BREAKS = "\r\x85\u2028\u2029"
# Unicode categories nobody sees: controls, format characters (zero-width, bidi, BOM),
# line and paragraph separators.
_UNSEEN = frozenset({"Cc", "Cf", "Zl", "Zp"})

# unicodedata has no names for control characters; these are Unicode's name aliases.
_C0 = (
    "NULL|START OF HEADING|START OF TEXT|END OF TEXT|END OF TRANSMISSION|ENQUIRY|ACKNOWLEDGE|"
    "BELL|BACKSPACE|CHARACTER TABULATION|LINE FEED|LINE TABULATION|FORM FEED|CARRIAGE RETURN|"
    "SHIFT OUT|SHIFT IN|DATA LINK ESCAPE|DEVICE CONTROL ONE|DEVICE CONTROL TWO|"
    "DEVICE CONTROL THREE|DEVICE CONTROL FOUR|NEGATIVE ACKNOWLEDGE|SYNCHRONOUS IDLE|"
    "END OF TRANSMISSION BLOCK|CANCEL|END OF MEDIUM|SUBSTITUTE|ESCAPE|"
    "INFORMATION SEPARATOR FOUR|INFORMATION SEPARATOR THREE|INFORMATION SEPARATOR TWO|"
    "INFORMATION SEPARATOR ONE"
).split("|")
_C1 = (
    "PADDING CHARACTER|HIGH OCTET PRESET|BREAK PERMITTED HERE|NO BREAK HERE|INDEX|NEXT LINE|"
    "START OF SELECTED AREA|END OF SELECTED AREA|CHARACTER TABULATION SET|"
    "CHARACTER TABULATION WITH JUSTIFICATION|LINE TABULATION SET|PARTIAL LINE FORWARD|"
    "PARTIAL LINE BACKWARD|REVERSE LINE FEED|SINGLE SHIFT TWO|SINGLE SHIFT THREE|"
    "DEVICE CONTROL STRING|PRIVATE USE ONE|PRIVATE USE TWO|SET TRANSMIT STATE|CANCEL CHARACTER|"
    "MESSAGE WAITING|START OF GUARDED AREA|END OF GUARDED AREA|START OF STRING|"
    "SINGLE GRAPHIC CHARACTER INTRODUCER|SINGLE CHARACTER INTRODUCER|"
    "CONTROL SEQUENCE INTRODUCER|STRING TERMINATOR|OPERATING SYSTEM COMMAND|PRIVACY MESSAGE|"
    "APPLICATION PROGRAM COMMAND"
).split("|")


def character_name(ch: str) -> str:
    """`U+2028 LINE SEPARATOR`: the code point and its name, controls included."""
    point = ord(ch)
    if point < 0x20:
        name = _C0[point]
    elif point == 0x7F:
        name = "DELETE"
    elif 0x80 <= point < 0xA0:
        name = _C1[point - 0x80]
    else:
        name = unicodedata.name(ch, "an unnamed character")
    return f"U+{point:04X} {name}"


def invisible_findings(path: str, text: str) -> list[Finding]:
    """One finding per hidden character, at GitHub's line:col, the first MAX_REPORTED of them."""
    if HIDDEN.search(text) is None:  # one C-level pass; nearly every file stops here
        return []
    hits = list(HIDDEN.finditer(text))
    index = LineIndex(text)
    found = []
    for number, hit in enumerate(hits[:MAX_REPORTED], start=1):
        pos = index.position(hit.start())
        message, hint = _explain(hit.group())
        more = len(hits) - MAX_REPORTED
        if number == MAX_REPORTED and more > 0:
            message += f" The file holds {more} more such character{'s' if more > 1 else ''}."
        message = f"Line {pos.line} holds {message}"
        found.append(error("text.invisible-character", path, pos, message, hint))
    return found


def _explain(ch: str) -> tuple[str, str]:
    name = character_name(ch)
    if ch in _BREAKS:
        alone = " without a line feed after it" if ch == "\r" else ""
        return (
            f"{name}{alone}: YAML and many programs read it as a line break, GitHub and "
            "editors show none, so the file does not say what it seems to.",
            "Replace it with an ordinary line break (or a space), then check the indentation.",
        )
    if "\u202a" <= ch <= "\u2069":
        return (
            f"{name}, an invisible character that reorders how the text around it is "
            "displayed, so what you read is not what the file holds.",
            "Delete the character at this position; right-to-left text needs no override.",
        )
    return (
        f"{name}, an invisible control character.",
        "Delete the character at this position (often pasted from a PDF or word processor).",
    )


def nothing_visible(path: str, text: str) -> Finding | None:
    """`file.empty` for a file that holds something, but nothing a person can see: only
    whitespace and invisible characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER, U+FEFF,
    controls, bidi marks). An editor shows it empty, and so do we, naming the first character
    that makes it more than empty; None for a file with anything visible, or nothing at all."""
    stripped = text.strip()
    if not stripped or stripped.isprintable():  # one C-level pass: almost every file stops here
        return None
    for ch in stripped:
        if not ch.isspace() and unicodedata.category(ch) not in _UNSEEN:
            return None  # something visible: the YAML rules say what is wrong with it
    where = LineIndex(text).position(text.index(stripped[0]))
    return error(
        "file.empty",
        path,
        Position(),
        "The file looks empty: it holds only spaces and invisible characters (the first is "
        f"{character_name(stripped[0])}, at line {where.line}, column {where.col}).",
        "Fill in the template from taxonomy/CONTRIBUTING.md, or delete the file.",
    )
