"""taxonbot.jsontext: JSON for a terminal, which parses back to the very same values."""

from __future__ import annotations

import json

import pytest

from taxonbot.jsontext import dumps

# C1 (U+009B is a CSI on some terminals), DEL, bidi override and isolate, zero-width joiner,
# U+2028, a tag character (above U+FFFF), a non-ASCII space, and a lone surrogate (what
# surrogateescape makes of a byte that is not UTF-8).
NASTY = "a\x9b2J\x7f\u202e\u2066\u200d\u2028\U000e0001\u00a0\udcff z"


@pytest.mark.parametrize("indent", [None, 2])
def test_every_character_a_terminal_acts_on_is_escaped_and_loads_back(indent: int | None) -> None:
    value = {"k\u202e": [NASTY, "line\nbreak\ttab\x1b[2J"], "ok": "Émile 猫 🐈"}
    text = dumps(value, indent=indent)
    assert all(ch.isprintable() or ch == "\n" for ch in text), repr(text)
    assert json.loads(text) == value
    assert "Émile 猫 🐈" in text  # readable non-ASCII is kept
    assert "\\u009b2J\\u007f\\u202e\\u2066\\u200d\\u2028\\udb40\\udc01\\u00a0\\udcff z" in text
    assert text.count("\n") == (0 if indent is None else 6)  # only indentation is a raw newline
    text.encode("utf-8")  # no lone surrogate left raw: stdout can write it


def test_ordinary_json_is_json_dumps_unchanged() -> None:
    value = {"path": "knowledge/café/qna.yaml", "n": [1, 2.5, None, True]}
    assert dumps(value, indent=1) == json.dumps(value, ensure_ascii=False, indent=1)
