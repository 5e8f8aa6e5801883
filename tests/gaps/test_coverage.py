"""Stories of a maintainer reading the tree as a map: what is thin, what is wanted, what broke."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taxonbot.gaps.coverage import (
    CoverageReport,
    coverage,
    coverage_json,
    coverage_markdown,
)
from taxonbot.gaps.policy import (
    DEFAULT_POLICY,
    Policy,
    PolicyError,
    Thresholds,
    WantedDomain,
    load_policy,
    policy_path,
)

REPO = Path(__file__).resolve().parents[2]
EMPTY = "  []\n"
POLICY = """\
# test policy
version: 1
thin:
  min_leaves: 2
  min_seed_examples: 10
wanted:
  - path: knowledge/science
    why: Science is asked about all the time.
  - path: knowledge/history
    why: No history yet.
  - path: compositional_skills/writing/poems/haiku
    why: An exact leaf path counts as covered.
  - path: compositional_skills/writing/poe
    why: A name prefix is not a folder prefix.
"""


def skill(count: int) -> str:
    examples = "".join(f"  - question: Q{i}?\n    answer: A{i}.\n" for i in range(count))
    return f"version: 3\ntask_description: t\nseed_examples:\n{examples or EMPTY}"


def knowledge(count: int, per_passage: int = 3) -> str:
    pairs = "".join(f"      - question: Q{j}?\n        answer: A.\n" for j in range(per_passage))
    examples = "".join(
        f"  - context: C{i}\n    questions_and_answers:\n{pairs}" for i in range(count)
    )
    return f"version: 3\ndomain: d\nseed_examples:\n{examples}"


def leaf(root: Path, path: str, text: str, name: str = "qna.yaml") -> None:
    folder = root / path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Four leaves across the three roots, one of them empty, and one file that does not parse."""
    root = tmp_path / "taxonomy"
    leaf(root, "knowledge/science/physics/gravity", knowledge(5))
    leaf(root, "compositional_skills/writing/poems/haiku", skill(5))
    leaf(root, "compositional_skills/writing/poems/limerick", skill(6))
    leaf(root, "foundational_skills/reasoning/math/nothing_yet", "version: 3\nseed_examples: []\n")
    leaf(root, "knowledge/broken", "version: 3\nseed_examples: [\n  - oops\n")
    (root / "wanted.yaml").write_text(POLICY, encoding="utf-8")
    return root


def report_for(root: Path) -> CoverageReport:
    policy = load_policy(policy_path(str(root)))
    assert isinstance(policy, Policy), policy
    return coverage(str(root), policy)


def branch(report: CoverageReport, path: str) -> tuple[int, int, int, bool]:
    found = {b.path: b for b in report.branches}[path]
    return found.leaves, found.seed_examples, found.questions, found.thin


def test_a_maintainer_sees_leaves_and_seed_examples_per_branch(tree: Path) -> None:
    report = report_for(tree)
    assert report.leaves == (
        "compositional_skills/writing/poems/haiku",
        "compositional_skills/writing/poems/limerick",
        "foundational_skills/reasoning/math/nothing_yet",
        "knowledge/science/physics/gravity",
    )
    # Two leaves and 11 examples clear the bar; one knowledge leaf does not, whatever its size.
    assert branch(report, "compositional_skills") == (2, 11, 11, False)
    assert branch(report, "compositional_skills/writing/poems") == (2, 11, 11, False)
    assert branch(report, "knowledge") == (1, 5, 15, True)  # 5 passages, 3 questions each
    assert branch(report, "knowledge/science/physics") == (1, 5, 15, True)
    assert branch(report, "foundational_skills/reasoning") == (1, 0, 0, True)
    assert report.seed_examples == 16 and report.questions == 26
    paths = [b.path for b in report.branches]
    assert paths == sorted(paths, key=lambda p: tuple(p.split("/")))  # parents first
    assert not set(paths) & set(report.leaves)  # a leaf is not a branch of itself


