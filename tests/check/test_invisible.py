"""What a person sees is what we report (issue 20, item 2).

libyaml (YAML 1.1) breaks lines at U+0085, U+2028, U+2029 and a lone CR; GitHub breaks them at
LF only. Every finding's line:col is GitHub's, each hidden character is a finding that names it,
attribution.txt is read the same way, and the terminal and Actions-log reporters never print a
raw control character from a file. The bytes are generated here: editors "fix" them.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from taxonbot.check.reporters import REPORTERS, CheckReport
from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_file
from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.invisible import character_name, invisible_findings
from taxonbot.terminal import printable

DATA = Path(__file__).resolve().parents[1] / "data" / "check" / "valid" / "limerick_skill"
LEAF = "compositional_skills/writing/freeform/limerick"
HIDDEN = "text.invisible-character"


def limerick() -> str:
    return (DATA / LEAF / "qna.yaml").read_text("utf-8")


def checked(tmp_path: Path, qna: str, attribution: str | None = None) -> list[Finding]:
    folder = tmp_path / LEAF
    folder.mkdir(parents=True)
    source = (DATA / LEAF / "attribution.txt").read_text("utf-8")
    (folder / "attribution.txt").write_bytes((attribution or source).encode())
    (folder / "qna.yaml").write_bytes(qna.encode())
    return check_file(str(folder / "qna.yaml"), CheckOptions())


def only(found: list[Finding], rule: str, line: int, col: int, says: str) -> Finding:
    at = [(f.rule, f.pos.line, f.pos.col) for f in found]
    hits = [f for f in found if (f.rule, f.pos.line, f.pos.col) == (rule, line, col)]
    assert len(hits) == 1, at
    assert says in f"{hits[0].message} {hits[0].hint}", hits[0]
    assert hits[0].hint.strip()
    return hits[0]


# `created_by: jd?oe` with the character at line 2, col 15, for every class.
CLASSES = {
    "line-separator": ("\u2028", "U+2028 LINE SEPARATOR: YAML and many programs read it as a line"),
    "paragraph-separator": ("\u2029", "U+2029 PARAGRAPH SEPARATOR: YAML"),
    "next-line": ("\x85", "U+0085 NEXT LINE: YAML"),
    "lone-cr": ("\r", "U+000D CARRIAGE RETURN without a line feed after it"),
    "rlo": ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE, an invisible character that reorders"),
    "lre": ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING, an invisible character that reorders"),
    "fsi": ("\u2068", "U+2068 FIRST STRONG ISOLATE"),
    "pdi": ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
    "nul": ("\x00", "U+0000 NULL, an invisible control character"),
    "escape": ("\x1b", "U+001B ESCAPE, an invisible control character"),
    "form-feed": ("\x0c", "U+000C FORM FEED"),
    "delete": ("\x7f", "U+007F DELETE"),
    "csi": ("\x9b", "U+009B CONTROL SEQUENCE INTRODUCER"),
}


@pytest.mark.parametrize("name", list(CLASSES))
def test_each_hidden_character_is_named_on_githubs_line(name: str, tmp_path: Path) -> None:
    """A contributor pastes text holding the character into `created_by` → one finding naming
    it (U+XXXX and its name) at line 2, col 15, where GitHub shows it."""
    char, says = CLASSES[name]
    found = checked(tmp_path, limerick().replace("jdoe", f"jd{char}oe"))
    finding = only(found, HIDDEN, 2, 15, says)
    assert finding.message.startswith("Line 2 holds U+")


def test_a_tab_a_crlf_and_bidi_marks_are_not_hidden_characters(tmp_path: Path) -> None:
    """Tab and LF are text; CR LF is text.crlf's (once a file); LRM/RLM serve RTL scripts."""
    text = limerick().replace("jdoe", "jd\u200e\u200foe").replace("\n", "\r\n")
    found = checked(tmp_path, text.replace("answer: |", "answer:\t|", 1))
    assert HIDDEN not in {f.rule for f in found}, found
    only(found, "text.crlf", 1, 11, "(CR LF)")


def test_a_finding_after_a_line_separator_is_on_githubs_line(tmp_path: Path) -> None:
    """`created_by: "jd<U+2028>oe"` then a second created_by: libyaml counts that key on line 4,
    GitHub shows it on line 3; the finding and its "first at line" say 3 and 2."""
    text = limerick().replace("created_by: jdoe\n", 'created_by: "jd\u2028oe"\ncreated_by: eve\n')
    found = checked(tmp_path, text)
    only(found, HIDDEN, 2, 16, "U+2028 LINE SEPARATOR")
    only(found, "yaml.duplicate-key", 3, 1, "(first at line 2)")


def test_a_lone_cr_hides_a_second_key_on_one_github_line(tmp_path: Path) -> None:
    """`created_by: jdoe<CR>created_by: eve`: one line on GitHub, two keys to YAML; the second
    key is reported at line 2, col 18, right after the CR."""
    found = checked(tmp_path, limerick().replace("jdoe\n", "jdoe\rcreated_by: eve\n", 1))
    only(found, HIDDEN, 2, 17, "CARRIAGE RETURN without a line feed")
    only(found, "yaml.duplicate-key", 2, 18, "(first at line 2)")


