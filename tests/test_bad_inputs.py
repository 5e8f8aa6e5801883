"""Hostile and broken qna.yaml files: each gets a finding at the right place, quickly, in flat
memory, and never an exception.

The bytes are generated here rather than stored, because editors and formatters "fix" CRLF,
missing final newlines, BOMs, tabs and invalid UTF-8. Every file sits at a valid leaf path
beside a valid attribution.txt, so the finding we look for is about the bytes alone. The issue
asks for under 50 ms a file; we assert 0.5 s so a busy CI machine cannot flake, and print the
real time (`pytest -s` shows it).
"""

from __future__ import annotations

import os
import socket
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_file
from taxonbot.taxonomy.findings import Finding
from taxonbot.taxonomy.loader import load

DATA = Path(__file__).resolve().parent / "data" / "check" / "valid"
SKILL = DATA / "limerick_skill" / "compositional_skills/writing/freeform/limerick"
KNOWLEDGE = DATA / "knowledge_jupiter" / "knowledge/astronomy/planets/jupiter"
SKILL_LEAF = "compositional_skills/writing/freeform/limerick"
KNOWLEDGE_LEAF = "knowledge/astronomy/planets/jupiter"
SECONDS = 0.5  # the issue says 50 ms; see the module docstring
MiB = 1024 * 1024


def limerick() -> str:
    return (SKILL / "qna.yaml").read_text("utf-8")


def jupiter() -> str:
    return (KNOWLEDGE / "qna.yaml").read_text("utf-8")


def with_repo(value: str) -> bytes:
    text = jupiter()
    assert "\n  repo: https://github.com/jdoe/jupiter-docs\n" in text  # line 47, value at col 9
    return text.replace("https://github.com/jdoe/jupiter-docs", value, 1).encode()


def with_pattern(value: str) -> bytes:
    text = jupiter()
    assert text.endswith("  patterns:\n    - jupiter.md\n")  # line 50, value at col 7
    return text.replace("    - jupiter.md\n", f"    - {value}\n").encode()


