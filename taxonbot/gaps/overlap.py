"""Overlap: which questions of a changed leaf are already asked, in other words, elsewhere.

For each changed leaf, the nearest questions of other leaves in the question index
(taxonbot.gaps.questionindex), and those at or above a calibrated cosine as near-duplicates.
See docs/overlap.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from taxonbot.check.rules.questions import normalise
from taxonbot.gaps.questionindex import LeafEntry, QuestionIndex
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME, ROOTS

# Calibrated on the upstream corpus (benchmarks/calibrate_overlap.py): the lowest cosine at
# which at most 0.5% of questions find a "duplicate" in a leaf of another domain; synthetic
# rewordings of the same questions score above it 92% of the time. docs/overlap.md has the
# numbers, why not random pairs, and how to recalibrate.
DEFAULT_THRESHOLD = 0.83
DEFAULT_K = 5
MAX_NEAR_DUPLICATES = 50  # per changed leaf; the JSON says how many more there were
_QUERY_ROWS = 512  # rows of changed questions per matrix product: bounds memory at N * 2 KiB


@dataclass(frozen=True)
class Neighbour:
    leaf: str
    file: str
    question: str
    score: float  # cosine similarity


@dataclass(frozen=True)
class QuestionNeighbours:
    question: str
    neighbours: tuple[Neighbour, ...]  # the k nearest questions in other leaves, nearest first


@dataclass(frozen=True)
class NearDuplicate:
    question: str  # in the changed leaf
    other_leaf: str
    other_file: str
    other_question: str
    score: float
    exact: bool  # the same words once case and punctuation are ignored


@dataclass(frozen=True)
class LeafOverlap:
    leaf: str
    file: str
    status: str  # "indexed" | "skipped" (unparsable) | "absent" (deleted, or not a leaf)
    reason: str
    questions: tuple[QuestionNeighbours, ...]
    near_duplicates: tuple[NearDuplicate, ...]  # highest score first, at most MAX_NEAR_DUPLICATES
    omitted: int  # near-duplicates beyond that


@dataclass(frozen=True)
class OverlapReport:
    model_id: str
    threshold: float
    k: int
    leaves: tuple[LeafOverlap, ...]


def leaf_of(path: str, taxonomy_root: str = "") -> str:
    """`taxonomy/knowledge/x/qna.yaml`, `knowledge/x/` or an absolute path -> `knowledge/x`."""
    path = path.replace(os.sep, "/").rstrip("/")
    root = taxonomy_root.replace(os.sep, "/").rstrip("/")
    if root and path.startswith(root + "/"):
        path = path[len(root) + 1 :]
    head, _, name = path.rpartition("/")
    if name == ATTRIBUTION_NAME or name.endswith((".yaml", ".yml")):
        path = head
    parts = [p for p in path.split("/") if p not in ("", ".")]
    for i, part in enumerate(parts):
        if part in ROOTS:
            return "/".join(parts[i:])
    return "/".join(parts)


def overlap(
    index: QuestionIndex,
    changed: Sequence[str],
    threshold: float = DEFAULT_THRESHOLD,
    k: int = DEFAULT_K,
    taxonomy_root: str = "",
) -> OverlapReport:
    """For each changed leaf: its questions' k nearest in other leaves, and the near-duplicates.

    Pure numpy: the changed leaves' rows times the whole matrix, a few hundred rows at a time.
    """
    leaves = list(dict.fromkeys(leaf_of(p, taxonomy_root) for p in changed))
    skipped = {s.leaf: s.reason for s in index.skipped}
    done: dict[str, LeafOverlap] = {}
    present = [index.by_leaf[leaf] for leaf in leaves if leaf in index.by_leaf]
    for group in _groups(present):
        done.update(_lookup(index, group, threshold, max(0, k)))
    out = []
    for leaf in leaves:
        if leaf in done:
            out.append(done[leaf])
        elif leaf in skipped:
            out.append(LeafOverlap(leaf, "", "skipped", skipped[leaf], (), (), 0))
        else:
            reason = "No qna.yaml for this leaf in the tree (deleted, or not a leaf)."
            out.append(LeafOverlap(leaf, "", "absent", reason, (), (), 0))
    return OverlapReport(index.model_id, threshold, k, tuple(out))


def _groups(entries: list[LeafEntry]) -> Iterator[list[LeafEntry]]:
    group: list[LeafEntry] = []
    rows = 0
    for entry in entries:
        if group and rows + entry.stop - entry.start > _QUERY_ROWS:
            yield group
            group, rows = [], 0
        group.append(entry)
        rows += entry.stop - entry.start
    if group:
        yield group


def _lookup(
    index: QuestionIndex, group: list[LeafEntry], threshold: float, k: int
) -> dict[str, LeafOverlap]:
    rows = np.concatenate([np.arange(e.start, e.stop) for e in group]).astype(np.intp)
    scores = index.matrix[rows] @ index.matrix.T  # cosines: every row has unit length
    offset = 0
    for entry in group:  # a leaf is never its own neighbour
        scores[offset : offset + entry.stop - entry.start, entry.start : entry.stop] = -np.inf
        offset += entry.stop - entry.start
    top = _top_k(scores, k)
    out: dict[str, LeafOverlap] = {}
    offset = 0
    for entry in group:
        size = entry.stop - entry.start
        block = scores[offset : offset + size]
        per_question = tuple(
            QuestionNeighbours(
                index.questions[entry.start + i],
                tuple(_neighbour(index, j, block[i, j]) for j in top[offset + i]),
            )
            for i in range(size)
        )
        dups = _near_duplicates(index, entry, block, threshold)
        shown, omitted = dups[:MAX_NEAR_DUPLICATES], max(0, len(dups) - MAX_NEAR_DUPLICATES)
        out[entry.leaf] = LeafOverlap(
            entry.leaf, entry.file, "indexed", "", per_question, tuple(shown), omitted
        )
        offset += size
    return out


def _top_k(scores: np.ndarray, k: int) -> list[list[int]]:
    """Columns of the k highest finite scores per row, highest first (ties: lower row first)."""
    if scores.shape[0] == 0 or scores.shape[1] == 0 or k == 0:
        return [[] for _ in range(scores.shape[0])]
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    picked = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -picked), axis=1)
    best = np.take_along_axis(part, order, axis=1)
    return [[int(j) for j in row if np.isfinite(scores[i, j])] for i, row in enumerate(best)]


def _near_duplicates(
    index: QuestionIndex, entry: LeafEntry, block: np.ndarray, threshold: float
) -> list[NearDuplicate]:
    hits = np.argwhere(block >= threshold)
    found = []
    for i, j in hits:
        question, other = index.questions[entry.start + i], index.questions[j]
        near = _neighbour(index, int(j), block[i, j])
        exact = normalise(question) == normalise(other)
        found.append(NearDuplicate(question, near.leaf, near.file, other, near.score, exact))
    found.sort(key=lambda d: (-d.score, d.other_leaf, d.question, d.other_question))
    return found


def _neighbour(index: QuestionIndex, row: int, score: float) -> Neighbour:
    other = index.entries[int(index.owner[row])]
    # float32 dot products of a vector with itself land a hair off 1.0
    return Neighbour(other.leaf, other.file, index.questions[row], round(min(1.0, float(score)), 4))


def overlap_json(report: OverlapReport) -> dict[str, Any]:
    return {
        "format": "taxonbot-overlap/1",
        "model": report.model_id,
        "threshold": report.threshold,
        "k": report.k,
        "leaves": [_leaf_json(leaf) for leaf in report.leaves],
    }


def _leaf_json(leaf: LeafOverlap) -> dict[str, Any]:
    return {
        "leaf": leaf.leaf,
        "file": leaf.file,
        "status": leaf.status,
        "reason": leaf.reason,
        "near_duplicates": [asdict(d) for d in leaf.near_duplicates],
        "near_duplicates_omitted": leaf.omitted,
        "questions": [
            {"question": q.question, "neighbours": [asdict(n) for n in q.neighbours]}
            for q in leaf.questions
        ],
    }
