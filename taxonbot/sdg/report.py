"""preview.json and pairs.jsonl: data only (the PR comment job validates and escapes it)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from taxonbot.check.rules.questions import normalise, similar
from taxonbot.diskwrite import atomic_open, write_atomic
from taxonbot.jsonl import dump_line
from taxonbot.runtime import ModelBackend
from taxonbot.sdg.pipeline import Budget, LeafRun
from taxonbot.sdg.prompts import templates_hash
from taxonbot.sdg.sample import Seed
from taxonbot.sdg.session import LeafOutcome

FORMAT = "taxonbot-preview/1"
MAX_COMPARED_SEEDS = 200  # seed questions compared pairwise for `alike`; the check caps the rest


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
        "seeds": seed_facts(run.job.seeds)
        | ({"shown": run.seeds_shown} if getattr(run, "seeds_shown", 0) else {}),
        "judges": judge_statuses(getattr(run, "judges", {})),
        "pairs": [s.record() for s in run.samples],
    }


def seed_facts(seeds: Iterable[Seed]) -> dict[str, int]:
    """What the comment's advice needs when nothing is kept: how many seed examples, how many
    carry a context, and how many questions (nearly) repeat an earlier one about the same
    context, by the check's own rule (content.duplicate-question / similar-question)."""
    seeds = list(seeds)
    earlier: list[tuple[str, str, frozenset[str]]] = []
    alike = 0
    for seed in seeds[:MAX_COMPARED_SEEDS]:
        norm = normalise(seed.question)
        words = frozenset(norm.split())
        if any(c == seed.context and (n == norm or similar(words, w)) for c, n, w in earlier):
            alike += 1
        earlier.append((seed.context, norm, words))
    return {
        "examples": len(seeds),
        "with_context": sum(1 for s in seeds if s.context.strip()),
        "alike": alike,
    }


def judge_statuses(judges: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Judge block name -> whether its scores decided anything on this model, and its measured
    separation (ROC AUC on the labelled set) when known."""

    def field(info: Any, key: str) -> Any:
        return info.get(key) if isinstance(info, Mapping) else getattr(info, key, None)

    return {
        name: {"status": str(field(info, "status")), "auc": field(info, "auc")}
        for name, info in sorted(judges.items())
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
    out: Path,
    outcomes: list[LeafOutcome],
    backend: ModelBackend,
    budget: Budget,
    seed: int,
    choice: dict[str, object] | None = None,
) -> dict[str, Any]:
    """`choice`: ModelChoice.record(), which model ran and why (None: not known)."""
    stats = backend.stats
    body = {
        "format": FORMAT,
        "model": backend.describe(),
        "model_choice": choice,
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
