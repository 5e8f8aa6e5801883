"""The tree as a map: leaves and seed examples per branch, thin branches, wanted domains unmet.

Pure over the files it reads: no git, network or clock. A `qna.yaml` that does not parse is
skipped with its reason (`taxonbot check` is the place that explains it in full), never fatal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from taxonbot.check.run import discover
from taxonbot.gaps.policy import DEFAULT_POLICY, Policy, Thresholds
from taxonbot.markdown import code, inline, prose
from taxonbot.taxonomy.leaf import QNA_NAME, ROOTS
from taxonbot.taxonomy.loader import load

FORMAT = "taxonbot-coverage/1"
MARKDOWN_ROWS = 80  # branches shown in a comment; the JSON always has them all


@dataclass(frozen=True)
class BranchStats:
    path: str  # a folder above at least one leaf, e.g. `compositional_skills/writing`
    leaves: int
    seed_examples: int
    questions: int  # knowledge: every question of every passage; skills: one per example
    thin: bool

    @property
    def depth(self) -> int:
        return self.path.count("/") + 1


@dataclass(frozen=True)
class LeafStats:
    path: str
    seed_examples: int
    questions: int


@dataclass(frozen=True)
class SkippedLeaf:
    path: str
    reason: str


@dataclass(frozen=True)
class CoverageReport:
    root: str
    branches: tuple[BranchStats, ...]
    leaves: tuple[str, ...]
    missing_wanted: tuple[tuple[str, str], ...]  # (path, why), in the policy's order
    skipped: tuple[SkippedLeaf, ...]
    leaf_stats: tuple[LeafStats, ...] = ()  # parallel to `leaves`
    policy: Policy = DEFAULT_POLICY

    @property
    def seed_examples(self) -> int:
        return sum(leaf.seed_examples for leaf in self.leaf_stats)

    @property
    def questions(self) -> int:
        return sum(leaf.questions for leaf in self.leaf_stats)

    @property
    def thin_branches(self) -> tuple[BranchStats, ...]:
        return tuple(branch for branch in self.branches if branch.thin)


def coverage(taxonomy_root: str, policy: Policy) -> CoverageReport:
    found: list[LeafStats] = []
    skipped: list[SkippedLeaf] = []
    if not os.path.isdir(taxonomy_root):
        skipped.append(SkippedLeaf(".", "The taxonomy folder does not exist."))
    else:
        for file in discover([taxonomy_root]):
            result = read_leaf(taxonomy_root, file)
            if isinstance(result, LeafStats):
                found.append(result)
            else:
                skipped.append(result)
    found.sort(key=lambda leaf: _key(leaf.path))
    leaves = tuple(leaf.path for leaf in found)
    return CoverageReport(
        root=taxonomy_root,
        branches=branch_stats(found, policy.thin),
        leaves=leaves,
        missing_wanted=tuple(
            (w.path, w.why) for w in policy.wanted if not any(covers(w.path, p) for p in leaves)
        ),
        skipped=tuple(sorted(skipped, key=lambda s: _key(s.path))),
        leaf_stats=tuple(found),
        policy=policy,
    )


def read_leaf(taxonomy_root: str, file: str) -> LeafStats | SkippedLeaf:
    rel = os.path.relpath(file, taxonomy_root).replace(os.sep, "/")
    parts = rel.split("/")
    leaf = "/".join(parts[:-1])
    if parts[-1] != QNA_NAME:
        return SkippedLeaf(rel, f"`{parts[-1]}` is not named {QNA_NAME}, so it is not a leaf.")
    if parts[0] not in ROOTS:
        return SkippedLeaf(leaf or ".", f"Not under {', '.join(ROOTS)}, so not in the tree.")
    if len(parts) < 3:
        return SkippedLeaf(leaf, f"{QNA_NAME} sits in the root folder; a leaf needs its own.")
    loaded = load(file)
    if loaded.root is None:
        first = loaded.findings[0]
        more = len(loaded.findings) - 1
        tail = f" ({more} more; run `taxonbot check` on it)" if more else ""
        return SkippedLeaf(leaf, f"{QNA_NAME} line {first.pos.line}: {first.message}{tail}")
    data = loaded.root.to_python()
    if not isinstance(data, dict):
        return SkippedLeaf(leaf, f"{QNA_NAME} is not a set of `key: value` fields.")
    seeds, questions = count_examples(data.get("seed_examples"))
    return LeafStats(leaf, seeds, questions)


def count_examples(seeds: Any) -> tuple[int, int]:
    """Seed examples and the question/answer pairs in them, whatever the schema version.

    Knowledge v3 nests `questions_and_answers` under each passage; skills (and knowledge v1/v2)
    have one `question` per example. Malformed parts count as nothing: `check` reports them.
    """
    if not isinstance(seeds, list):
        return 0, 0
    questions = 0
    for example in seeds:
        if not isinstance(example, dict):
            continue
        pairs = example.get("questions_and_answers")
        if isinstance(pairs, list):
            questions += sum(1 for pair in pairs if isinstance(pair, dict) and pair.get("question"))
        elif example.get("question"):
            questions += 1
    return len(seeds), questions


def branch_stats(leaves: list[LeafStats], thin: Thresholds) -> tuple[BranchStats, ...]:
    """Every folder above a leaf, and the three roots even when empty (an empty root is news)."""
    totals: dict[str, list[int]] = {root: [0, 0, 0] for root in ROOTS}
    for leaf in leaves:
        parts = leaf.path.split("/")
        for end in range(1, len(parts)):
            row = totals.setdefault("/".join(parts[:end]), [0, 0, 0])
            row[0] += 1
            row[1] += leaf.seed_examples
            row[2] += leaf.questions
    return tuple(
        BranchStats(path, n, seeds, questions, is_thin(n, seeds, thin))
        for path, (n, seeds, questions) in sorted(totals.items(), key=lambda kv: _key(kv[0]))
    )


def is_thin(leaves: int, seed_examples: int, thin: Thresholds) -> bool:
    return leaves < thin.min_leaves or seed_examples < thin.min_seed_examples


def covers(wanted: str, leaf: str) -> bool:
    return leaf == wanted or leaf.startswith(wanted + "/")


def _key(path: str) -> tuple[str, ...]:
    return tuple(path.split("/"))  # parents before children: `a/b` before `a_c`


def coverage_json(report: CoverageReport) -> dict[str, Any]:
    """JSON-ready; the keys are stable (`format` changes if they ever must)."""
    thin = report.policy.thin
    return {
        "format": FORMAT,
        "root": report.root,
        "policy": {
            "source": report.policy.source,
            "thin": {"min_leaves": thin.min_leaves, "min_seed_examples": thin.min_seed_examples},
            "wanted": [{"path": w.path, "why": w.why} for w in report.policy.wanted],
        },
        "summary": {
            "leaves": len(report.leaves),
            "seed_examples": report.seed_examples,
            "questions": report.questions,
            "branches": len(report.branches),
            "thin_branches": len(report.thin_branches),
            "missing_wanted": len(report.missing_wanted),
            "skipped": len(report.skipped),
        },
        "branches": [
            {
                "path": b.path,
                "depth": b.depth,
                "leaves": b.leaves,
                "seed_examples": b.seed_examples,
                "questions": b.questions,
                "thin": b.thin,
            }
            for b in report.branches
        ],
        "leaves": [
            {"path": leaf.path, "seed_examples": leaf.seed_examples, "questions": leaf.questions}
            for leaf in report.leaf_stats
        ],
        "missing_wanted": [{"path": path, "why": why} for path, why in report.missing_wanted],
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
    }


def coverage_markdown(report: CoverageReport, max_rows: int = MARKDOWN_ROWS) -> str:
    """For the PR comment and the job summary. Paths and reasons come from PRs: all escaped."""
    thin = report.policy.thin
    rule = f"fewer than {thin.min_leaves} leaves or {thin.min_seed_examples} seed examples"
    lines = [
        "### 🗺️ Taxonomy coverage",
        "",
        f"{len(report.leaves)} leaves with {report.seed_examples} seed examples "
        f"({report.questions} questions). "
        f"{len(report.thin_branches)} of {len(report.branches)} branches are thin ({rule}).",
        "",
    ]
    lines += _wanted_section(report)
    lines += _branch_table(report, max_rows)
    if report.skipped:
        lines += [
            f"**Skipped** ({len(report.skipped)}: not counted above; "
            "`taxonbot check` explains how to fix them)",
            "",
        ]
        lines += [f"- {code(s.path)}: {prose(s.reason)}" for s in report.skipped]
        lines.append("")
    return "\n".join(lines) + "\n"


def _wanted_section(report: CoverageReport) -> list[str]:
    wanted = len(report.policy.wanted)
    if not wanted:
        return ["No wanted domains are listed yet: add them to `taxonomy/wanted.yaml`.", ""]
    if not report.missing_wanted:
        return [f"✅ All {wanted} wanted domains have at least one leaf.", ""]
    lines = [
        f"**Wanted, no leaf yet** ({len(report.missing_wanted)} of {wanted} wanted domains; "
        "a good place to start a new leaf)",
        "",
        "| Domain | Why |",
        "|---|---|",
    ]
    lines += [f"| {code(path)} | {inline(why)} |" for path, why in report.missing_wanted]
    return [*lines, ""]


def _branch_table(report: CoverageReport, max_rows: int) -> list[str]:
    lines = [
        f"<details><summary>Branches ({len(report.branches)})</summary>",
        "",
        "| Branch | Leaves | Seed examples | Questions | |",
        "|---|---:|---:|---:|---|",
    ]
    for b in report.branches[:max_rows]:
        flag = "⚠️ thin" if b.thin else ""
        lines.append(
            f"| {code(b.path)} | {b.leaves} | {b.seed_examples} | {b.questions} | {flag} |"
        )
    hidden = len(report.branches) - max_rows
    if hidden > 0:
        lines += ["", f"…and {hidden} more branches; the JSON output lists them all."]
    return [*lines, "", "</details>", ""]
