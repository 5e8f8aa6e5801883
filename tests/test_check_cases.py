"""Example taxonomies under tests/data/check/{valid,invalid}/<case>/, one story each.

A case is a small taxonomy tree plus `expected.txt`, one finding a line:

    RULE LINE:COL [PATH] [~ text the message or hint must contain]

PATH is relative to the case folder; it may be left out when the finding is on the case's only
checked file. `#` starts a comment (the first one tells the story), and `#! xfail: why` marks a
case that shows a known bug. An optional `options.json` holds CheckOptions fields, e.g.
`{"changed": true}` for the pull-request policy. A new case is a new folder.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_file, discover
from taxonbot.cli.main import main
from taxonbot.taxonomy.findings import Finding, Severity

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "data" / "check"
REPO = TESTS.parent
# Rules the code can name but no input can reach; each says why, and stays checked below.
UNREACHABLE = {
    "schema.const": "`version` is the only const; taxonbot/check/versions.py picks the schema "
    "from it and reports version.unsupported before the schema could disagree",
}
# Rules whose inputs are byte-level or file-system oddities, generated in test_bad_inputs.py;
# and the merge gate's own (a PR too large, a file the API won't return, a path whose mode
# GitHub's answers do not give), in test_gate.py and test_gate_links.py.
GENERATED = (
    TESTS / "test_bad_inputs.py",
    TESTS / "github" / "test_gate.py",
    TESTS / "check" / "test_almost_leaves.py",
    TESTS / "check" / "test_gate_links.py",
)


@dataclass(frozen=True)
class Expected:
    rule: str
    line: int
    col: int
    path: str | None
    says: str | None

    def key(self, default_path: str | None) -> str:
        return f"{self.rule} {self.line}:{self.col} {self.path or default_path}"


def parse_expected(text: str) -> tuple[list[Expected], str | None]:
    rows, xfail = [], None
    for raw in text.splitlines():
        if raw.startswith("#! xfail:"):
            xfail = raw.partition(":")[2].strip()
        if not raw.strip() or raw.startswith("#"):
            continue
        head, _, says = raw.partition(" ~ ")
        rule, where, *path = head.split()
        line, col = where.split(":")
        rows.append(Expected(rule, int(line), int(col), path[0] if path else None, says or None))
    return rows, xfail


def case_params() -> list[object]:
    params = []
    for case in sorted(p for p in CASES.glob("*/*") if p.is_dir()):
        name = f"{case.parent.name}/{case.name}"
        expected = case / "expected.txt"
        xfail = parse_expected(expected.read_text("utf-8"))[1] if expected.is_file() else None
        marks = [pytest.mark.xfail(reason=xfail, strict=True)] if xfail else []
        params.append(pytest.param(case, id=name, marks=marks))
    return params


def run_case(case: Path) -> tuple[list[str], list[Finding]]:
    options_file = case / "options.json"
    options = json.loads(options_file.read_text("utf-8")) if options_file.is_file() else {}
    files = list(discover([str(case)]))
    found = [f for path in files for f in check_file(path, CheckOptions(**options))]
    return [Path(f).relative_to(case).as_posix() for f in files], found


def key(case: Path, finding: Finding) -> str:
    where = Path(finding.path).relative_to(case).as_posix()
    return f"{finding.rule} {finding.pos.line}:{finding.pos.col} {where}"


@pytest.mark.parametrize("case", case_params())
def test_case(case: Path) -> None:
    """Each folder is one contributor's leaf; the checker says exactly what expected.txt says."""
    assert (case / "expected.txt").is_file(), f"{case} needs an expected.txt"
    expected, _ = parse_expected((case / "expected.txt").read_text("utf-8"))
    files, found = run_case(case)
    assert files, f"{case} holds no file the checker would pick up"
    default = files[0] if len(files) == 1 else None
    assert default or all(e.path for e in expected), "name the file: the case has several"

    assert Counter(key(case, f) for f in found) == Counter(e.key(default) for e in expected)
    for row in expected:
        if row.says:
            texts = [f"{f.message} {f.hint}" for f in found if key(case, f) == row.key(default)]
            assert any(row.says in t for t in texts), f"{row.rule}: no {row.says!r} in {texts}"
    for finding in found:
        assert finding.message.strip() and finding.hint.strip(), finding
    errors = [f for f in found if f.severity is Severity.ERROR]
    if case.parent.name == "valid":
        assert not errors, "valid cases may only warn"
    else:
        assert errors, "an invalid case must block"