def test_columns_after_an_astral_character_count_code_points(tmp_path: Path) -> None:
    """An emoji is one column for GitHub and one for us, then U+2028, then a duplicate key."""
    line = 'created_by: "\U0001f600\u2028x"\ncreated_by: eve\n'
    found = checked(tmp_path, limerick().replace("created_by: jdoe\n", line))
    only(found, HIDDEN, 2, 15, "U+2028")
    only(found, "yaml.duplicate-key", 3, 1, "(first at line 2)")


def test_a_syntax_error_after_a_next_line_is_on_githubs_line(tmp_path: Path) -> None:
    """U+0085 in an unquoted value ends it for YAML; the next line is what is wrong, and GitHub's
    line 4 col 1 (`seed_examples:`) is where libyaml's mark points, not its own line 5."""
    found = checked(
        tmp_path, limerick().replace("task_description: Writing", "task_description: W\x85x")
    )
    only(found, HIDDEN, 3, 20, "U+0085 NEXT LINE")
    only(found, "yaml.syntax", 4, 1, "not a `key: value` pair")


def test_schema_findings_after_a_paragraph_separator_are_on_githubs_line(tmp_path: Path) -> None:
    """A misspelt key on line 3, after a U+2029 on line 2: the schema finding says line 3."""
    text = limerick().replace("created_by: jdoe\n", 'created_by: "j\u2029d"\ncreatd_by: x\n')
    found = checked(tmp_path, text)
    only(found, "schema.unexpected-key", 3, 1, "creatd_by")


def test_yaml_refused_controls_give_one_named_finding_each_not_a_syntax_error(
    tmp_path: Path,
) -> None:
    """Four BELs: three findings (the third counts the fourth), no vaguer yaml.syntax."""
    text = limerick().replace("jdoe", "j\x07d\x07o\x07e\x07")
    found = checked(tmp_path, text)
    assert [(f.rule, f.pos.line, f.pos.col) for f in found] == [
        (HIDDEN, 2, 14),
        (HIDDEN, 2, 16),
        (HIDDEN, 2, 18),
    ]
    assert found[2].message.endswith("The file holds 1 more such character.")


def test_a_reader_error_is_located_in_characters_after_accents(tmp_path: Path) -> None:
    """U+FFFF (libyaml refuses it, our scan does not name it) after `éé`: libyaml gives a byte
    offset; the finding is at the character GitHub shows, col 15."""
    found = checked(tmp_path, limerick().replace("jdoe", "éé\uffff"))
    only(found, "yaml.syntax", 2, 15, "Delete the character")


def test_every_control_character_has_its_unicode_name() -> None:
    """Our C0/C1 name table agrees with Unicode's name aliases, character by character (but
    U+0007, which keeps its ISO 6429 name BELL: Unicode's BELL is U+1F514, its alias ALERT)."""
    for point in [*range(0x20), 0x7F, *range(0x80, 0xA0)]:
        code, name = character_name(chr(point)).split(" ", 1)
        assert code == f"U+{point:04X}"
        alias = "ALERT" if name == "BELL" else name
        assert unicodedata.lookup(alias) == chr(point), name


def test_the_scan_is_one_pass_on_clean_text() -> None:
    assert invisible_findings("x", limerick() * 50) == []


# --- attribution.txt is read as GitHub shows it --------------------------------------------

ATTRIBUTION = (
    "Title of work: Animal limericks\n"
    "Link to work: https://github.com/jdoe/limericks\n"
    "Revision: -\n"
    "License of the work: CC-BY-4.0\n"
    "Creator names: Jane Doe\n"
)


def test_a_line_separator_cannot_hide_a_second_licence(tmp_path: Path) -> None:
    """`License of the work: CC-BY-4.0<U+2028>License of the work: Proprietary` is one line on
    GitHub: its value is not a licence, and the hidden character is named."""
    text = ATTRIBUTION.replace("CC-BY-4.0", "CC-BY-4.0\u2028License of the work: Proprietary")
    found = checked(tmp_path, limerick(), text)
    only(found, HIDDEN, 4, 31, "U+2028 LINE SEPARATOR")
    only(found, "attribution.license", 4, 1, "License of the work: Proprietary")


def test_a_field_given_twice_is_a_finding(tmp_path: Path) -> None:
    """Two `License of the work:` lines (and three titles): one finding per field, at the
    second line, saying where the first is and that only it counts."""
    text = ATTRIBUTION + "License of the work: MIT\nTitle of work: A\nTitle of work: B\n"
    found = checked(tmp_path, limerick(), text)
    only(found, "attribution.duplicate", 6, 1, "`License of the work` is given twice (first at")
    only(found, "attribution.duplicate", 7, 1, "`Title of work` is given 3 times (first at line 1)")
    assert sum(f.rule == "attribution.duplicate" for f in found) == 2


