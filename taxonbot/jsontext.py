"""JSON text that a person may see on a terminal: the one way taxonbot prints JSON to stdout.

`json.dumps(ensure_ascii=False)` keeps readable non-ASCII ("Émile", "猫") but leaves raw what a
terminal acts on: C1 controls (U+009B starts an escape sequence on some), DEL, bidi overrides and
isolates that reorder the line, zero-width characters, U+2028/U+2029 and tag characters.
`dumps` writes each character `str.isprintable()` refuses, the policy of taxonbot.terminal, as
its JSON `\\u` escape. Such characters only occur inside JSON strings (json.dumps escapes C0
controls there itself), so the text parses to the very same values.
"""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any, indent: int | None = None) -> str:
    """`value` as JSON text with nothing a terminal would act on; `indent` as in json.dumps.

    A raw "\\n" in json.dumps' output is always indentation (a newline inside a string is
    written `\\n`), so it is the one non-printable character kept as it is.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if text.replace("\n", "").isprintable():  # one C-level pass; nearly all output stops here
        return text
    return "".join(ch if ch.isprintable() or ch == "\n" else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    # json.dumps' own ASCII escape: \\u007f, \\u202e, a surrogate pair above U+FFFF, and a lone
    # surrogate (a file name git gave as undecodable bytes) as itself, which loads back the same.
    return json.dumps(ch)[1:-1]
