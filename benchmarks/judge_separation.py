#!/usr/bin/env python3
"""Do the pipelines' judges tell good pairs from bad ones? (issue 19, item 5)

    .venv/bin/python benchmarks/judge_separation.py [--model llama.cpp|FILE.gguf] [--leaf DIR ...]
        [--per-kind 3] [--threads 2] [--no-grammar] [--json]

For each leaf (a freeform, a grounded and a knowledge leaf of taxonomy/ by default) it builds the
labelled set of taxonbot/sdg/labelled.py from the leaf's own seeds: the seed pairs as good ones,
and the same seeds broken on purpose (another seed's answer, another leaf's pair, a truncated
answer, a copied seed question, an answer under a context that does not hold it) as bad ones.
Then it runs every judge block of the leaf's pipeline, exactly as a preview runs it (the same
block function, template, prefill, grammar and token cap), over the pairs that say something
about that judge, each judged with the other seeds as references. Knowledge leaves use the
seeds' own contexts, so nothing is fetched.

It prints, per judge: n good / n bad, the mean score of each, how many replies did not parse,
and the ROC AUC of score against label (0.5 = chance, 1.0 = every good pair above every bad
one); an unparsable reply counts as the lowest score, as the pipeline rejects it. The AUCs are
what a model catalogue entry records under `judges`, and what gates a judge in a preview
(taxonbot/sdg/blocks.py MIN_JUDGE_AUC). With --json the numbers go to stdout and the table to
stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taxonbot.runtime.open import ModelSpec, open_model  # noqa: E402
from taxonbot.sdg.blocks import BlockSpec, RunContext, judge  # noqa: E402
from taxonbot.sdg.labelled import LabelledPair, LabelledSet, labelled_set, roc_auc  # noqa: E402
from taxonbot.sdg.leafjob import leaf_job  # noqa: E402
from taxonbot.sdg.pipeline import load_pipeline  # noqa: E402
from taxonbot.sdg.replies import SCALES  # noqa: E402
from taxonbot.sdg.sample import LeafJob, Sample  # noqa: E402
from taxonbot.sdg.signals import profile, signals  # noqa: E402

# The ranking signals (taxonbot/sdg/signals.py) measured the same way, without a model: which
# kinds of bad pair each one is meant to catch.
SIGNAL_BAD = {"novelty": ("copied_seed",), "grounding": ("unsupported", "off_topic")}

DEFAULT_LEAVES = (
    "taxonomy/compositional_skills/writing/freeform/email/polite_decline",
    "taxonomy/compositional_skills/writing/freeform/poetry/haiku_about_weather",
    "taxonomy/compositional_skills/extraction/grounded/events/event_details",
    "taxonomy/compositional_skills/writing/grounded/summarization/meeting_notes_bullets",
    "taxonomy/knowledge/science/earth_science/water_cycle",
)


def judge_specs(job: LeafJob, grammar: bool) -> list[BlockSpec]:
    pipeline = load_pipeline("knowledge" if job.kind == "knowledge" else job.kind)
    specs = [b for b in pipeline.blocks if b.type == "judge"]
    return specs if grammar else [replace(s, grammar="", grammar_text="") for s in specs]


def scores(
    spec: BlockSpec, job: LeafJob, labelled: LabelledSet, judge_name: str, backend: Any
) -> list[tuple[LabelledPair, int | None]]:
    """Each pair's score from the judge block, in one call (the references are shared)."""
    pairs = [p for p in labelled.pairs if p.tests(judge_name)]
    samples = [Sample(k, p.question, p.answer, p.context) for k, p in enumerate(pairs)]
    ctx = RunContext(replace(job, seeds=labelled.references), backend, 0, spec.max_tokens)
    judge(spec, ctx, samples)
    return [(p, s.verdicts[spec.name].score) for p, s in zip(pairs, samples, strict=True)]