def test_a_leaf_that_does_not_parse_is_skipped_with_its_line(tree: Path) -> None:
    report = report_for(tree)
    [skipped] = report.skipped
    assert skipped.path == "knowledge/broken"
    assert skipped.reason.startswith("qna.yaml line ")
    assert "not valid YAML" in skipped.reason
    assert "knowledge/broken" not in report.leaves


def test_wanted_domains_are_covered_only_by_a_leaf_at_or_below_them(tree: Path) -> None:
    report = report_for(tree)
    assert report.missing_wanted == (
        ("knowledge/history", "No history yet."),
        ("compositional_skills/writing/poe", "A name prefix is not a folder prefix."),
    )


def test_stricter_thresholds_make_more_branches_thin(tree: Path) -> None:
    strict = Policy(thin=Thresholds(min_leaves=3, min_seed_examples=0))
    report = coverage(str(tree), strict)
    assert branch(report, "compositional_skills/writing") == (2, 11, 11, True)
    lenient = coverage(str(tree), Policy(thin=Thresholds(min_leaves=0, min_seed_examples=0)))
    assert not lenient.thin_branches


def test_an_empty_tree_is_a_map_of_three_empty_roots(tmp_path: Path) -> None:
    wanted = (WantedDomain("knowledge/history", "none yet"),)
    report = coverage(str(tmp_path), Policy(wanted=wanted))
    assert report.leaves == () and report.skipped == ()
    assert [(b.path, b.leaves, b.thin) for b in report.branches] == [
        ("compositional_skills", 0, True),
        ("foundational_skills", 0, True),
        ("knowledge", 0, True),
    ]
    assert report.missing_wanted == (("knowledge/history", "none yet"),)
    assert "0 leaves with 0 seed examples" in coverage_markdown(report)
    assert coverage_json(report)["summary"]["leaves"] == 0


def test_a_missing_taxonomy_folder_is_reported_not_raised(tmp_path: Path) -> None:
    report = coverage(str(tmp_path / "nowhere"), DEFAULT_POLICY)
    assert [s.path for s in report.skipped] == ["."]
    assert "does not exist" in report.skipped[0].reason


def test_files_that_are_not_leaves_are_skipped_with_a_reason(tmp_path: Path) -> None:
    leaf(tmp_path, "knowledge/science/physics", skill(5), name="qna.yml")
    leaf(tmp_path, "recipes/soup", skill(5))
    leaf(tmp_path, "knowledge", skill(5))
    leaf(tmp_path, "compositional_skills/listing", "- just\n- a list\n")
    real = tmp_path / "compositional_skills" / "real"
    leaf(tmp_path, "compositional_skills/real", skill(5))
    (tmp_path / "compositional_skills" / "linked").mkdir()
    os.symlink(real / "qna.yaml", tmp_path / "compositional_skills" / "linked" / "qna.yaml")
    report = coverage(str(tmp_path), DEFAULT_POLICY)
    assert report.leaves == ("compositional_skills/real",)
    reasons = {s.path: s.reason for s in report.skipped}
    assert "not named qna.yaml" in reasons["knowledge/science/physics/qna.yml"]
    assert "sits in the root folder" in reasons["knowledge"]
    assert "key: value" in reasons["compositional_skills/listing"]
    assert "symbolic link" in reasons["compositional_skills/linked"]
    assert "Not under knowledge" in reasons["recipes/soup"]


