"""Does the ranking put good pairs first? The ranking signals against pairs a person labelled.

    .venv/bin/python benchmarks/rank_quality.py [--data benchmarks/data/labelled_pairs.json]

The data holds the pairs real previews kept (the offline default, Qwen2.5-Coder-0.5B, on the
taxonomy's skill leaves), each labelled good or weak by a person, with the reason. For each leaf
the pairs are ranked twice, in one run, from their text and the leaf's qna.yaml:

- before: the mean of novelty (against the seed questions), diversity and grounding, the
  ranking as it was (commit fea9495);
- now: taxonbot.sdg.signals.combined (on_task, diversity breaking ties), with the pairs that
  blocks.unusable now rejects (a reply in the model's own voice, a context under 20 words)
  ranked last.

Printed per leaf and over all leaves that have both labels: the ROC AUC of the score for good
over weak (0.5: no better than chance), and how many of the top three are good against how many
could be. Each signal alone is printed too.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taxonbot.sdg.blocks import MIN_CONTEXT_WORDS, copy_reason, normalise, unusable  # noqa: E402
from taxonbot.sdg.grounding import support  # noqa: E402
from taxonbot.sdg.labelled import roc_auc  # noqa: E402
from taxonbot.sdg.leafjob import leaf_job  # noqa: E402
from taxonbot.sdg.pipeline import load_pipeline  # noqa: E402
from taxonbot.sdg.sample import LeafJob, Sample  # noqa: E402
from taxonbot.sdg.signals import combined, jaccard, profile, signals, words  # noqa: E402

TOP = 3


def before(sample: Sample, job: LeafJob, kept: list[frozenset[str]]) -> float:
    """The ranking score as it was: mean of novelty, diversity and grounding."""
    asked = words(sample.question)
    seeds = [words(s.question) for s in job.seeds]
    values = [
        1.0 - max((jaccard(asked, s) for s in seeds), default=0.0),
        1.0 - max((jaccard(asked, k) for k in kept), default=0.0),
    ]
    if sample.context and sample.answer:
        values.append(support(sample.answer, sample.context))
    return sum(values) / len(values)


def rejected_now(sample: Sample, job: LeafJob, similarity: float) -> bool:
    """What the preview now rejects that it kept then: blocks.unusable (a reply in the model's
    voice, a context too short, a question of a word or two) and the copies dedupe now catches
    (the task description, the context as the question; `similarity`: the leaf pipeline's
    dedupe ratio)."""
    fields = ("question", "answer", "context") if sample.context else ("question", "answer")
    task = frozenset(normalise(job.task_description).split())
    copied = copy_reason(sample, [], [], similarity, task)
    return bool(copied) or any(unusable(job, sample, field) for field in fields)


def leaf_scores(leaf: dict[str, Any]) -> dict[str, Any]:
    job = leaf_job(str(REPO / leaf["path"]), None)
    seeds = profile(job.task_description, job.seeds)
    (dedupe,) = [b for b in load_pipeline(job.kind).blocks if b.type == "dedupe"]
    rows: list[dict[str, Any]] = []
    kept: list[frozenset[str]] = []
    for pair in sorted(leaf["pairs"], key=lambda p: p["number"]):
        sample = Sample(pair["number"], pair["question"], pair["answer"], pair["context"])
        values = signals(sample, seeds, kept)
        rows.append(
            {
                "good": pair["label"] == "good",
                "before": before(sample, job, kept),
                "now": -1.0 if rejected_now(sample, job, dedupe.similarity) else combined(values),
                "signals": values,
            }
        )
        kept.append(words(sample.question))
    return {"leaf": job.leaf.rsplit("/", 1)[-1], "rows": rows}


def auc(rows: list[dict[str, Any]], key: str) -> float | None:
    good = [r[key] for r in rows if r["good"] and r[key] is not None]
    weak = [r[key] for r in rows if not r["good"] and r[key] is not None]
    return roc_auc(good, weak) if good and weak else None


def top_good(rows: list[dict[str, Any]], key: str) -> int:
    order = sorted(range(len(rows)), key=lambda i: (-rows[i][key], i))  # ties: made first
    return sum(rows[i]["good"] for i in order[:TOP])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks/data/labelled_pairs.json")
    args = parser.parse_args(argv)
    data = json.loads(args.data.read_text("utf-8"))
    leaves = [leaf_scores(leaf) for leaf in data["leaves"]]
    names = sorted({n for leaf in leaves for r in leaf["rows"] for n in r["signals"]})
    print(f"{data['model']}: {sum(len(x['rows']) for x in leaves)} labelled pairs")
    print(
        f"{'leaf':<24}{'good':>6}{'AUC before':>12}{'AUC now':>9}{'top-3 good before/now/best':>29}"
    )
    aucs: dict[str, list[float]] = {"before": [], "now": []}
    tops = {"before": 0, "now": 0, "best": 0}
    for leaf in leaves:
        rows = leaf["rows"]
        good = sum(r["good"] for r in rows)
        a, b = auc(rows, "before"), auc(rows, "now")
        best = min(TOP, good)
        if a is not None and b is not None:
            aucs["before"].append(a)
            aucs["now"].append(b)
            for key in ("before", "now"):
                tops[key] += top_good(rows, key)
            tops["best"] += best
        shown = f"{a:>12.2f}{b:>9.2f}" if a is not None and b is not None else f"{'-':>12}{'-':>9}"
        print(
            f"{leaf['leaf'][:23]:<24}{good:>3}/{len(rows):<2}{shown}"
            f"{top_good(rows, 'before'):>17}/{top_good(rows, 'now')}/{best}"
        )
    print(
        f"mean AUC over the {len(aucs['now'])} leaves with both labels: before "
        f"{statistics.mean(aucs['before']):.2f}, now {statistics.mean(aucs['now']):.2f}; good "
        f"pairs in the top {TOP}: before {tops['before']}, now {tops['now']}, "
        f"at best {tops['best']}"
    )
    dropped = [r["good"] for leaf in leaves for r in leaf["rows"] if r["now"] == -1.0]
    print(
        f"rejected now (the model's own voice, a context under {MIN_CONTEXT_WORDS} words, a "
        "one- or two-word question, a copy of the task description or of the context): "
        f"{len(dropped)} pairs, {sum(dropped)} of them labelled good"
    )
    print("each signal alone, mean AUC over those leaves (where the leaf has it):")
    for name in names:
        per_leaf = []
        for leaf in leaves:
            rows = [{**r, name: r["signals"].get(name)} for r in leaf["rows"]]
            value = auc(rows, name)
            if value is not None:
                per_leaf.append(value)
        if per_leaf:
            print(f"  {name:<14}{statistics.mean(per_leaf):.2f} over {len(per_leaf)} leaves")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