def measure(args: argparse.Namespace) -> dict[str, Any]:
    jobs = [leaf_job(str(Path(leaf) / "qna.yaml"), None) for leaf in args.leaf]
    backend = open_model(ModelSpec(spec=args.model, threads=args.threads))
    results: dict[str, dict[str, Any]] = {}
    signal_rows: dict[str, dict[str, Any]] = {}
    leaves: list[dict[str, Any]] = []
    started = time.monotonic()
    for index, job in enumerate(jobs):
        others = jobs[(index + 1) % len(jobs)].seeds if len(jobs) > 1 else ()
        labelled = labelled_set(job.seeds, others, args.per_kind)
        leaves.append({"leaf": job.leaf, "kind": job.kind, "pairs": len(labelled.pairs)})
        if not labelled.pairs:
            leaves[-1]["reason"] = labelled.reason
            print(f"{job.leaf}: no labelled set: {labelled.reason}", file=sys.stderr)
            continue
        for spec in judge_specs(job, args.grammar):
            row = results.setdefault(spec.name, {"good": [], "bad": [], "unparsable": 0})
            low = SCALES[spec.scale][0]
            judged = scores(spec, job, labelled, spec.name, backend)
            for pair, score in judged:
                row["unparsable"] += score is None
                value = low - 1 if score is None else score
                row["good" if pair.good else "bad"].append(value)
                row.setdefault("by_kind", defaultdict(list))[pair.kind].append(value)
            print(f"{job.leaf}: {spec.name} done ({len(judged)} pairs)", file=sys.stderr)
        seeds = profile(job.task_description, labelled.references)
        for pair in labelled.pairs:
            sample = Sample(0, pair.question, pair.answer, pair.context)
            for name, value in signals(sample, seeds, []).items():
                if name in SIGNAL_BAD and (pair.good or pair.kind in SIGNAL_BAD[name]):
                    row = signal_rows.setdefault(name, {"good": [], "bad": [], "unparsable": 0})
                    row["good" if pair.good else "bad"].append(value)
                    row.setdefault("by_kind", defaultdict(list))[pair.kind].append(value)
    seconds = time.monotonic() - started
    backend.close()
    return {
        "model": args.model,
        "grammar": args.grammar,
        "per_kind": args.per_kind,
        "seconds": round(seconds, 1),
        "leaves": leaves,
        "judges": {name: summary(row) for name, row in sorted(results.items())},
        "signals": {name: summary(row) for name, row in sorted(signal_rows.items())},
    }


def summary(row: dict[str, Any]) -> dict[str, Any]:
    good, bad = row["good"], row["bad"]
    auc = roc_auc(good, bad)
    return {
        "auc": None if auc is None else round(auc, 3),
        "n_good": len(good),
        "n_bad": len(bad),
        "mean_good": round(sum(good) / len(good), 2) if good else None,
        "mean_bad": round(sum(bad) / len(bad), 2) if bad else None,
        "unparsable": row["unparsable"],
        "mean_by_kind": {k: round(sum(v) / len(v), 2) for k, v in sorted(row["by_kind"].items())},
    }


def table(result: dict[str, Any]) -> str:
    lines = [
        f"model {result['model']}, grammar {'on' if result['grammar'] else 'off'}, "
        f"{result['seconds']} s",
        "| judge or signal | AUC | mean good | mean bad | n good | n bad | unparsable |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in [*result["judges"].items(), *result["signals"].items()]:
        lines.append(
            f"| {name} | {s['auc']} | {s['mean_good']} | {s['mean_bad']} | {s['n_good']} "
            f"| {s['n_bad']} | {s['unparsable']} |"
        )
    for name, s in result["judges"].items():
        kinds = ", ".join(f"{k} {v}" for k, v in s["mean_by_kind"].items())
        lines.append(f"{name} mean score by kind: {kinds}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="llama.cpp", help="llama.cpp (bundled) or a .gguf")
    parser.add_argument("--leaf", nargs="+", default=list(DEFAULT_LEAVES))
    parser.add_argument("--per-kind", type=int, default=3, help="pairs of each kind per leaf")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-grammar", dest="grammar", action="store_false")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import os

    os.chdir(REPO)
    result = measure(args)
    print(table(result), file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
