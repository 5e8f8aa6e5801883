"""What preview and generate share: their options, choosing leaves, running leaves."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from taxonbot.check.run import discover
from taxonbot.runtime import ModelBackend
from taxonbot.runtime.open import ModelSpec
from taxonbot.sdg.blocks import RunContext
from taxonbot.sdg.generate import pipeline_for
from taxonbot.sdg.leafjob import DocumentSource, LeafError, LeafJob, leaf_job
from taxonbot.sdg.pipeline import Budget, LeafRun, run_leaf
from taxonbot.sdg.progress import ProgressReporter
from taxonbot.taxonomy.changed import changed_files


@dataclass
class LeafOutcome:
    path: str
    run: LeafRun | None = None
    error: str = ""  # why this leaf produced nothing (bad leaf, documents unavailable, ...)


@dataclass(frozen=True)
class SdgOptions:
    """What preview and generate are asked (taxonbot/cli/sdgoptions.py reads it from argv)."""

    docs: DocumentSource  # where knowledge documents are fetched to (an absolute folder)
    paths: tuple[str, ...] = ()  # qna.yaml files or folders; none: the whole taxonomy/
    base: str | None = None  # only the leaves changed since this git ref
    teacher: ModelSpec = field(default_factory=ModelSpec)
    seed: int = 0
    max_new_tokens: int = 256
    knowledge_pipeline: str = "auto"  # or "knowledge", "knowledge_extractive"


def select_leaves(paths: tuple[str, ...] | list[str], base: str | None) -> list[str]:
    """The qna.yaml files to generate for: those changed since `base`, else under `paths`."""
    files = changed_files(base) if base else list(discover(list(paths) or ["taxonomy"]))
    return [f for f in files if f.endswith("qna.yaml")]


def budget_deadline(seconds: float | None) -> float | None:
    """When a time budget of `seconds`, started now, runs out (time.monotonic); None: never."""
    return None if seconds is None else time.monotonic() + seconds


def run_leaves(
    paths: list[str],
    backend: ModelBackend,
    budget: Budget,
    options: SdgOptions,
    progress: ProgressReporter,
    deadline: float | None = None,
    judge_auc: Mapping[str, float] | None = None,
) -> Iterator[LeafOutcome]:
    """`deadline` (time.monotonic) ends the budget; by default `budget.seconds` from now. Document
    fetches stop at it too. `judge_auc`: each judge's measured separation on this model
    (ModelChoice.judges, from the catalogue)."""
    if deadline is None:
        deadline = budget_deadline(budget.seconds)
    knowledge = knowledge_pipeline(options.knowledge_pipeline, options.teacher)
    docs = replace(options.docs, deadline=deadline)
    for path, job in leaf_jobs(paths, docs, progress):
        if isinstance(job, LeafError):
            yield LeafOutcome(path, error=str(job))
            continue
        run = run_leaf(
            pipeline_for(job, knowledge),
            RunContext(
                job, backend, options.seed, budget.max_new_tokens, judge_auc=judge_auc or {}
            ),
            budget,
            deadline,
            progress,
        )
        progress.finish_leaf(run)
        yield LeafOutcome(path, run)


def leaf_jobs(
    paths: list[str], docs: DocumentSource, progress: ProgressReporter
) -> Iterator[tuple[str, LeafJob | LeafError]]:
    """Each path with its job, or the LeafError that says why it has none (already reported)."""
    for path in paths:
        progress.start_leaf(path)
        try:
            job = leaf_job(path, docs)
        except LeafError as exc:
            progress.skip_leaf(str(exc))
            yield path, exc
            continue
        yield path, job


def knowledge_pipeline(name: str, teacher: ModelSpec) -> str:
    """`auto`: a model behind an OpenAI-compatible server is taken to be strong enough to write
    and judge knowledge pairs (LAB's pipeline); a local GGUF on the CPU, such as the bundled
    135M model, is not (its judges rejected 30 of 30 pairs), and gets the extractive pipeline
    (answers are the document's own sentences, the model writes only the questions)."""
    if name != "auto":
        return name
    return "knowledge" if teacher.remote else "knowledge_extractive"
