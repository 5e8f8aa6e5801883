"""Novelty: does the current community build already know what a leaf teaches?

The model (the newest community GGUF through taxonbot.runtime; the bundled SmolLM2 by default)
answers
every seed question of the leaf; each answer is scored against the contributor's reference
answer with embedding cosine (all-MiniLM-L6-v2) and ROUGE-L. Knowledge questions are asked twice,
without their context (does the model *know* it?) and with it (can it at least read it?); only
the first decides the verdict. Thresholds: docs/novelty.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from taxonbot.gaps.embeds import Embeds
from taxonbot.gaps.rouge import rouge_l
from taxonbot.runtime import ChatRequest, ModelBackend
from taxonbot.sdg.sample import LeafJob

# When is an answer "known"? Embedding cosine alone measures topic, not correctness: a wrong
# unit conversion scores 0.78 against the right one. So an answer counts as known when it is
# (a) close to its own reference (cosine >= KNOWN_COSINE) *and* closer to it than to every other
# reference of the same leaf by KNOWN_MARGIN (it answers this question, not just the topic), or
# (b) shares half of the reference's words in order (ROUGE-L >= KNOWN_ROUGE_L). docs/novelty.md
# has the measurements behind these numbers.
KNOWN_COSINE = 0.7
KNOWN_MARGIN = 0.05
SOLO_COSINE = 0.85  # a leaf with one question has no siblings to compare against
KNOWN_ROUGE_L = 0.5
ALREADY_KNOWN_SHARE = 0.8  # at least this share of answers known: the leaf adds little
GAP_SHARE = 0.2  # at most this share known: the leaf teaches something new
MAX_QUESTIONS = 10  # knowledge leaves have 15+ questions; a sample is enough for a verdict
SYSTEM = "Answer the question accurately and briefly."


@dataclass(frozen=True)
class NoveltyRow:
    question: str
    reference: str
    with_context: bool
    answer: str
    cosine: float
    rouge_l: float
    known: bool
    note: str = ""


@dataclass(frozen=True)
class NoveltyReport:
    leaf: str
    path: str
    verdict: str  # gap_confirmed | partly_known | already_known | skipped
    reason: str
    known_share: float
    rows: tuple[NoveltyRow, ...]
    model: dict[str, str]
    seconds: float


def novelty(
    job: LeafJob, backend: ModelBackend, embedder: Embeds, max_tokens: int = 128
) -> NoveltyReport:
    started = time.monotonic()
    asks = questions(job)
    if not asks:
        return _report(job, backend, (), started, "this leaf has no seed questions")
    replies = backend.complete([request(q, c, max_tokens) for q, _, c in asks])
    answers = [r.text.strip() if r.finish_reason != "error" else "" for r in replies]
    notes = [
        f"the model request failed: {r.error}" if r.finish_reason == "error" else ""
        for r in replies
    ]
    rows = score(asks, answers, notes, embedder)
    return _report(job, backend, rows, started, "")


def questions(job: LeafJob) -> list[tuple[str, str, str]]:
    """(question, reference answer, context to show or ''), knowledge asked with and without."""
    out: list[tuple[str, str, str]] = []
    for seed in job.seeds[:MAX_QUESTIONS]:
        if job.kind == "knowledge":
            out.append((seed.question, seed.answer, ""))
            out.append((seed.question, seed.answer, seed.context))
        else:  # a grounded skill's question needs its context to make sense at all
            out.append((seed.question, seed.answer, seed.context))
    return out


def request(question: str, context: str, max_tokens: int) -> ChatRequest:
    user = f"{context.strip()}\n\nQuestion: {question.strip()}" if context else question.strip()
    return ChatRequest(
        (("system", SYSTEM), ("user", user)), max_tokens=max_tokens, temperature=0.0, tag="novelty"
    )


def score(
    asks: list[tuple[str, str, str]], answers: list[str], notes: list[str], embedder: Embeds
) -> tuple[NoveltyRow, ...]:
    references = [reference for _, reference, _ in asks]
    vectors = embedder.embed([*answers, *references])
    answer_vectors, reference_vectors = vectors[: len(answers)], vectors[len(answers) :]
    similarity = answer_vectors @ reference_vectors.T  # answers x references, all cosines
    rows = []
    for i, ((question, reference, context), answer) in enumerate(zip(asks, answers, strict=True)):
        cosine = float(similarity[i, i]) if answer else 0.0
        overlap = rouge_l(answer, reference) if answer else 0.0
        note = notes[i] or ("the model gave no answer" if not answer else "")
        others = [float(similarity[i, j]) for j, ref in enumerate(references) if ref != reference]
        close = cosine >= (KNOWN_COSINE if others else SOLO_COSINE)
        specific = not others or cosine >= max(others) + KNOWN_MARGIN
        known = bool(answer) and ((close and specific) or overlap >= KNOWN_ROUGE_L)
        rows.append(
            NoveltyRow(
                question,
                reference,
                bool(context),
                answer,
                round(cosine, 4),
                round(overlap, 4),
                known,
                note,
            )
        )
    return tuple(rows)


def verdict(rows: Sequence[NoveltyRow], knowledge: bool) -> tuple[str, float]:
    # For knowledge only the answers given without the context say what the model knows.
    deciding = [r for r in rows if not (knowledge and r.with_context)]
    if not deciding:
        return "skipped", 0.0
    share = sum(r.known for r in deciding) / len(deciding)
    if share >= ALREADY_KNOWN_SHARE:
        return "already_known", share
    if share <= GAP_SHARE:
        return "gap_confirmed", share
    return "partly_known", share


def _report(
    job: LeafJob, backend: ModelBackend, rows: tuple[NoveltyRow, ...], started: float, reason: str
) -> NoveltyReport:
    label, share = verdict(rows, job.kind == "knowledge")
    if label == "skipped" and not reason:
        reason = "no question could be asked"
    return NoveltyReport(
        job.leaf,
        job.path,
        label,
        reason,
        round(share, 4),
        rows,
        backend.describe(),
        round(time.monotonic() - started, 2),
    )


def novelty_json(report: NoveltyReport) -> dict[str, Any]:
    body = asdict(report)
    body["rows"] = [asdict(row) for row in report.rows]
    return body
