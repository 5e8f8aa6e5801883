"""taxonbot.jsonl: records split on "\\n" only, so text a model wrote never reads as a torn line."""

from __future__ import annotations

import json

import pytest

from taxonbot.jsonl import complete_records, dump_line, split_lines

# Every character str.splitlines() breaks at, besides "\n" itself.
ODD_BREAKS = ("\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\r\n")


@pytest.mark.parametrize("odd", ODD_BREAKS, ids=[f"U+{ord(c[0]):04X}" for c in ODD_BREAKS])
def test_a_record_holding_a_line_break_lookalike_is_one_line_and_reads_back(odd: str) -> None:
    record = {"answer": f"before{odd}after", "n": 1}
    line = dump_line(record)
    assert line.endswith("\n") and line.count("\n") == 1
    assert len(line.splitlines()) == 1  # even a reader that splits on these reads it whole
    text = line + dump_line({"type": "done"})
    assert complete_records(text) == [record, {"type": "done"}]


def test_a_file_written_before_the_escaping_is_read_whole() -> None:
    """Stores written by older versions hold U+2028 raw: splitting on it lost the rest."""
    raw = "".join(
        json.dumps(x, ensure_ascii=False) + "\n"
        for x in ({"type": "header"}, {"answer": "a\u2028b\x85c\u2029d"}, {"type": "done"})
    )
    assert [r.get("type") for r in complete_records(raw)] == ["header", None, "done"]
    assert complete_records(raw)[1]["answer"] == "a\u2028b\x85c\u2029d"


def test_readable_text_stays_readable() -> None:
    assert dump_line({"q": "Où est la gare ? 駅はどこ"}) == '{"q": "Où est la gare ? 駅はどこ"}\n'


def test_a_torn_last_line_ends_the_records() -> None:
    whole = dump_line({"n": 0}) + dump_line({"n": 1})
    torn = whole + dump_line({"n": 2, "answer": "x\u2028y"})[:9]
    assert complete_records(torn) == [{"n": 0}, {"n": 1}]


def test_a_line_that_is_json_but_not_an_object_counts_as_torn() -> None:
    assert complete_records('{"n": 0}\n12\n{"n": 2}\n') == [{"n": 0}]


def test_lines_split_on_newline_only() -> None:
    assert split_lines("a\u2028b\nc\rd\n") == ["a\u2028b", "c\rd"]
    assert split_lines("a\nb") == ["a", "b"]  # the last line without its "\n" is kept
    assert split_lines("") == []
    assert complete_records('{"n": 0}\r\n{"n": 1}\r\n') == [{"n": 0}, {"n": 1}]  # CRLF files
