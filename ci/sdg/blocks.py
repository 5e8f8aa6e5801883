"""The block types a pipeline is made of. One function per type, joined in BLOCKS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.checks.questions import normalise, similar
from ci.runtime.base import ChatRequest, Completion, ModelBackend
from ci.sdg.prompts import render, system_prompt
from ci.sdg.replies import clean_block, clean_line, degenerate, parse_score, split_question_answer
from ci.sdg.sample import LeafJob, Sample, Verdict

MAX_EXAMPLE_PAIRS = 5


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


@dataclass
class RunContext:
    job: LeafJob
    backend: ModelBackend
    seed: int = 0
    max_new_tokens: int = 256
    kept_questions: list[tuple[str, frozenset[str], int]] = field(default_factory=list)


Block = Callable[[BlockSpec, RunContext, list[Sample]], None]


def variables(job: LeafJob, sample: Sample, number: int) -> dict[str, Any]:
    seeds = [{"question": s.question, "answer": s.answer, "context": s.context} for s in job.seeds]
    return {
        "task_description": job.task_description,
        "seeds": seeds,
        "examples": seeds[:MAX_EXAMPLE_PAIRS],
        "context": sample.context,
        "question": sample.question,
        "answer": sample.answer,
        "number": number,
    }


def ask(spec: BlockSpec, ctx: RunContext, samples: Sequence[Sample]) -> list[Completion]:
    system = system_prompt()
    requests = [
        ChatRequest(
            messages=(
                ("system", system),
                ("user", render(spec.template, **variables(ctx.job, s, s.number + 1))),
            ),
            max_tokens=min(spec.max_tokens, ctx.max_new_tokens),
            temperature=spec.temperature,
            seed=ctx.seed * 100_003 + s.number,
            tag=spec.name,
            prefill=spec.prefill,
            stop=spec.stop,
        )
        for s in samples
    ]
    return ctx.backend.complete(requests)


def generate(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    for sample, done in zip(samples, ask(spec, ctx, samples), strict=True):
        if done.finish_reason == "error":
            sample.reject(spec.name, f"the model request failed: {done.error}")
            continue
        fill(spec, sample, done.text)
        fields = ("question", "answer") if spec.output == "question_answer" else (spec.output,)
        problem = next((f"{f}: {p}" for f in fields if (p := degenerate(getattr(sample, f)))), "")
        if problem:
            sample.reject(spec.name, problem)


def fill(spec: BlockSpec, sample: Sample, text: str) -> None:
    if spec.output == "question":
        sample.question = clean_line(text)
    elif spec.output == "answer":
        sample.answer = clean_block(text)
    elif spec.output == "context":
        sample.context = clean_block(text)
    else:
        sample.question, sample.answer = split_question_answer(text)


def judge(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    for sample, done in zip(samples, ask(spec, ctx, samples), strict=True):
        if done.finish_reason == "error":
            sample.verdicts[spec.name] = Verdict(None, False, "")
            sample.reject(spec.name, f"the model request failed: {done.error}")
            continue
        score = parse_score(done.text, spec.scale)
        passed = score is not None and score >= spec.keep_at_least
        sample.verdicts[spec.name] = Verdict(score, passed, done.text.strip()[:200])
        if score is None:
            sample.reject(spec.name, f"unparsable judgement: {done.text.strip()[:80]!r}")
        elif not passed:
            sample.reject(spec.name, f"scored {score}; needs at least {spec.keep_at_least}")


def dedupe(spec: BlockSpec, ctx: RunContext, samples: list[Sample]) -> None:
    seeds = [(normalise(s.question), s) for s in ctx.job.seeds]
    for sample in samples:
        reason = copy_reason(sample, seeds, ctx.kept_questions, spec.similarity)
        if reason:
            sample.reject(spec.name, reason)
            continue
        norm = normalise(sample.question)
        ctx.kept_questions.append((norm, frozenset(norm.split()), sample.number))


def copy_reason(
    sample: Sample,
    seeds: list[tuple[str, Any]],
    kept: list[tuple[str, frozenset[str], int]],
    ratio: float,
) -> str:
    norm = normalise(sample.question)
    words = frozenset(norm.split())
    if norm == normalise(sample.answer):
        return "the answer repeats the question"
    for seed_norm, seed in seeds:
        if norm == seed_norm or similar(words, frozenset(seed_norm.split()), ratio):
            return "copies a seed example's question"
        if normalise(sample.answer) == normalise(seed.answer):
            return "copies a seed example's answer"
    for other_norm, other_words, number in kept:
        if norm == other_norm or similar(words, other_words, ratio):
            return f"duplicates generated question #{number + 1}"
    return ""


BLOCKS: dict[str, Block] = {"generate": generate, "judge": judge, "dedupe": dedupe}