def test_json_has_stable_keys_and_round_trips(tree: Path) -> None:
    body = coverage_json(report_for(tree))
    assert json.loads(json.dumps(body)) == body
    assert list(body) == [
        "format",
        "root",
        "policy",
        "summary",
        "branches",
        "leaves",
        "missing_wanted",
        "skipped",
    ]
    assert body["format"] == "taxonbot-coverage/1"
    assert body["summary"] == {
        "leaves": 4,
        "seed_examples": 16,
        "questions": 26,
        "branches": len(body["branches"]),
        "thin_branches": sum(b["thin"] for b in body["branches"]),
        "missing_wanted": 2,
        "skipped": 1,
    }
    assert body["policy"]["thin"] == {"min_leaves": 2, "min_seed_examples": 10}
    assert set(body["branches"][0]) == {
        "path",
        "depth",
        "leaves",
        "seed_examples",
        "questions",
        "thin",
    }
    assert body["leaves"][0] == {
        "path": "compositional_skills/writing/poems/haiku",
        "seed_examples": 5,
        "questions": 5,
    }
    assert body["skipped"][0]["path"] == "knowledge/broken"


def outside_code(markdown: str) -> str:
    return re.sub(r"`[^`\n]*`", "", markdown)


def test_hostile_folder_names_stay_inert_in_markdown(tmp_path: Path) -> None:
    leaf(tmp_path, "knowledge/<img src=x>/@someone", knowledge(5))
    leaf(tmp_path, "compositional_skills/a|b/`x`/#12", skill(5))
    leaf(tmp_path, "knowledge/<script>/@root", "not: [valid\n")
    policy = Policy(wanted=(WantedDomain("knowledge/history", "<b>ping</b> @maintainers #1"),))
    markdown = coverage_markdown(coverage(str(tmp_path), policy))
    assert "knowledge/<img src=x>" in markdown  # shown, but only inside a code span
    assert "<img" not in outside_code(markdown)
    assert "<b>" not in markdown
    assert "<script>" not in outside_code(markdown)
    assert "`knowledge/<script>/@\u200broot`: qna.yaml line" in markdown
    assert not re.search(r"@[A-Za-z]", markdown)  # every mention broken by a zero-width space
    assert not re.search(r"#\d", markdown)  # and every issue backlink
    for row in markdown.splitlines():
        if row.startswith("| `compositional_skills/a"):
            assert row.count(" | ") == 4  # the `|` in the name did not add a table cell


def test_the_markdown_says_what_is_thin_and_what_is_wanted(tree: Path) -> None:
    markdown = coverage_markdown(report_for(tree))
    assert "fewer than 2 leaves or 10 seed examples" in markdown
    assert "| `knowledge/history` | No history yet. |" in markdown
    assert "| `knowledge` | 1 | 5 | 15 | ⚠️ thin |" in markdown
    assert "- `knowledge/broken`: qna.yaml line" in markdown
    short = coverage_markdown(report_for(tree), max_rows=2)
    assert "more branches; the JSON output lists them all" in short


def test_a_tree_without_a_policy_file_gets_the_default(tmp_path: Path) -> None:
    assert load_policy(str(tmp_path / "wanted.yaml")) is DEFAULT_POLICY
    assert DEFAULT_POLICY.thin == Thresholds(2, 10) and DEFAULT_POLICY.wanted == ()
    markdown = coverage_markdown(coverage(str(tmp_path), DEFAULT_POLICY))
    assert "add them to `taxonomy/wanted.yaml`" in markdown


def test_a_policy_of_comments_only_wants_nothing(tmp_path: Path) -> None:
    path = tmp_path / "wanted.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert load_policy(str(path)) == Policy(source=str(path))


def test_the_policy_reads_thresholds_and_wanted_domains(tree: Path) -> None:
    policy = load_policy(str(tree / "wanted.yaml"))
    assert isinstance(policy, Policy)
    assert policy.thin == Thresholds(2, 10)
    assert policy.wanted[0] == WantedDomain(
        "knowledge/science", "Science is asked about all the time."
    )
    assert len(policy.wanted) == 4