def billion_laughs() -> bytes:
    lines = ['lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for name, prev in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def many_seeds(count: int) -> bytes:
    head = "version: 3\ncreated_by: jdoe\ntask_description: Write a limerick.\nseed_examples:\n"
    seed = "  - question: Write limerick number {} about a cat.\n    answer: A cat.\n"
    return (head + "".join(seed.format(i) for i in range(count))).encode()


def eleven_questions() -> bytes:
    """The first knowledge seed with 11 question-answer pairs (lines 8 to 29)."""
    last = "        answer: Yes. No planet in the Solar System is larger than Jupiter.\n"
    more = "".join(
        f"      - question: Extra question {i}?\n        answer: Extra {i}.\n" for i in range(8)
    )
    return jupiter().replace(last, last + more, 1).encode()


@dataclass(frozen=True)
class Bad:
    make: Callable[[], bytes]
    rule: str
    line: int
    col: int
    says: str = ""
    leaf: str = SKILL_LEAF


BAD_INPUTS: dict[str, Bad] = {
    # Someone pastes the classic billion-laughs bomb: aliases are refused, never expanded,
    # and reported at most three times.
    "alias-bomb": Bad(billion_laughs, "yaml.alias", 2, 8, "`*a` repeats another part"),
    "self-alias": Bad(lambda: b"&x [*x]\n", "yaml.alias", 1, 5, "`*x`"),
    "30000-deep-flow": Bad(lambda: b"[" * 30000 + b"\n", "yaml.too-deep", 1, 65, "64 levels"),
    "30000-deep-block": Bad(lambda: b"- " * 30000 + b"x\n", "yaml.too-deep", 1, 129),
    "300-KB-file": Bad(
        lambda: limerick().encode() + b"# " + b"la " * 100_000 + b"\n",
        "file.too-large",
        1,
        1,
        "larger than 256 KiB",
    ),
    "duplicate-key": Bad(
        lambda: (
            limerick().replace("created_by: jdoe\n", "created_by: jdoe\ncreated_by: eve\n").encode()
        ),
        "yaml.duplicate-key",
        3,
        1,
        "(first at line 2)",
    ),
    "merge-key": Bad(
        lambda: limerick().replace("version: 3\n", "version: 3\n<<: {created_by: eve}\n").encode(),
        "yaml.merge-key",
        2,
        1,
    ),
    "python-object-tag": Bad(
        lambda: limerick().replace("jdoe", "!!python/object/apply:os.system [rm -rf ~]").encode(),
        "yaml.tag",
        2,
        13,
        "python/object/apply:os.system",
    ),
    "binary-tag": Bad(
        lambda: limerick().replace("jdoe", "!!binary aGVsbG8=").encode(), "yaml.tag", 2, 13
    ),
    "include-tag": Bad(
        lambda: limerick().replace("jdoe", "!include ../../secrets.yaml").encode(),
        "yaml.tag",
        2,
        13,
        "`!include`",
    ),
    "latin-1-byte": Bad(
        lambda: limerick().replace("jdoe", "j\xe9doe").encode("latin-1"),
        "encoding.not-utf8",
        2,
        14,
        "0xe9",
    ),
    "utf-16-with-bom": Bad(
        lambda: limerick().encode("utf-16"), "encoding.not-utf8", 1, 1, "UTF-16"
    ),
    "bom-mid-file": Bad(
        lambda: limerick().replace("created_by", "\ufeffcreated_by").encode(),
        "encoding.stray-bom",
        2,
        1,
    ),
    "tab-indentation": Bad(
        lambda: limerick().replace("  - question: Write", "\t- question: Write").encode(),
        "text.tab-indent",
        5,
        1,
    ),
    "crlf-line-endings": Bad(
        lambda: limerick().replace("\n", "\r\n").encode(), "text.crlf", 1, 11, "(CR LF)"
    ),
    "no-final-newline": Bad(
        lambda: limerick().rstrip("\n").encode(), "text.final-newline", 39, 48, "newline"
    ),
    "trailing-spaces": Bad(
        lambda: limerick().replace("jdoe\n", "jdoe   \n").encode(), "text.trailing-spaces", 2, 17
    ),
    "top-level-list": Bad(
        lambda: b"- question: Write a limerick.\n  answer: No.\n", "structure.top-level", 1, 1
    ),
    "empty-file": Bad(lambda: b"", "file.empty", 1, 1),
    # An editor shows it empty: zero-width space, BOM, word joiner, spaces, tabs, newlines.
    "only-invisible-characters": Bad(
        lambda: "\n \u200b\ufeff\u2060 \n\t\u200b\n".encode(),
        "file.empty",
        1,
        1,
        "The file looks empty: it holds only spaces and invisible characters (the first is "
        "U+200B ZERO WIDTH SPACE, at line 2, column 2).",
    ),
    "bom-then-zero-width-space": Bad(
        lambda: b"\xef\xbb\xbf" + "\u200b\n".encode(), "file.empty", 1, 1, "U+200B"
    ),
    "version-24": Bad(
        lambda: limerick().replace("version: 3", "version: 24").encode(),
        "version.unsupported",
        1,
        10,
        "`version: 24`",
    ),
    "repo-file-url": Bad(
        lambda: with_repo("file:///etc"), "document.repo", 47, 9, "not `file`", KNOWLEDGE_LEAF
    ),
    "repo-git-option": Bad(
        lambda: with_repo("'--upload-pack=x'"), "document.repo", 47, 9, "option", KNOWLEDGE_LEAF
    ),
    "repo-plain-http": Bad(
        lambda: with_repo("http://github.com/a/b"),
        "document.repo",
        47,
        9,
        "not `http`",
        KNOWLEDGE_LEAF,
    ),
    "repo-ip-address": Bad(
        lambda: with_repo("https://192.168.0.1/a/b"),
        "document.repo",
        47,
        9,
        "host '192.168.0.1' is not allowed",
        KNOWLEDGE_LEAF,
    ),
    "repo-lookalike-host": Bad(
        lambda: with_repo("https://github.com.evil.example/a/b"),
        "document.repo",
        47,
        9,
        "host 'github.com.evil.example' is not allowed",
        KNOWLEDGE_LEAF,
    ),
    "pattern-climbs-out": Bad(
        lambda: with_pattern("../x.md"), "document.pattern", 50, 7, "'..'", KNOWLEDGE_LEAF
    ),
    "pattern-absolute-glob": Bad(
        lambda: with_pattern("/**"), "document.pattern", 50, 7, "relative path", KNOWLEDGE_LEAF
    ),
    # The fetch's own rules decide (taxonbot/documents/rules.py): what it refuses fails the check,
    # instead of a green check followed by a red preview and build.
    "repo-trailing-slash": Bad(
        lambda: with_repo("https://github.com/jdoe/jupiter-docs/"),
        "document.repo",
        47,
        9,
        "no extra path, query or trailing slash",
        KNOWLEDGE_LEAF,
    ),
    "repo-trailing-tab": Bad(
        lambda: with_repo('"https://github.com/jdoe/jupiter-docs\\t"'),  # YAML's \t escape
        "document.repo",
        47,
        9,
        "control or non-ASCII characters",
        KNOWLEDGE_LEAF,
    ),
    "pattern-dot-segment": Bad(
        lambda: with_pattern("./docs/a.md"),
        "document.pattern",
        50,
        7,
        "'.' or empty",
        KNOWLEDGE_LEAF,
    ),
    "pattern-empty-segment": Bad(
        lambda: with_pattern("docs//a.md"),
        "document.pattern",
        50,
        7,
        "'.' or empty",
        KNOWLEDGE_LEAF,
    ),
    "pattern-non-ascii": Bad(
        lambda: with_pattern("docs/é.md"),
        "document.pattern",
        50,
        7,
        "printable ASCII",
        KNOWLEDGE_LEAF,
    ),
    "pattern-backslash": Bad(
        lambda: with_pattern("a\\b.md"), "document.pattern", 50, 7, "backslash", KNOWLEDGE_LEAF
    ),
    # Issue 20: absurd sizes are findings that name the size and the limit, and a value quoted
    # in a message is cut (the 256 KiB shapes, and their time, are in tests/check/test_linear.py).
    "300-seed-examples": Bad(
        lambda: many_seeds(300), "content.too-many-seeds", 405, 5, "has 300 items; the limit is 200"
    ),
    "11-questions-in-a-seed": Bad(
        lambda: eleven_questions(),
        "content.too-many-questions",
        28,
        9,
        "has 11 items; the limit is 10",
        KNOWLEDGE_LEAF,
    ),
    "100000-digit-version": Bad(
        lambda: limerick().replace("version: 3", "version: " + "1" * 100_000).encode(),
        "version.unsupported",
        1,
        10,
        "`version: 1111111111",
    ),
    "100000-character-key": Bad(
        lambda: (limerick() + "? " + "k" * 100_000 + "\n: v\n").encode(),  # an explicit key
        "schema.unexpected-key",
        40,
        3,
        "… (100,000 characters)` is not a field",
    ),
}


@pytest.fixture(scope="module", autouse=True)
def warm_checker() -> None:
    """The first check in a process imports jsonschema and compiles the schemas (~0.4 s);
    time the inputs, not that."""
    check_file(str(SKILL / "qna.yaml"), CheckOptions())
    check_file(str(KNOWLEDGE / "qna.yaml"), CheckOptions())


def leaf_in(tmp_path: Path, leaf: str) -> Path:
    folder = tmp_path / leaf
    folder.mkdir(parents=True)
    source = KNOWLEDGE if leaf == KNOWLEDGE_LEAF else SKILL
    (folder / "attribution.txt").write_bytes((source / "attribution.txt").read_bytes())
    return folder


def timed_check(path: Path, label: str) -> tuple[list[Finding], float, int]:
    start = time.perf_counter()
    found = check_file(str(path), CheckOptions())
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    try:
        again = check_file(str(path), CheckOptions())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert again == found
    print(f"{label}: {elapsed * 1000:.2f} ms, peak {peak / 1024:.0f} KiB traced")
    return found, elapsed, peak


def assert_found(found: list[Finding], rule: str, line: int, col: int, says: str = "") -> None:
    at = [(f.rule, f.pos.line, f.pos.col) for f in found]
    assert (rule, line, col) in at, at
    hit = next(f for f in found if (f.rule, f.pos.line, f.pos.col) == (rule, line, col))
    assert hit.hint.strip(), "a finding must say what to do next"
    assert says in f"{hit.message} {hit.hint}", hit


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_a_bad_input_gets_a_finding_quickly(name: str, tmp_path: Path) -> None:
    """A contributor (or an attacker) commits these bytes as qna.yaml → one clear finding at
    the right line:col, with a hint, in well under the time budget and in flat memory."""
    bad = BAD_INPUTS[name]
    path = leaf_in(tmp_path, bad.leaf) / "qna.yaml"
    path.write_bytes(bad.make())
    found, elapsed, peak = timed_check(path, name)
    assert_found(found, bad.rule, bad.line, bad.col, bad.says)
    assert elapsed < SECONDS
    assert peak < 16 * MiB
    assert max(Counter(f.rule for f in found).values()) <= 10, "findings must not multiply"
    assert all(len(f"{f.message} {f.hint}") < 2000 for f in found), "a quoted value is cut"


def test_an_alias_bomb_is_reported_three_times_at_most(tmp_path: Path) -> None:
    """72 aliases in the bomb, three findings: enough to see the pattern, not a wall of text."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_bytes(billion_laughs())
    found = check_file(str(path), CheckOptions())
    counts = Counter(f.rule for f in found)
    assert counts["yaml.alias"] == 3 and counts["yaml.anchor"] == 3


def test_a_50_mb_scalar_is_refused_by_the_size_cap_without_reading_it(tmp_path: Path) -> None:
    """A 50 MB answer: the loader reads 256 KiB and one byte, says the file is too large, and
    memory stays flat."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    with path.open("wb") as handle:
        handle.write(limerick().encode() + b"extra: ")
        chunk = b"x" * MiB
        for _ in range(50):
            handle.write(chunk)
        handle.write(b"\n")
    found, elapsed, peak = timed_check(path, "50-MB-scalar")
    assert_found(found, "file.too-large", 1, 1, "larger than 256 KiB (51201 KiB or more)")
    assert elapsed < SECONDS
    assert peak < 16 * MiB


def test_a_leading_utf8_bom_is_harmless(tmp_path: Path) -> None:
    """Notepad saves a BOM at the start: no encoding finding, and line numbers do not move."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + limerick().replace("version: 3", "version: 24").encode())
    found, elapsed, _ = timed_check(path, "leading-bom")
    assert [(f.rule, f.pos.line, f.pos.col) for f in found] == [("version.unsupported", 1, 10)]
    assert elapsed < SECONDS


def test_a_symlink_named_qna_yaml_is_not_followed(tmp_path: Path) -> None:
    """A PR adds qna.yaml as a link to /etc/passwd: refused without being opened."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.symlink_to("/etc/passwd")
    found, elapsed, _ = timed_check(path, "symlink")
    assert_found(found, "file.symlink", 1, 1, "symbolic link")
    assert not any(f.rule.startswith(("yaml.", "schema.", "text.")) for f in found)
    assert elapsed < SECONDS


def test_a_fifo_named_qna_yaml_does_not_hang_the_check(tmp_path: Path) -> None:
    """A named pipe would block a reader forever; the loader never opens it."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    os.mkfifo(path)
    found, elapsed, _ = timed_check(path, "fifo")
    assert_found(found, "file.not-regular", 1, 1)
    assert elapsed < SECONDS


def test_a_file_that_vanished_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    """Between listing and reading, the file was deleted (or cannot be read)."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    found = check_file(str(path), CheckOptions())
    assert_found(found, "file.unreadable", 1, 1, "cannot be read")


def test_yaml_words_stay_the_text_the_contributor_typed(tmp_path: Path) -> None:
    """`answer: no` is the word "no", not False; `version: 3.10` is "3.10", not 3.1."""
    path = tmp_path / "qna.yaml"
    path.write_text("version: 3.10\nanswer: no\nempty:\nquoted: 'null'\n", encoding="utf-8")
    root = load(str(path)).root
    assert root is not None
    assert root.to_python() == {"version": "3.10", "answer": "no", "empty": None, "quoted": "null"}


def test_version_3_10_is_not_read_as_3_1(tmp_path: Path) -> None:
    """The finding quotes what the contributor wrote."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_text(limerick().replace("version: 3", "version: 3.10"), encoding="utf-8")
    assert_found(check_file(str(path), CheckOptions()), "version.unsupported", 1, 10, "3.10")


def control_character(tmp_path: Path) -> list[Finding]:
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_bytes(limerick().replace("jdoe", "jdoe\x07").encode())
    return timed_check(path, "control-character")[0]


def test_a_control_character_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    """A BEL character pasted from a PDF: YAML refuses it, and so do we, naming it, with a hint
    (one finding: libyaml's vaguer syntax error is not added to it)."""
    (finding,) = control_character(tmp_path)
    assert finding.rule == "text.invisible-character" and finding.hint.strip()
    assert "U+0007 BELL" in finding.message


# --- bugs found in review, fixed; these stories keep them fixed ----


def test_a_control_character_is_located_and_explained(tmp_path: Path) -> None:
    """The finding points at the BEL (line 2, col 17) and says to delete it, in plain words."""
    assert_found(
        control_character(tmp_path), "text.invisible-character", 2, 17, "Delete the character"
    )


def test_an_invisible_only_file_is_empty_and_its_hidden_controls_are_named(
    tmp_path: Path,
) -> None:
    """Zero-width spaces and a right-to-left override, nothing else: `file.empty` says why it
    looks empty, and the override keeps its own finding at its line:col; no YAML or schema
    finding follows (there is nothing to parse)."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_bytes("\u200b\n  \u200b\u202e\n".encode())
    found = check_file(str(path), CheckOptions())
    assert [(f.rule, f.pos.line, f.pos.col) for f in found] == [
        ("file.empty", 1, 1),
        ("text.invisible-character", 2, 4),
    ]
    assert_found(found, "file.empty", 1, 1, "(the first is U+200B ZERO WIDTH SPACE, at line 1")
    assert_found(found, "text.invisible-character", 2, 4, "U+202E RIGHT-TO-LEFT OVERRIDE")


def test_one_visible_character_among_invisible_ones_is_not_empty(tmp_path: Path) -> None:
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_bytes("\u200bx\u2060\n".encode())
    found = check_file(str(path), CheckOptions())
    assert "file.empty" not in [f.rule for f in found]
    assert_found(found, "structure.top-level", 1, 1)


def test_a_bad_byte_after_an_accented_letter_is_located_in_characters(tmp_path: Path) -> None:
    """`created_by: é\\xff`: editors put the cursor at character 14, not byte 15."""
    path = leaf_in(tmp_path, SKILL_LEAF) / "qna.yaml"
    path.write_bytes(
        limerick().replace("jdoe", "é").encode().replace("é".encode(), b"\xc3\xa9\xff")
    )
    assert_found(check_file(str(path), CheckOptions()), "encoding.not-utf8", 2, 14)


def test_an_attribution_txt_saved_with_a_bom_is_read(tmp_path: Path) -> None:
    """Notepad's BOM before `Title of work:` must not make the title "missing"."""
    folder = leaf_in(tmp_path, SKILL_LEAF)
    (folder / "qna.yaml").write_text(limerick(), encoding="utf-8")
    attribution = folder / "attribution.txt"
    attribution.write_bytes(b"\xef\xbb\xbf" + attribution.read_bytes())
    assert check_file(str(folder / "qna.yaml"), CheckOptions()) == []


# --- the network is a bad input too ---------------------------------------------------------


def test_a_test_that_reaches_for_the_network_fails() -> None:
    """The autouse guard in conftest.py: a public address or any host name fails the test."""
    with pytest.raises(pytest.fail.Exception, match="reach the network"):
        socket.create_connection(("192.0.2.1", 443), timeout=0.01)
    with pytest.raises(pytest.fail.Exception, match="reach the network"):
        socket.create_connection(("example.com", 443), timeout=0.01)
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
        with pytest.raises(pytest.fail.Exception, match="reach the network"):
            sock.connect_ex(("2001:db8::1", 443, 0, 0))


def test_loopback_and_unix_sockets_still_work(tmp_path: Path) -> None:
    """Fake servers on 127.0.0.1 (tests/runtime, tests/documents) must keep working."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        with socket.create_connection(("localhost", port), timeout=5):
            pass
    path = str(tmp_path / "s.sock")
    with socket.socket(socket.AF_UNIX) as server, socket.socket(socket.AF_UNIX) as client:
        server.bind(path)
        server.listen()
        client.connect(path)
