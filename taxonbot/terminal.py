"""Text from a file, made safe to print on a terminal or in a GitHub Actions log.

A key, a value or a file name can hold ESC sequences (clear the screen, move the cursor, recolour,
retitle the window), C1 controls (U+009B starts the same sequences on some terminals), a CR that
overwrites the line, bidi overrides that reorder it, or line separators. Printed raw, a file could
erase the findings above it and fake "All good". `printable` shows every such character as a
Python-style escape (`\\x1b`, `\\u2028`), so what is printed is what the file holds.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """`text` with every character `str.isprintable()` refuses shown as its escape.

    Refused are the Unicode categories Other and Separator but the ASCII space: C0 and C1
    controls (tab, CR and LF included), DEL, format characters (bidi controls, zero-width ones),
    U+2028/U+2029, unassigned and private-use code points, and non-ASCII spaces.
    """
    if text.isprintable():  # one C-level pass; nearly every message stops here
        return text
    return "".join(ch if ch.isprintable() else _escape(ord(ch)) for ch in text)


def _escape(point: int) -> str:
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"
