"""Reading JSON someone else wrote: capped in size, and every failure one sentence (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxonbot.exits import Exit
from taxonbot.jsonfile import UnreadableJson, read_capped_json


def test_a_small_json_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"a": [1]}', "utf-8")
    assert read_capped_json(str(path), 10) == {"a": [1]}


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, r"^cannot read .*a\.json \(No such file or directory\)\.$"),
        (b'{"a": "' + b"x" * 20 + b'"}', r"a\.json is 29 bytes; the limit is 16 bytes\.$"),
        (b"{not json", r"a\.json is not JSON \("),
        (b"\xff\xfe", r"a\.json is not JSON \("),
        (b"[" * 15, r"a\.json (is not JSON|nests deeper than Python can read)"),
    ],
    ids=["missing", "too-large", "not-json", "not-utf8", "unfinished"],
)
def test_each_failure_is_one_sentence(tmp_path: Path, content: bytes | None, says: str) -> None:
    path = tmp_path / "a.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UnreadableJson, match=says) as caught:
        read_capped_json(str(path), 16)
    assert caught.value.exit == Exit.CANNOT


def test_nesting_past_pythons_limit_is_a_sentence_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    with pytest.raises(UnreadableJson, match="nests deeper than Python can read"):
        read_capped_json(str(path), 1 << 20)
