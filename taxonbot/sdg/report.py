"""preview.json and pairs.jsonl: data only (the PR comment job validates and escapes it)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import atomic_open, write_atomic
from taxonbot.jsonl import dump_line
from taxonbot.runtime import ModelBackend
from taxonbot.sdg.pipeline import Budget, LeafRun
from taxonbot.sdg.prompts import templates_hash
from taxonbot.sdg.session import LeafOutcome

FORMAT = "taxonbot-preview/1"


def leaf_record(outcome: LeafOutcome) -> dict[str, Any]:
    run = outcome.run
    if run is None:
        return {
            "path": outcome.path,
            "status": "error",
            "message": outcome.error,
            "leaf": "",
            "kind": "",
            "pipeline": None,
            "counts": counts([]),
            "pairs": [],
        }
    return {
        "path": outcome.path,
        "leaf": run.job.leaf,
        "kind": run.job.kind,
        "status": run.status,
        "message": status_message(run),
        "pipeline": {
            "name": run.pipeline.name,
            "version": run.pipeline.version,
            "sha256": run.pipeline.sha256,
        },
        "seconds": round(run.seconds, 2),
        "counts": counts(run.samples),
        "pairs": [s.record() for s in run.samples],
    }


def counts(samples: Iterable[Any]) -> dict[str, Any]:
    samples = list(samples)
    rejected = Counter(s.rejected_by for s in samples if s.rejected_by)
    return {
        "candidates": len(samples),
        "kept": sum(1 for s in samples if s.kept),
        "rejected_by": dict(sorted(rejected.items())),
    }


def status_message(run: LeafRun) -> str:
    if run.status == "time_budget":
        return "The time budget ran out; the pairs finished so far are shown."
    if run.status == "not_started":
        return "The time budget ran out before this leaf started."
    return ""


def write_preview(
    out: Path, outcomes: list[LeafOutcome], backend: ModelBackend, budget: Budget, seed: int
) -> dict[str, Any]:
    stats = backend.stats
    body = {
        "format": FORMAT,
        "model": backend.describe(),
        "seed": seed,
        "budget": asdict(budget),
        "templates_sha256": templates_hash(),
        "time_budget_exhausted": any(o.run and o.run.status != "complete" for o in outcomes),
        "stats": {
            "requests": stats.requests,
            "failures": stats.failures,
            "prompt_tokens": stats.prompt_tokens,
            "prompt_tokens_evaluated": stats.prompt_tokens_evaluated,
            "completion_tokens": stats.completion_tokens,
            "seconds": round(stats.seconds, 2),
        },
        "leaves": [leaf_record(o) for o in outcomes],
    }
    write_atomic(out / "preview.json", json.dumps(body, indent=1, ensure_ascii=False) + "\n")
    with atomic_open(out / "pairs.jsonl") as handle:
        for run in (o.run for o in outcomes if o.run is not None):
            for sample in run.samples:
                if sample.kept:
                    handle.write(dump_line({"messages": sample.messages(), "leaf": run.job.leaf}))
    return body
