"""Pipelines as data: load taxonbot/sdg/pipelines/<name>.yaml, check it against
schemas/pipeline.json,
and run its blocks over a leaf in small rounds so a time budget keeps finished pairs."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from taxonbot.errors import CannotRun
from taxonbot.schemas import validator
from taxonbot.sdg.blocks import BLOCKS, BlockSpec, RunContext
from taxonbot.sdg.judging import judges_of
from taxonbot.sdg.prompts import GRAMMARS_DIR, grammar_text
from taxonbot.sdg.sample import LeafJob, Sample
from taxonbot.sdg.signals import combined, profile, rank_kept, signals

PIPELINES_DIR = Path(__file__).resolve().parent / "pipelines"
SCHEMA_ID = "https://taxonbot.dev/schemas/pipeline.json"


class PipelineError(CannotRun):
    """A pipeline file is missing or malformed (a bug in our data, reported plainly)."""


@dataclass(frozen=True)
class Pipeline:
    name: str
    version: str
    blocks: tuple[BlockSpec, ...]
    sha256: str


def load_pipeline(name: str, folder: Path = PIPELINES_DIR) -> Pipeline:
    path = folder / f"{name}.yaml"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PipelineError(f"pipeline {name!r} not found at {path}") from exc
    try:
        data = yaml.safe_load(raw)  # our own reviewed file, not contributor input
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "version" in data:
        data["version"] = str(data["version"])
    errors = sorted(validator(SCHEMA_ID).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise PipelineError(f"{path}: {where or 'top level'}: {errors[0].message}")
    blocks = tuple(
        BlockSpec(
            **{
                **block,
                "stop": tuple(block.get("stop", ())),
                "prefills": tuple(block.get("prefills", ())),
            }
        )
        for block in data["blocks"]
    )
    blocks = tuple(with_grammar(block, path) for block in blocks)
    for block in blocks:
        needs = {"generate": ("template", "output"), "judge": ("template", "scale")}
        missing = [f for f in needs.get(block.type, ()) if not getattr(block, f)]
        if missing:
            raise PipelineError(f"{path}: block {block.name!r} needs {', '.join(missing)}")
    return Pipeline(data["name"], data["version"], blocks, hashlib.sha256(raw).hexdigest())


def with_grammar(block: BlockSpec, path: Path) -> BlockSpec:
    """The block with its grammar's text, read once here; a missing grammar is our bug."""
    if not block.grammar:
        return block
    try:
        text = grammar_text(block.grammar)
    except (OSError, UnicodeDecodeError) as exc:
        raise PipelineError(
            f"{path}: block {block.name!r} names grammar {block.grammar!r}, which cannot be "
            f"read from {GRAMMARS_DIR.parent.name}/{GRAMMARS_DIR.name}/ ({exc.__class__.__name__})"
        ) from exc
    if "root" not in text.split("::=", 1)[0]:
        raise PipelineError(
            f"{path}: block {block.name!r}: grammar {block.grammar!r} has no `root ::=` rule first"
        )
    return replace(block, grammar_text=text)


@dataclass(frozen=True)
class Budget:
    pairs: int = 10  # candidate pairs per leaf
    max_new_tokens: int = 256  # cap on every generation
    seconds: float | None = None  # wall clock for the whole run
    round_size: int = 10  # samples that go through the blocks together (decoded side by side)


@dataclass
class LeafRun:
    job: LeafJob
    pipeline: Pipeline
    samples: list[Sample] = field(default_factory=list)
    status: str = "complete"  # complete | time_budget | not_started
    seconds: float = 0.0
    # What happened to each judge block on this model: {block name: {"status": "used" |
    # "skipped" | "uncalibrated", "auc": float | None}} (taxonbot/sdg/judging.py).
    judges: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A skill's seed examples its prompts showed (RunContext.shown), when fewer than all; 0 else.
    seeds_shown: int = 0


Progress = Callable[[LeafRun, int], None]


def run_leaf(
    pipeline: Pipeline,
    ctx: RunContext,
    budget: Budget,
    deadline: float | None = None,
    progress: Progress | None = None,
    first_number: int = 0,
) -> LeafRun:
    run = LeafRun(ctx.job, pipeline)
    run.judges = judges_of((b.name for b in pipeline.blocks if b.type == "judge"), ctx.judge_auc)
    if ctx.job.kind != "knowledge" and len(ctx.shown()) < len(ctx.job.seeds):
        run.seeds_shown = len(ctx.shown())
    started = time.monotonic()
    numbers = list(range(first_number, budget.pairs))
    size = max(1, budget.round_size)  # a round of 0 would make no samples at all
    for start in range(0, len(numbers), size):
        if deadline is not None and time.monotonic() >= deadline:
            run.status = "time_budget" if run.samples else "not_started"
            break
        batch = [new_sample(ctx.job, n) for n in numbers[start : start + size]]
        run.samples += batch
        finished = run_round(pipeline, ctx, batch, deadline)
        rank_kept(run.samples)
        if not finished:
            run.status = "time_budget"
            break
        if progress is not None:
            progress(run, len(numbers))
    run.seconds = time.monotonic() - started
    return run


def new_sample(job: LeafJob, number: int) -> Sample:
    # Knowledge samples start from a document chunk, taken in turn.
    context = job.chunks[number % len(job.chunks)] if job.chunks else ""
    return Sample(number=number, context=context)


def run_round(
    pipeline: Pipeline, ctx: RunContext, batch: list[Sample], deadline: float | None
) -> bool:
    """Every block over the batch; False when the time budget ran out part-way."""
    for spec in pipeline.blocks:
        # dedupe asks no model and takes no time: once the model work is done, the round finishes.
        if spec.type != "dedupe" and deadline is not None and time.monotonic() >= deadline:
            for sample in batch:
                sample.reject("time_budget", "not finished before the time budget ran out")
            return False
        live = [s for s in batch if not s.rejected_by]
        if live:
            BLOCKS[spec.type](spec, ctx, live)
    for sample in batch:
        sample.finished = True
    measure(ctx, batch)
    return True


def measure(ctx: RunContext, batch: list[Sample]) -> None:
    """Each sample's ranking signals, against the seeds and the leaf's questions kept so far."""
    seeds = profile(ctx.job.task_description, ctx.job.seeds)
    for sample in batch:
        kept = [a.words for a in ctx.kept_questions if a.number < sample.number]
        sample.signals = signals(sample, seeds, kept)
        sample.score = combined(sample.signals)