MALFORMED = {
    "syntax": ("thin: [\n", 2, "not valid YAML"),
    "not-a-number": ("thin:\n  min_leaves: two\n", 2, "`min_leaves` must be a whole number"),
    "negative": ("thin:\n  min_seed_examples: -1\n", 2, "whole number of 0 or more"),
    "empty-number": ("thin:\n  min_leaves:\n", 2, "empty or not a number"),
    "thin-list": ("thin: [1, 2]\n", 1, "`thin` must hold `key: value` fields"),
    "typo": ("thin:\n  min_leafs: 2\n", 2, "`min_leafs` is not a policy field"),
    "top-typo": ("wnated: []\n", 1, "`wnated` is not a policy field"),
    "version": ("version: 2\n", 1, "reads policy version 1"),
    "not-a-map": ("- knowledge\n", 1, "must be `key: value` fields"),
    "wanted-map": ("wanted:\n  path: knowledge\n", 2, "`wanted` must be a list"),
    "wanted-item": ("wanted:\n  - knowledge/history\n", 2, "needs `path` and `why`"),
    "no-why": ("wanted:\n  - path: knowledge/history\n", 2, "has no `why`"),
    "bad-root": ("wanted:\n  - path: science/x\n    why: w\n", 2, "must start with one of"),
    "bad-name": ("wanted:\n  - path: knowledge/Hist ory\n    why: w\n", 2, "lower_snake_case"),
    "twice": (
        "wanted:\n  - path: knowledge/a\n    why: w\n  - path: knowledge/a\n    why: w\n",
        4,
        "listed twice",
    ),
    "duplicate-key": ("thin: {}\nthin: {}\n", 2, "appears twice"),
    "alias": ("a: &x 1\nthin: *x\n", 1, "anchor"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_policy_is_an_error_naming_file_line_and_fix(tmp_path: Path, case: str) -> None:
    text, line, says = MALFORMED[case]
    path = tmp_path / "wanted.yaml"
    path.write_text(text, encoding="utf-8")
    result = load_policy(str(path))
    assert isinstance(result, PolicyError), result
    first = result.findings[0]
    assert (first.path, first.pos.line) == (str(path), line)
    assert says in first.message
    rendered = result.render()
    assert rendered.startswith(f"{path}:{line}:") and "\n    fix: " in rendered


def test_every_policy_problem_is_collected_not_just_the_first(tmp_path: Path) -> None:
    path = tmp_path / "wanted.yaml"
    path.write_text("thin:\n  min_leaves: x\n  min_seed_examples: y\nwanted: 3\n", "utf-8")
    result = load_policy(str(path))
    assert isinstance(result, PolicyError)
    assert [f.pos.line for f in result.findings] == [2, 3, 4]
    assert {f.rule for f in result.findings} == {"policy.invalid"}


def test_the_community_tree_and_its_policy() -> None:
    taxonomy = REPO / "taxonomy"
    policy = load_policy(policy_path(str(taxonomy)))
    assert isinstance(policy, Policy), policy.render()
    assert policy.source.endswith("wanted.yaml") and len(policy.wanted) >= 5
    report = coverage(str(taxonomy), policy)
    assert report.skipped == ()
    assert len(report.leaves) >= 10
    roots = [b for b in report.branches if b.depth == 1]
    assert sum(b.leaves for b in roots) == len(report.leaves)
    assert sum(b.seed_examples for b in roots) == report.seed_examples
    knowledge = {b.path: b for b in report.branches}["knowledge"]
    assert knowledge.questions == 3 * knowledge.seed_examples  # v3: 3 questions a passage
    missing = dict(report.missing_wanted)
    assert "compositional_skills/writing/freeform/email" not in missing  # polite_decline
    for path in missing:
        assert not any(p == path or p.startswith(path + "/") for p in report.leaves)
    assert "### 🗺️ Taxonomy coverage" in coverage_markdown(report)


def test_coverage_stays_on_the_light_path() -> None:
    code = (
        "import sys, taxonbot.gaps.coverage, taxonbot.gaps.policy, taxonbot.gaps.picture\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'matplotlib', 'numpy', 'torch', 'transformers', 'PIL'})\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