def test_the_licence_of_a_second_work_is_checked_too(tmp_path: Path) -> None:
    """Block two (after the blank line at 6) credits another work: its licence, line 10, and
    its link, line 8, are read like the first block's."""
    second = ATTRIBUTION.replace("CC-BY-4.0", "Proprietary").replace("https://", "ftp://")
    found = checked(tmp_path, limerick(), ATTRIBUTION + "\n" + second)
    only(found, "attribution.license", 10, 1, "`Proprietary` is not one of the accepted")
    only(found, "attribution.link", 8, 1, "it is `ftp://github.com/jdoe/limericks`")
    assert len(found) == 2, found


def test_a_repeated_licence_line_is_a_duplicate_and_checked(tmp_path: Path) -> None:
    """A second `License of the work:` in the same block: named as a duplicate of line 4, and
    its value checked all the same (fixing one must not leave the other unread)."""
    found = checked(tmp_path, limerick(), ATTRIBUTION + "License of the work: all rights\n")
    only(found, "attribution.duplicate", 6, 1, "`License of the work` is given twice (first at")
    only(found, "attribution.license", 6, 1, "`all rights` is not one of the accepted licences")
    assert len(found) == 2, found


def test_a_blank_line_starts_the_fields_of_another_work(tmp_path: Path) -> None:
    """Upstream files credit several works, one block each: that is no duplicate."""
    found = checked(tmp_path, limerick(), ATTRIBUTION + "\n" + ATTRIBUTION)
    assert found == []


def test_crlf_attribution_lines_count_like_github(tmp_path: Path) -> None:
    """Windows line endings: the same lines, values without a trailing CR."""
    found = checked(tmp_path, limerick(), ATTRIBUTION.replace("\n", "\r\n"))
    assert found == []


# --- the terminal and the Actions log print no raw control character ----------------------

SCREEN = '"\\e[2J\\e[HAll good": x\n'  # YAML's \e escape: the file itself is plain ASCII


def test_a_key_that_clears_the_screen_prints_escaped(tmp_path: Path) -> None:
    """A key `ESC[2J ESC[H All good` would clear a maintainer's terminal and fake a clean run;
    the text and github reporters show it as `\\x1b[2J\\x1b[HAll good`."""
    found = checked(
        tmp_path, limerick().replace("created_by: jdoe\n", "created_by: jdoe\n" + SCREEN)
    )
    assert "\x1b[2J" in only(found, "schema.unexpected-key", 3, 1, "All good").message
    report = CheckReport(files=("qna.yaml",), findings=tuple(found))
    for fmt in ("text", "github"):
        out = REPORTERS[fmt](report)
        assert "\x1b" not in out and "\\x1b[2J\\x1b[HAll good" in out, out


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_reporters_escape_every_field_taken_from_a_file(fmt: str) -> None:
    """Path, message, hint and YAML path: C0, C1, DEL, CR, LF, bidi and U+2028 all come out as
    visible escapes, and each finding stays on its own line."""
    nasty = "a\x1b]0;pwned\x07\x9b2J\x7f\r\n\u202e\u2028z"
    finding = error("schema.type", f"p{nasty}.yaml", Position(3, 4), nasty, nasty, nasty)
    out = REPORTERS[fmt](CheckReport(files=("x",), findings=(finding,)))
    assert all(ch == "\n" or ch.isprintable() for ch in out), repr(out)
    assert "a\\x1b]0;pwned\\x07\\x9b2J\\x7f\\x0d\\x0a\\u202e\\u2028z" in out
    assert out.count("\n") == (3 if fmt == "text" else 2)


def test_printable_leaves_ordinary_text_alone() -> None:
    text = "Émile’s «limerick» — 猫, 🐈, tabs aside: `x` \\ %"
    assert printable(text) == text
    assert printable("\t\U000e0001\u00a0") == "\\x09\\U000e0001\\xa0"


def test_the_json_report_escapes_what_a_terminal_would_act_on() -> None:
    """`taxonbot check --format json` printed in a terminal: C1 controls (U+009B is a CSI on
    some terminals), DEL, bidi overrides and isolates, U+2028 and a tag character come out as
    `\\u` escapes, not raw; the JSON parses to the very same strings, and readable non-ASCII
    stays as it is."""
    nasty = "a\x1b]0;pwned\x07\x85\x9b2J\x7f\u202a\u202e\u2066\u2069\u2028\U000e0001z Émile 猫"
    finding = error("schema.type", f"p{nasty}.yaml", Position(3, 4), nasty, nasty, nasty)
    out = REPORTERS["json"](CheckReport(files=(f"p{nasty}.yaml",), findings=(finding,)))
    assert out.endswith("\n") and out[:-1].isprintable(), repr(out)
    for raw, shown in [("\x85", "\\u0085"), ("\x9b", "\\u009b"), ("\u202e", "\\u202e")]:
        assert raw not in out and shown in out
    assert "\\u2066" in out and "\\u2069" in out and "\\udb40\\udc01" in out
    assert "Émile 猫" in out
    body = json.loads(out)
    (parsed,) = body["findings"]
    assert [parsed[k] for k in ("path", "message", "hint", "yaml_path")] == [
        f"p{nasty}.yaml",
        nasty,
        nasty,
        nasty,
    ]
    assert body["files"] == [f"p{nasty}.yaml"]