def emitted_rules() -> set[str]:
    """Every rule ID a literal in taxonbot/ names, plus the schema.* rules the schemas can raise."""
    rules: set[str] = set()
    for source in (REPO / "taxonbot").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if name in {"error", "warning", "make", "report"} and isinstance(first, ast.Constant):
                rules.add(str(first.value))
    return rules | schema_rules()


ASSERTIONS = {"type", "const", "enum", "minItems", "maxItems", "minLength", "maxLength",
              "uniqueItems", "pattern", "minimum", "maximum", "format", "required",
              "additionalProperties", "unevaluatedProperties"}  # fmt: skip


def schema_rules() -> set[str]:
    found: set[str] = set()
    todo: list[object] = []
    for name in ("defs.json", "v1/*.json", "v2/*.json", "v3/*.json"):
        todo += [json.loads(p.read_text("utf-8")) for p in (REPO / "schemas").glob(name)]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo += node
        elif isinstance(node, dict):
            for word, value in node.items():
                if word == "properties" and isinstance(value, dict):
                    todo += value.values()
                    continue
                if word in ASSERTIONS:
                    found.add(word)
                todo.append(value)
    names = {"additionalProperties": "unexpected-key", "unevaluatedProperties": "unexpected-key"}
    kebab = {w: re.sub(r"(?<!^)([A-Z])", r"-\1", w).lower() for w in found}
    return {f"schema.{names.get(w, kebab[w])}" for w in found}


def covered_rules() -> set[str]:
    covered = set()
    for expected in CASES.glob("*/*/expected.txt"):
        covered |= {row.rule for row in parse_expected(expected.read_text("utf-8"))[0]}
    for source in GENERATED:
        covered |= set(re.findall(r'"([a-z]+\.[a-z0-9-]+)"', source.read_text("utf-8")))
    return covered


def test_every_rule_the_checker_can_emit_has_an_example() -> None:
    """A maintainer adds a rule → this fails until a case folder or a bad-input story shows it."""
    emitted = emitted_rules()
    assert {"schema.required", "schema.min-items", "yaml.alias", "text.crlf"} <= emitted
    assert set(UNREACHABLE) <= emitted, "a rule listed as unreachable no longer exists"
    missing = emitted - set(UNREACHABLE) - covered_rules()
    assert not missing, f"rules without an example: {sorted(missing)}"


# --- the real command line, over the same folders ---------------------------------------

