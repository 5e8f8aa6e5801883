"""Branch evaluation: did the new build learn its new leaves without forgetting the rest?

The previous build (or, for the first build, the base model) and the new build answer the seed
questions of every leaf merged since the previous build, and a fixed regression set of general
questions (taxonbot/modelbuild/regression.yaml), at temperature 0. Knowledge questions are asked
without their
context: the point is whether the model learned it, not whether it can read it. Each answer is
scored against its reference the way the novelty check does (taxonbot/gaps/novelty.py: MiniLM
cosine,
ROUGE-L, "known"), and one continuous number decides:

    answer score = (max(cosine, 0) + ROUGE-L) / 2, in [0, 1]; 0 for no answer or a failed request
    set score    = the mean answer score over the set's questions

Cosine alone has a high floor (any answer on the topic scores 0.6-0.8) and ROUGE-L alone punishes
a right answer in other words; their mean moves with both. The share of "known" answers is
reported beside it but decides nothing: with 5-18 questions per leaf it moves in coarse steps.

Both cosine and ROUGE-L's F-measure reward a shorter answer: a build that only learned to answer
tersely scored +0.128 on the regression set while it lost facts (7 times 8 became 54). So a
second number guards the first: recall, the share of the reference's content words and numbers
that the answer says (taxonbot/sdg/grounding.py), which brevity cannot raise.

Publishable: every new leaf improves its score by more than `min_gain` without its recall
falling by more than `threshold`; the regression set's score and its recall each fall by at
most `threshold`; and no request failed. The report says which of these did not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from statistics import fmean
from typing import Any

from taxonbot.gaps.embeds import Embeds
from taxonbot.gaps.novelty import NoveltyRow, request, score
from taxonbot.markdown import code, inline
from taxonbot.modelbuild.regression import RegressionItem
from taxonbot.runtime import ChatRequest, Completion, ModelBackend
from taxonbot.sdg.grounding import recall
from taxonbot.sdg.sample import LeafJob

DEFAULT_MIN_GAIN = 0.05  # a leaf must gain more than this (on the 0-1 answer score) to count
DEFAULT_THRESHOLD = 0.03  # the regression set may fall by at most this much
MAX_TOKENS = 128  # as the novelty check: seed and regression answers are short
BASELINES = {"previous_build": "the previous build", "base_model": "the base model"}
METRIC = (
    "mean over questions of (max(cosine, 0) + ROUGE-L) / 2, guarded by recall of the "
    "reference's content words"
)

Ask = tuple[str, str, str, str, str]  # id, category, question, reference, context shown


@dataclass(frozen=True)
class Answer:
    text: str
    cosine: float
    rouge_l: float
    known: bool
    score: float  # (max(cosine, 0) + rouge_l) / 2
    note: str = ""  # why there is no answer (failed request, empty reply)
    recall: float = 0.0  # share of the reference's content words the answer says


@dataclass(frozen=True)
class QuestionResult:
    id: str  # "q1".. for a leaf's seeds, the item id for the regression set
    category: str  # regression category; "" for a leaf
    question: str
    reference: str
    context_shown: bool
    before: Answer
    after: Answer


@dataclass(frozen=True)
class Scores:
    score: float  # the deciding number: mean answer score
    cosine: float
    rouge_l: float
    known_share: float
    failures: int  # requests that failed (scored 0)
    seconds: float  # model time spent answering (0 for backends that do not measure it)
    recall: float = 0.0  # mean share of the references' content words the answers say


@dataclass(frozen=True)
class SetResult:
    """One leaf, or the regression set, as answered by both models."""

    path: str  # the leaf's qna.yaml, or the regression file
    name: str  # the leaf (e.g. knowledge/science/...), or "regression set"
    kind: str  # knowledge | grounded_skills | freeform_skills | regression
    before: Scores
    after: Scores
    questions: tuple[QuestionResult, ...]

    @property
    def delta(self) -> float:
        return round(self.after.score - self.before.score, 4)

    @property
    def recall_delta(self) -> float:
        return round(self.after.recall - self.before.recall, 4)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "questions": len(self.questions),
            "before": self.before.score,
            "after": self.after.score,
            "delta": self.delta,
            "recall_delta": self.recall_delta,
            "scores": {"before": asdict(self.before), "after": asdict(self.after)},
            "answers": [asdict(q) for q in self.questions],
        }


@dataclass(frozen=True)
class EvalReport:
    baseline: str  # previous_build | base_model
    models: dict[str, dict[str, str]]  # "before" / "after" -> the backend's describe()
    leaves: tuple[SetResult, ...]
    regression: SetResult
    min_gain: float
    threshold: float
    publishable: bool
    reasons: tuple[str, ...]  # why not publishable; empty when it is
    notes: tuple[str, ...]  # what a reader should know either way
    summary: str  # one line

    def to_json(self) -> dict[str, Any]:
        categories = sorted({q.category for q in self.regression.questions})
        return {
            "publishable": self.publishable,
            "summary": self.summary,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "baseline": self.baseline,
            "models": self.models,
            "metric": METRIC,
            "min_gain": self.min_gain,
            "threshold": self.threshold,
            "leaves": [leaf.to_json() for leaf in self.leaves],
            "regression": {
                **self.regression.to_json(),
                "categories": {c: _category(self.regression, c) for c in categories},
            },
        }


def branch_eval(
    previous: ModelBackend,
    new: ModelBackend,
    leaves: Sequence[LeafJob],
    regression: Sequence[RegressionItem],
    embedder: Embeds,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_gain: float = DEFAULT_MIN_GAIN,
    baseline: str = "previous_build",
    regression_path: str = "taxonbot/modelbuild/regression.yaml",
    max_tokens: int = MAX_TOKENS,
) -> EvalReport:
    """`previous` is the previous build, or the base model with baseline="base_model"."""
    _check_options(threshold, min_gain, baseline, regression)
    sets = [(job.path, job.leaf, job.kind, leaf_asks(job)) for job in leaves]
    sets.append((regression_path, "regression set", "regression", regression_asks(regression)))
    # One batch per model: llama.cpp orders it to reuse the shared system-prompt prefix.
    requests = [_request(ask, kind, max_tokens) for _, _, kind, asks in sets for ask in asks]
    before, after = previous.complete(requests), new.complete(requests)
    results, start = [], 0
    for path, name, kind, set_asks in sets:
        end = start + len(set_asks)
        scored = (_score(set_asks, done[start:end], embedder) for done in (before, after))
        results.append(SetResult(path, name, kind, *_pair(set_asks, *scored)))
        start = end
    models = {"before": previous.describe(), "after": new.describe()}
    return decide(tuple(results[:-1]), results[-1], models, baseline, min_gain, threshold)


def leaf_asks(job: LeafJob) -> list[Ask]:
    # Knowledge without its context (learned, not read); a grounded skill needs its context.
    show = job.kind != "knowledge"
    return [
        (f"q{i}", "", seed.question, seed.answer, seed.context if show else "")
        for i, seed in enumerate(job.seeds, start=1)
    ]


def regression_asks(items: Sequence[RegressionItem]) -> list[Ask]:
    return [(item.id, item.category, item.question, item.answer, "") for item in items]


def decide(
    leaves: tuple[SetResult, ...],
    regression: SetResult,
    models: dict[str, dict[str, str]],
    baseline: str,
    min_gain: float,
    threshold: float,
) -> EvalReport:
    """The publishing decision over scored sets; pure, so it is tested without any model."""
    reasons = [_leaf_reason(leaf, min_gain, threshold) for leaf in leaves]
    if regression.delta < -threshold:
        reasons.append(
            f"the regression set fell {regression.before.score:.3f} → {regression.after.score:.3f}"
            f" ({regression.delta:+.3f}); it may fall at most {threshold:.3f}"
        )
    if regression.recall_delta < -threshold:
        reasons.append(
            "the regression set's answers lost facts: recall "
            f"{regression.before.recall:.3f} → {regression.after.recall:.3f} "
            f"({regression.recall_delta:+.3f}); it may fall at most {threshold:.3f}"
        )
    for label, which in (("previous", "before"), ("new", "after")):
        failed = sum(getattr(s, which).failures for s in (*leaves, regression))
        if failed:
            asked = sum(len(s.questions) for s in (*leaves, regression))
            reasons.append(f"{failed} of {asked} requests to the {label} model failed")
    reasons = [r for r in reasons if r]
    notes = _notes(leaves, models, baseline)
    publishable = not reasons
    return EvalReport(
        baseline,
        models,
        leaves,
        regression,
        min_gain,
        threshold,
        publishable,
        tuple(reasons),
        tuple(notes),
        _summary(leaves, regression, publishable, baseline, (min_gain, threshold)),
    )


def eval_markdown(report: EvalReport) -> str:
    """The model card's evaluation section; leaf paths and reasons are escaped (untrusted)."""
    lines = [
        "## Branch evaluation",
        "",
        f"Compared with {BASELINES[report.baseline]} "
        f"({code(report.models['before'].get('model', '?'))}). Score: {METRIC}, "
        "answers at temperature 0 (knowledge questions without their context).",
        "",
        "| Set | Questions | Before | After | Change | Recall before → after "
        "| Known before → after |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in (*report.leaves, report.regression):
        name = code(row.name) if row.kind != "regression" else "regression set"
        lines.append(
            f"| {name} | {len(row.questions)} | {row.before.score:.3f} | {row.after.score:.3f} "
            f"| {row.delta:+.3f} | {row.before.recall:.3f} → {row.after.recall:.3f} "
            f"| {row.before.known_share:.0%} → {row.after.known_share:.0%} |"
        )
    verdict = "yes" if report.publishable else "no"
    lines += [
        "",
        f"**Publishable: {verdict}** (a leaf must gain more than {report.min_gain:.3f}; "
        f"the regression set's score and recall may each fall at most {report.threshold:.3f}).",
        "",
    ]
    lines += [f"- {inline(text)}" for text in (*report.reasons, *report.notes)]
    return "\n".join(lines) + "\n"


def _check_options(
    threshold: float, min_gain: float, baseline: str, regression: Sequence[RegressionItem]
) -> None:
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, not {baseline!r}")
    if threshold < 0 or min_gain < 0:
        raise ValueError(f"threshold and min_gain must be >= 0; got {threshold}, {min_gain}")
    if not regression:
        raise ValueError("the regression set is empty; load it with taxonbot.modelbuild.regression")


def _request(ask: Ask, kind: str, max_tokens: int) -> ChatRequest:
    """The novelty check's prompt (temperature 0), tagged for fakes and bookkeeping."""
    _, _, question, _, context = ask
    tag = "eval_regression" if kind == "regression" else "eval_leaf"
    return replace(request(question, context, max_tokens), tag=tag)


def _score(
    asks: list[Ask], done: list[Completion], embedder: Embeds
) -> tuple[tuple[Answer, ...], Scores]:
    if not asks:
        return (), Scores(0.0, 0.0, 0.0, 0.0, 0, 0.0)
    failed = [c.finish_reason == "error" for c in done]
    answers = ["" if bad else c.text.strip() for c, bad in zip(done, failed, strict=True)]
    notes = [f"the model request failed: {c.error}" if c.error else "" for c in done]
    rows = score([(q, ref, ctx) for _, _, q, ref, ctx in asks], answers, notes, embedder)
    scored = tuple(_answer(row) for row in rows)
    return scored, Scores(
        round(fmean(a.score for a in scored), 4),
        round(fmean(a.cosine for a in scored), 4),
        round(fmean(a.rouge_l for a in scored), 4),
        round(fmean(a.known for a in scored), 4),
        sum(failed),
        round(sum(c.seconds for c in done), 2),
        round(fmean(a.recall for a in scored), 4),
    )


def _answer(row: NoveltyRow) -> Answer:
    value = (max(row.cosine, 0.0) + row.rouge_l) / 2 if row.answer else 0.0
    said = round(recall(row.reference, row.answer), 4)
    return Answer(row.answer, row.cosine, row.rouge_l, row.known, round(value, 4), row.note, said)


def _pair(
    asks: list[Ask],
    before: tuple[tuple[Answer, ...], Scores],
    after: tuple[tuple[Answer, ...], Scores],
) -> tuple[Scores, Scores, tuple[QuestionResult, ...]]:
    questions = tuple(
        QuestionResult(ident, category, question, reference, bool(context), old, new)
        for (ident, category, question, reference, context), old, new in zip(
            asks, before[0], after[0], strict=True
        )
    )
    return before[1], after[1], questions


def _leaf_reason(leaf: SetResult, min_gain: float, threshold: float) -> str:
    if not leaf.questions:
        return f"{leaf.name} has no seed questions, so no improvement could be shown"
    if leaf.delta <= min_gain:
        return (
            f"{leaf.name} did not improve: {leaf.before.score:.3f} → {leaf.after.score:.3f} "
            f"({leaf.delta:+.3f}); it needs more than +{min_gain:.3f}"
        )
    if leaf.recall_delta < -threshold:
        return (
            f"{leaf.name} scored higher but its answers say less of the seed answers: recall "
            f"{leaf.before.recall:.3f} → {leaf.after.recall:.3f} ({leaf.recall_delta:+.3f})"
        )
    return ""


def _notes(
    leaves: tuple[SetResult, ...], models: dict[str, dict[str, str]], baseline: str
) -> list[str]:
    notes = []
    if baseline == "base_model":
        model = models["before"].get("model", "?")
        notes.append(f"no previous build: the new build is compared with the base model {model}")
    if not leaves:
        notes.append("no leaf was merged since the previous build; only the regression set decides")
    return notes


def _summary(
    leaves: tuple[SetResult, ...],
    regression: SetResult,
    publishable: bool,
    baseline: str,
    limits: tuple[float, float],
) -> str:
    min_gain, threshold = limits
    improved = sum(1 for leaf in leaves if not _leaf_reason(leaf, min_gain, threshold))
    gain = f" (mean {fmean(leaf.delta for leaf in leaves):+.3f})" if leaves else ""
    return (
        f"{'publishable' if publishable else 'not publishable'} vs {BASELINES[baseline]}: "
        f"{improved} of {len(leaves)} new leaves improved{gain}; regression set "
        f"{regression.before.score:.3f} → {regression.after.score:.3f} "
        f"({regression.delta:+.3f}, recall {regression.recall_delta:+.3f}, "
        f"may fall {threshold:.3f})"
    )


def _category(regression: SetResult, category: str) -> dict[str, float]:
    rows = [q for q in regression.questions if q.category == category]
    return {
        "before": round(fmean(q.before.score for q in rows), 4),
        "after": round(fmean(q.after.score for q in rows), 4),
    }
