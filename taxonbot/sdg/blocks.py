"""The block types a pipeline is made of. One function per type, joined in BLOCKS."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from taxonbot.check.rules.questions import normalise, similar
from taxonbot.runtime.base import ChatRequest, Completion, ModelBackend
from taxonbot.sdg.grounding import clean_question, question_fit, question_problem, spans, support
from taxonbot.sdg.judging import SKIPPED, judge_use
from taxonbot.sdg.prompts import render, shown_seeds, system_prompt
from taxonbot.sdg.replies import (
    LOOPING,
    about_itself,
    clean_block,
    clean_context,
    clean_line,
    degenerate,
    parse_score,
    split_question_answer,
    whole_sentences,
)
from taxonbot.sdg.sample import Asked, LeafJob, Sample, Seed, Verdict, asked

MAX_EXAMPLE_PAIRS = 5
# A context must hold this many words, and one cut at the token cap is kept up to its last whole
# sentence if this many remain: the 0.5B wrote "None recorded." as a meeting transcript.
MIN_CONTEXT_WORDS = 20
OUTPUT_NAMES = {
    "question": "question",
    "answer": "answer",
    "context": "text",
    "question_answer": "pair",
}


@dataclass(frozen=True)
class BlockSpec:
    name: str
    type: str
    template: str = ""
    output: str = ""
    scale: str = ""
    keep_at_least: int = 0
    max_tokens: int = 256
    temperature: float = 0.0
    similarity: float = 0.85
    prefill: str = ""
    stop: tuple[str, ...] = ()
    candidates: int = 1  # generate: ask this many times per sample and keep the best question
    prefills: tuple[str, ...] = ()  # generate with candidates: candidate k starts with the k-th
    min_overlap: float = 0.34  # grounding: share of the question's words found in the answer
    min_support: float = 0.8  # grounding: share of the answer's words found in the excerpt
    grammar: str = ""  # a GBNF file in taxonbot/sdg/grammars/ the reply must follow
    grammar_text: str = ""  # its text, read once when the pipeline is loaded


@dataclass
class RunContext:
    job: LeafJob
    backend: ModelBackend
    seed: int = 0
    max_new_tokens: int = 256
    kept_questions: list[Asked] = field(default_factory=list)
    # Each judge block's measured separation (ROC AUC) for the model that runs, by block name:
    # from the model catalogue. A judge measured below MIN_JUDGE_AUC is skipped; one not in
    # the mapping runs uncalibrated (taxonbot/sdg/judging.py).
    judge_auc: Mapping[str, float] = field(default_factory=dict)
    _shown: list[Seed] | None = field(default=None, init=False, repr=False)

    def shown(self) -> list[Seed]:
        """The seed examples this leaf's prompts show (shown_seeds), counted once per leaf."""
        if self._shown is None:
            self._shown = shown_seeds(self.job.seeds, self.backend.count_tokens)
        return self._shown


Block = Callable[[BlockSpec, RunContext, list[Sample]], None]


def variables(
    job: LeafJob, sample: Sample, number: int, shown: Sequence[Seed] | None = None
) -> dict[str, Any]:
    """What a template sees; `shown`: the seed examples it shows (RunContext.shown), by
    default those that fit as estimated."""
    seeds = [
        {"question": s.question, "answer": s.answer, "context": s.context}
        for s in (shown_seeds(job.seeds) if shown is None else shown)
    ]
    return {
        "task_description": job.task_description,
        "topic": job.leaf.rsplit("/", 1)[-1].replace("_", " "),
        "seeds": seeds,
        "examples": seeds[:MAX_EXAMPLE_PAIRS],
        "context": sample.context,
        "question": sample.question,
        "answer": sample.answer,
        "number": number,
    }


def ask(
    spec: BlockSpec, ctx: RunContext, samples: Sequence[Sample], variants: int = 1
) -> list[Completion]:
    """One completion per sample, or `variants` in a row per sample (different seeds)."""
    system = system_prompt()
    starts = (spec.prefills or (spec.prefill,)) if variants > 1 else (spec.prefill,)
    requests = [
        ChatRequest(
            messages=(
                ("system", system),
                ("user", render(spec.template, **variables(ctx.job, s, s.number + 1, ctx.shown()))),
            ),
            max_tokens=min(spec.max_tokens, ctx.max_new_tokens),
            temperature=spec.temperature,
            seed=(ctx.seed * 100_003 + s.number) * variants + variant,
            tag=spec.name,
            prefill=starts[variant % len(starts)],
            stop=spec.stop,
            grammar=spec.grammar_text,
        )
        for s in samples
        for variant in range(variants)
    ]
    return ctx.backend.complete(requests)