INVALID, VALID = CASES / "invalid", CASES / "valid"
GITHUB_LINE = re.compile(
    r"::(error|warning) file=[^,:]+,line=\d+,col=\d+,title=[a-z]+\.[a-z0-9-]+::\S.*"
)
TEXT_LINE = re.compile(r"\S+:\d+:\d+: (error|warning) \[[a-z]+\.[a-z0-9-]+\] \S.*")
CODE_SPAN = re.compile(r"(?<!\\)`[^`]*`")  # a backslash-escaped backtick opens nothing
CLEAN_SUMMARY = "1 file checked: 0 errors, 0 warnings."


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["text", "github", "json", "markdown"])
def test_a_clean_leaf_exits_0_in_every_format(
    fmt: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A contributor runs `taxonbot check --format X` on a clean leaf: exit 0, nothing to fix."""
    monkeypatch.chdir(VALID)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    code, out, _ = run_cli(capsys, "--format", fmt, "limerick_skill")
    assert code == 0
    if fmt == "json":
        assert json.loads(out)["summary"] == {"files": 1, "errors": 0, "warnings": 0}
    else:
        assert CLEAN_SUMMARY in out


def test_warnings_alone_do_not_fail_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    """A list dash with extra spaces is worth a warning, not a red CI run."""
    code, out, _ = run_cli(capsys, str(VALID / "hyphen_spacing"))
    assert code == 0
    assert "warning [text.hyphen-spacing]" in out


def test_text_output_names_file_line_col_rule_and_fix(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three seed examples → `path:5:3: error [schema.min-items] ...` then a `fix:` line."""
    monkeypatch.chdir(INVALID)
    code, out, _ = run_cli(capsys, "three_seed_examples")
    assert code == 1
    first, fix, summary = out.splitlines()
    assert TEXT_LINE.fullmatch(first)
    assert first.startswith("three_seed_examples/compositional_skills/writing/freeform/limerick/")
    assert (
        ":5:3: error [schema.min-items] `seed_examples` needs at least 5 items; it has 3." in first
    )
    assert fix.startswith("    fix: ")
    assert summary == "1 file checked: 1 error, 0 warnings."


def test_github_output_is_one_annotation_per_finding(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """In Actions every finding becomes an annotation on its line, and the job summary gets
    the Markdown report appended after what earlier steps wrote."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.chdir(INVALID)
    code, out, _ = run_cli(capsys, "--format", "github", "knowledge_document_problems")
    assert code == 1
    *annotations, last = out.splitlines()
    assert len(annotations) == 3
    assert all(GITHUB_LINE.fullmatch(line) for line in annotations), annotations
    assert "line=47,col=9,title=document.repo::" in annotations[0]
    assert last == "1 file checked: 3 errors, 0 warnings."
    written = summary.read_text("utf-8")
    assert written.startswith("earlier step\n### ❌ Changes needed")
    assert "| | Where | Problem | What to do |" in written


def test_json_output_has_a_stable_shape(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script reads --format json: format, mode, files, summary and findings with positions."""
    monkeypatch.chdir(INVALID)
    code, out, _ = run_cli(capsys, "--format", "json", "misspelled_key")
    assert code == 1
    body = json.loads(out)
    assert {"format", "summary", "findings", "files", "mode"} <= body.keys()
    assert body["format"] == "taxonbot-check/1"
    assert body["mode"] == "audit"
    assert body["summary"] == {"files": 1, "errors": 2, "warnings": 0}
    rules = [(f["rule"], f["line"], f["col"], f["severity"]) for f in body["findings"]]
    assert rules == [("schema.required", 1, 1, "error"), ("schema.unexpected-key", 2, 1, "error")]
    assert "Did you mean `created_by`?" in body["findings"][1]["hint"]


def markdown_cells(line: str) -> list[str]:
    """A GFM table row split the way GitHub splits it: at every pipe not escaped by `\\`."""
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def raw_html_outside_code(markdown: str) -> list[str]:
    found = []
    for line in markdown.splitlines():
        for cell in markdown_cells(line) if line.startswith("|") else [line]:
            if "<" in CODE_SPAN.sub("", cell):
                found.append(cell)
    return found


def test_markdown_output_keeps_untrusted_text_inert(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone names a key `<img src=x onerror=alert(1)> @octocat #1`: the PR comment shows it
    as text, pings nobody and links no issue."""
    monkeypatch.chdir(INVALID)
    code, out, _ = run_cli(capsys, "--format", "markdown", "untrusted_key_text")
    assert code == 1
    assert out.startswith("### ❌ Changes needed\n")
    assert raw_html_outside_code(out) == []
    # Names are shown in code spans; mentions and issue links are broken in and out of them.
    assert "@octocat" not in out and "@\u200boctocat" in out
    assert "#1" not in out and "#\u200b1" in out
    rows = [line for line in out.splitlines() if line.startswith("| ❌")]
    assert len(rows) == 1 and len(markdown_cells(rows[0])) == 4


def test_a_pipe_in_a_key_cannot_break_the_markdown_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key `x | <img src=x> @octocat`: the pipe must not split the cell, or the code span
    opens without closing and the `<img>` and the @mention go live in the PR comment."""
    monkeypatch.chdir(INVALID)
    code, out, _ = run_cli(capsys, "--format", "markdown", "untrusted_key_with_pipe")
    assert code == 1
    rows = [line for line in out.splitlines() if line.startswith("| ❌")]
    assert [len(markdown_cells(row)) for row in rows] == [4]
    assert raw_html_outside_code(out) == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["no/such/leaf"], "no such file or folder: no/such/leaf"),
        (["--base=--output=/tmp/x"], "`--output=/tmp/x` is not a git ref"),
        (["--changed-since=--output=/tmp/x"], "`--output=/tmp/x` is not a git ref"),
        (["--format", "yaml", "."], "invalid choice: 'yaml'"),
    ],
    ids=["missing-path", "ref-that-looks-like-an-option", "old-spelling", "unknown-format"],
)
def test_usage_mistakes_exit_2_and_say_what_was_wrong(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo on the command line is exit 2 (not 1, which means findings) with a plain reason;
    a ref that git would read as an option is refused before git runs."""
    monkeypatch.chdir(VALID)
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert says in err
    assert "checked" not in out


# --- bugs found in review, fixed; these stories keep them fixed ----


def check_text(tmp_path: Path, text: str) -> list[Finding]:
    leaf = tmp_path / "compositional_skills" / "writing" / "freeform" / "limerick"
    source = VALID / "limerick_skill" / "compositional_skills/writing/freeform/limerick"
    leaf.mkdir(parents=True)
    (leaf / "attribution.txt").write_bytes((source / "attribution.txt").read_bytes())
    (leaf / "qna.yaml").write_text(text, encoding="utf-8")
    return check_file(str(leaf / "qna.yaml"), CheckOptions())


def clean_limerick() -> str:
    path = VALID / "limerick_skill/compositional_skills/writing/freeform/limerick/qna.yaml"
    return path.read_text("utf-8")


@pytest.mark.parametrize("key", ['"it\'s"', "~"], ids=["apostrophe", "null-key"])
def test_an_unexpected_key_jsonschema_cannot_quote_is_still_reported(
    key: str, tmp_path: Path
) -> None:
    """A key `it's:` (or `~:`) fails the schema; the finding must not vanish with the quote."""
    found = check_text(tmp_path, clean_limerick() + f"{key}: x\n")
    assert [(f.rule, f.pos.line) for f in found] == [("schema.unexpected-key", 40)]


def test_the_first_ten_schema_problems_are_the_ones_shown(tmp_path: Path) -> None:
    """Eleven seed examples without answers: the ten shown start at the top of the file."""
    head = clean_limerick().split("seed_examples:\n")[0] + "seed_examples:\n"
    seeds = "".join(f"  - question: Limerick number {i} about a new animal?\n" for i in range(11))
    found = check_text(tmp_path, head + seeds)
    lines = [f.pos.line for f in found if f.rule == "schema.required"]
    assert lines == list(range(5, 15))


def test_identical_seed_examples_are_named_not_dumped() -> None:
    """Two identical seed examples: the message names them, not the repr of the whole list."""
    _, found = run_case(INVALID / "identical_seed_examples")
    (unique,) = [f for f in found if f.rule == "schema.unique-items"]
    assert len(unique.message) < 200, len(unique.message)


def test_extra_spaces_after_a_dash_right_after_a_block_answer_are_seen(tmp_path: Path) -> None:
    """`-   question:` on the line after a `|` answer gets the same warning as anywhere else."""
    lines = clean_limerick().splitlines(keepends=True)
    assert lines[11].startswith("  - question: Compose") and lines[12] == "    answer: |\n"
    lines[11] = lines[11].replace("  - ", "  -   ", 1)  # line 12, right after line 11's answer
    lines[12:18] = ["  " + line for line in lines[12:18]]  # its keys and text move along
    found = check_text(tmp_path, "".join(lines))
    assert ("text.hyphen-spacing", 12, 4) in [(f.rule, f.pos.line, f.pos.col) for f in found]
