"""The one generation loop: a leaf's samples, resumable, and the inputs that decide them.

`taxonbot generate` and `taxonbot build` both make a leaf's full data here. The samples go to an
append-only store (taxonbot/sdg/store.py) after every round, so a killed run resumes mid-leaf. What
decides the samples (the leaf, the pipeline, the prompt templates, the generation code, the teacher
model and the settings) is `leaf_inputs`: generate writes it as the store's header (a store made
from other inputs is started again), build names its cache file by its digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxonbot.runtime.base import ModelBackend
from taxonbot.sdg.blocks import RunContext
from taxonbot.sdg.codehash import generation_code_hash
from taxonbot.sdg.pipeline import (
    PIPELINES_DIR,
    Budget,
    LeafRun,
    Pipeline,
    Progress,
    load_pipeline,
    run_leaf,
)
from taxonbot.sdg.prompts import templates_hash
from taxonbot.sdg.sample import LeafJob
from taxonbot.sdg.store import LeafStore


@dataclass(frozen=True)
class GenerationSettings:
    pairs: int = 50
    seed: int = 0
    max_new_tokens: int = 256
    round_size: int = 16
    pipelines: Path | None = None  # a folder of pipeline YAMLs instead of taxonbot/sdg/pipelines
    knowledge_pipeline: str = "knowledge"  # or "knowledge_extractive" (small teachers)


@dataclass(frozen=True)
class GeneratedLeaf:
    store: LeafStore
    cached: bool  # the store was already complete: nothing was generated this time


def pipeline_for(
    job: LeafJob, knowledge: str = "knowledge", folder: Path | None = None
) -> Pipeline:
    """The pipeline a leaf of `job.kind` runs; knowledge leaves take the `knowledge` one named."""
    return load_pipeline(
        knowledge if job.kind == "knowledge" else job.kind, folder or PIPELINES_DIR
    )


def leaf_inputs(
    leaf: dict[str, str],
    pipeline_sha256: str,
    model: dict[str, str],
    settings: GenerationSettings,
    judge_auc: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Everything that decides which samples a leaf's generation keeps. `leaf` names the leaf's
    content (its input hash, or its blob id at a commit). The context size is left out: it
    changes how much fits, not what a request asks. `judge_auc`: each judge's measured
    separation on the teacher (the model catalogue's `judges`), which decides which judges
    filter."""
    inputs = {
        **leaf,
        "pipeline": pipeline_sha256,
        "templates": templates_hash(),
        "code": generation_code_hash(),
        "teacher": {k: v for k, v in sorted(model.items()) if k != "n_ctx"},
        "settings": [settings.pairs, settings.seed, settings.max_new_tokens],  # pipeline: its hash
    }
    if judge_auc:  # absent when unmeasured, so the keys of existing stores hold
        inputs["judge_auc"] = dict(sorted(judge_auc.items()))
    return inputs


def inputs_digest(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def generate_leaf(
    job: LeafJob,
    pipeline: Pipeline,
    backend: ModelBackend,
    settings: GenerationSettings,
    store_path: Path,
    header: dict[str, Any],
    progress: Progress,
    judge_auc: Mapping[str, float] | None = None,
) -> GeneratedLeaf:
    """`settings.pairs` samples of `job` in the store at `store_path`, whose first line is
    `header`: a complete store with that header is reused, a partial one is resumed, one with
    another header is started again. A BackendError from the model propagates: the caller says
    what a teacher failure means (generate stops, build marks the leaf failed). `judge_auc` as
    for `leaf_inputs` (ModelChoice.judges)."""
    store = LeafStore.open(store_path, header)
    if store.done:
        return GeneratedLeaf(store, cached=True)
    budget = Budget(settings.pairs, settings.max_new_tokens, None, settings.round_size)
    ctx = RunContext(
        job,
        backend,
        settings.seed,
        settings.max_new_tokens,
        store.kept_questions(),
        judge_auc=judge_auc or {},
    )
    written = 0

    def checkpoint(run: LeafRun, target: int) -> None:
        nonlocal written
        store.append(run.samples[written:])
        written = len(run.samples)
        progress(run, target)

    run_leaf(pipeline, ctx, budget, None, checkpoint, store.next_number())
    store.finish()
    return GeneratedLeaf(store, cached=False)