def generate(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    if spec.candidates > 1 and spec.output == "question":
        best_question(spec, ctx, samples)
        return
    for sample, done in zip(samples, ask(spec, ctx, samples), strict=True):
        if done.finish_reason == "error":
            sample.reject(spec.name, f"the model request failed: {done.error}")
            continue
        fill(spec, sample, done.text)
        fields = ("question", "answer") if spec.output == "question_answer" else (spec.output,)
        problem = next((f"{f}: {p}" for f in fields if (p := unusable(ctx.job, sample, f))), "")
        cut = cut_off(spec, ctx, sample, done)
        # A loop says more than where the cap cut it; a cut says more than the empty part it left.
        if problem and (not cut or problem.endswith(LOOPING)):
            sample.reject(spec.name, problem)
        elif cut:
            sample.reject(spec.name, cut)


def cut_off(spec: BlockSpec, ctx: RunContext, sample: Sample, done: Completion) -> str:
    """Why a reply that reached the token cap is unusable ('' when it is fine). A context is
    kept up to its last whole sentence when enough of it is left; anything else cut mid-way is
    dropped: a half answer teaches the model to stop mid-sentence."""
    if done.finish_reason != "length":
        return ""
    cap = min(spec.max_tokens, ctx.max_new_tokens)
    if spec.output == "context":
        whole = whole_sentences(sample.context)
        if len(whole.split()) >= MIN_CONTEXT_WORDS:
            sample.context = whole
            return ""
    what = OUTPUT_NAMES.get(spec.output, "reply")
    if spec.grammar_text:
        return f"did not finish the structured {what} within {cap} tokens"
    return f"{what} cut off at {cap} tokens"


def best_question(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    """Several questions per sample; the one that best fits the sample's answer is kept. A
    candidate cut at the token cap is not a question."""
    replies = ask(spec, ctx, samples, spec.candidates)
    starts = spec.prefills or (spec.prefill,)
    for index, sample in enumerate(samples):
        mine = replies[index * spec.candidates : (index + 1) * spec.candidates]
        texts = [
            clean_question(starts[k % len(starts)] + done.text)
            for k, done in enumerate(mine)
            if done.finish_reason == "stop"
        ]
        if not texts:
            cut = next((d for d in mine if d.finish_reason == "length"), None)
            if cut is None:
                sample.reject(spec.name, f"the model request failed: {mine[0].error}")
            else:
                sample.reject(spec.name, cut_off(spec, ctx, sample, cut))
            continue
        sample.question = max(texts, key=lambda q: question_fit(q, sample.answer))
        if problem := unusable(ctx.job, sample, "question"):
            sample.reject(spec.name, f"question: {problem}")


def unusable(job: LeafJob, sample: Sample, field: str) -> str:
    """Why the sample's generated `field` cannot be trained on, or '': degenerate text, or the
    model speaking about itself where neither the seeds nor the sample's context do."""
    text = getattr(sample, field)
    if problem := degenerate(text):
        return problem
    if field == "context" and (n := len(text.split())) < MIN_CONTEXT_WORDS:
        return f"too short to answer from ({n} words; a context needs {MIN_CONTEXT_WORDS} or more)"
    if field == "question" and (short := too_short(text, job)):
        return short
    seeds = " ".join(f"{s.question} {s.answer} {s.context}" for s in job.seeds)
    return about_itself(text, f"{seeds} {sample.context}")


def too_short(question: str, job: LeafJob) -> str:
    """A question of one or two words where every seed question has more than twice as many
    ("None recorded." on a leaf whose seeds ask for a summary of notes). No upstream seed
    question is that short beside its file's others (0 of 2,887)."""
    n = len(question.split())
    shortest = min((len(s.question.split()) for s in job.seeds), default=0)
    if n <= 2 and n * 2 < shortest:
        return (
            f"too short to be a request for this task ({n} words; the seed questions have "
            f"{shortest} or more)"
        )
    return ""


def fill(spec: BlockSpec, sample: Sample, text: str) -> None:
    if spec.output == "question":
        sample.question = clean_line(text)
    elif spec.output == "answer":
        sample.answer = clean_block(text)
    elif spec.output == "context":
        sample.context = clean_context(text)
    else:
        sample.question, sample.answer = split_question_answer(text)


def judge(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    """Scores each sample and drops those under keep_at_least; a judge measured not to
    separate good pairs from bad ones on this model is not asked and drops nothing."""
    if judge_use(spec.name, ctx.judge_auc)["status"] == SKIPPED:
        return
    cap = min(spec.max_tokens, ctx.max_new_tokens)
    for sample, done in zip(samples, ask(spec, ctx, samples), strict=True):
        if done.finish_reason == "error":
            sample.verdicts[spec.name] = Verdict(None, False, "")
            sample.reject(spec.name, f"the model request failed: {done.error}")
            continue
        # A server that ignores the grammar still gets its reply parsed leniently.
        score = parse_score(done.text, spec.scale)
        passed = score is not None and score >= spec.keep_at_least
        sample.verdicts[spec.name] = Verdict(score, passed, done.text.strip()[:200])
        if score is None and spec.grammar_text and done.finish_reason == "length":
            sample.reject(spec.name, f"did not finish the structured score within {cap} tokens")
        elif score is None:
            sample.reject(spec.name, f"unparsable judgement: {done.text.strip()[:80]!r}")
        elif not passed:
            sample.reject(spec.name, f"scored {score}; needs at least {spec.keep_at_least}")


def dedupe(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    seeds = [asked(s.question, -1, s.context) for s in ctx.job.seeds]
    answers = frozenset(normalise(s.answer) for s in ctx.job.seeds)
    task = frozenset(normalise(ctx.job.task_description).split())
    by_context = ctx.job.kind != "knowledge"
    for sample in samples:
        reason = copy_reason(
            sample, seeds, ctx.kept_questions, spec.similarity, task, answers, by_context
        )
        if reason:
            sample.reject(spec.name, reason)
            continue
        ctx.kept_questions.append(asked(sample.question, sample.number, sample.context))


def copy_reason(
    sample: Sample,
    seeds: Sequence[Asked],
    kept: Sequence[Asked],
    ratio: float,
    task: frozenset[str] = frozenset(),
    seed_answers: frozenset[str] = frozenset(),
    by_context: bool = False,
) -> str:
    """Why the sample copies instead of adding something new, or ''. `seeds` and `kept`: the
    seed questions and those kept so far; `task`: the words of the leaf's task description;
    `seed_answers`: the seeds' answers, normalised. `by_context` (skills): a question
    repeats another only when asked of the same text, as the checker keys duplicates
    (check/rules/questions.py): a grounded skill asks one instruction of many texts. Of
    upstream's 769 grounded seed pairs (162 files), each taken as a generated pair against its
    file's other seeds, 497 were rejected as copies without this and 361 with it: exactly those
    whose question another seed asks of the same text; the 136 asked only of other texts (23
    files) now count as new. A knowledge question is the same question whatever its excerpt."""
    here = asked(sample.question, sample.number, sample.context)
    norm, words, context = here.norm, here.words, frozenset(here.context.split())
    if norm == normalise(sample.answer):
        return "the answer repeats the question"
    # A question as long as a context and made of its words is the context copied (real 0.5B
    # output on event_details); no upstream seed question with a context is (0 of 755).
    if len(words) >= MIN_CONTEXT_WORDS and similar(words, context, ratio):
        return "the question repeats the context instead of asking about it"
    if similar(words, task, ratio):
        return "copies the leaf's task description instead of asking a question"

    def same_text(other: str) -> bool:
        """The same text, or a long one copied with a few words changed; a short one only
        verbatim (the lists "1, 2, 3" and "3, 2, 1, 1" have the same words)."""
        if not by_context or other == here.context:
            return True
        theirs = frozenset(other.split())
        return min(len(theirs), len(context)) >= MIN_CONTEXT_WORDS and similar(
            theirs, context, ratio
        )

    def repeats(other: Asked) -> bool:
        return same_text(other.context) and (
            norm == other.norm or similar(words, other.words, ratio)
        )

    if any(repeats(seed) for seed in seeds):
        return "copies a seed example's question"
    if normalise(sample.answer) in seed_answers:
        return "copies a seed example's answer"
    for other in kept:
        if repeats(other):
            return f"duplicates generated question #{other.number + 1}"
    return ""


def span(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    """The answer is a run of the document's own sentences (sample n takes span n, cycling)."""
    found = _spans(ctx.job.chunks)
    for sample in samples:
        if not found:
            sample.reject(spec.name, "the documents have no prose sentences to take answers from")
            continue
        chosen = found[sample.number % len(found)]
        sample.context, sample.answer = chosen.chunk, chosen.text


@lru_cache(maxsize=8)
def _spans(chunks: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(spans(chunks))


def grounding(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    """Without a model: the question must ask for its answer, the answer stay in its excerpt."""
    for sample in samples:
        if problem := question_problem(sample.question, sample.answer, spec.min_overlap):
            sample.reject(spec.name, f"question {problem}")
        elif sample.context and (share := support(sample.answer, sample.context)) < (
            spec.min_support
        ):
            sample.reject(
                spec.name,
                f"only {share:.0%} of the answer's words are in the excerpt "
                f"(needs {spec.min_support:.0%})",
            )


BLOCKS: dict[str, Block] = {
    "generate": generate,
    "judge": judge,
    "dedupe": dedupe,
    "span": span,
    "grounding": grounding,
}
