#!/usr/bin/env python3
"""Benchmark the PR comment's pure core: desired_state (render + labels) and plan.

The input is the demo PR's real outputs (tests/comment/data/) grown to 20 findings and 30
sample pairs (3 leaves of 10), the size the issue names. Measured in the same run, interleaved
so that a change in machine load affects every figure alike:

  ours       desired_state(result, run) + plan(desired, pr, run, bot): escaping every untrusted
             string, the Jinja2 template, the size check, labels and the reconciliation
             (the PR already holds an older comment, so plan compares bodies and labels)
  format     a bare str.format renderer of the same sections, with no escaping at all: what the
             comment would cost if it were unsafe
  json       json.dumps of the same result: the floor, serialising the data once

Printed: median, p10 and p90 in ms over --runs runs (after --warmup untimed ones), the first
call's time (template compile included), and the ratio of ours to each baseline. Target: ours
<= 100 ms median.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taxonbot.comment.plan import desired_state, plan  # noqa: E402
from taxonbot.github.values import Comment, PrState, RunInfo  # noqa: E402

DATA = REPO / "tests" / "comment" / "data"
SHA = "7436af21f18fe4f6658c48e03ee81d0843959f36"
RUN = RunInfo(SHA, 12_345_678_901, 1, "acme/taxonomy", 7)
BOT = "taxonbot[bot]"


def sample_result() -> dict[str, Any]:
    parts = {
        k: json.loads((DATA / f"{k}.json").read_text())
        for k in ("check", "diff", "gaps", "preview")
    }
    findings = parts["check"]["findings"]
    parts["check"]["findings"] = [findings[i % len(findings)] | {"line": i + 1} for i in range(20)]
    leaf = parts["preview"]["leaves"][1]
    leaves = []
    for n in range(3):
        pairs = [p | {"kept": (i + n) % 3 == 0} for i, p in enumerate(leaf["pairs"][:10])]
        leaves.append(copy.deepcopy(leaf) | {"leaf": f"{leaf['leaf']}_{n}", "pairs": pairs})
    parts["preview"]["leaves"] = leaves
    return {
        "format": "taxonbot-result/1",
        "head_sha": SHA,
        "run_id": RUN.run_id,
        "run_attempt": 1,
    } | parts


def ours(result: dict[str, Any], pr: PrState) -> int:
    want = desired_state(result, RUN)
    return len(plan(want, pr, RUN, BOT)) + len(want.body)


FORMAT_ROW = "| {icon} | [line {line}, col {col}]({url}) | {message} `{rule}` | {hint} |\n"
FORMAT_PAIR = (
    "**Pair {n}** · {reason}\n\nQuestion:\n\n```text\n{question}\n```\n\n"
    "Answer:\n\n```text\n{answer}\n```\n\n"
)
FORMAT_HEAD = "<!-- taxonbot:comment -->\n### taxonbot\n\n| | Where | Problem | What to do |\n"
OLD_BODY = (
    "<!-- taxonbot:comment -->\n"
    '<!-- taxonbot:run {"head_sha": "x", "run_id": 1, "run_attempt": 1} -->\nold'
)


def bare_format(result: dict[str, Any], pr: PrState) -> int:
    out = [FORMAT_HEAD, "|---|---|---|---|\n"]
    for f in result["check"]["findings"]:
        url = f"https://github.com/{RUN.repo}/blob/{RUN.head_sha}/{f['path']}#L{f['line']}"
        out.append(FORMAT_ROW.format(icon="❌", url=url, **f))
    for report in result["gaps"]["novelty"]:
        out.append("- `{leaf}`: {verdict}\n".format(**report))
        out += [f"| {r['question']} | {r['answer']} | {r['cosine']} |\n" for r in report["rows"]]
    for leaf in result["gaps"]["overlap"]["leaves"]:
        out += [
            f"| {q['question']} | {n['question']} | {n['score']} |\n"
            for q in leaf["questions"]
            for n in q["neighbours"][:3]
        ]
    for leaf in result["preview"]["leaves"]:
        out.append("<details><summary>{leaf}</summary>\n\n".format(**leaf))
        out += [FORMAT_PAIR.format(n=p["number"] + 1, **p) for p in leaf["pairs"]]
        out.append("</details>\n")
    return len("".join(out))


def as_json(result: dict[str, Any], pr: PrState) -> int:
    return len(json.dumps(result))


def measure(
    contenders: dict[str, Callable[[dict[str, Any], PrState], int]], runs: int, warmup: int
) -> dict[str, list[float]]:
    result = sample_result()
    old = Comment(10, BOT, OLD_BODY)
    pr = PrState(7, "open", False, SHA, frozenset({"check:passed", "needs-review"}), (old,))
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(warmup + runs):
        for name, contender in contenders.items():
            start = time.perf_counter()
            contender(result, pr)
            if i >= warmup:
                times[name].append((time.perf_counter() - start) * 1000)
    return times


def first_call_ms() -> float:
    result = sample_result()
    pr = PrState(7, "open", False, SHA, frozenset(), ())
    start = time.perf_counter()
    ours(result, pr)
    return (time.perf_counter() - start) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    cold = first_call_ms()
    times = measure({"ours": ours, "format": bare_format, "json": as_json}, args.runs, args.warmup)
    result = sample_result()
    body = desired_state(result, RUN).body
    pairs = sum(len(leaf["pairs"]) for leaf in result["preview"]["leaves"])
    findings = len(result["check"]["findings"])
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{args.runs} runs after {args.warmup} untimed, contenders interleaved")
    print(f"input: {findings} findings, {pairs} pairs, {len(json.dumps(result)):,} bytes of JSON")
    print(f"comment: {len(body):,} characters, {len(body.encode()):,} bytes")
    print(f"first call (template compile included): {cold:.2f} ms")
    print(f"{'contender':<10} {'median ms':>10} {'p10':>8} {'p90':>8}")
    median = {}
    for name, samples in times.items():
        deciles = statistics.quantiles(samples, n=10)
        median[name] = statistics.median(samples)
        print(f"{name:<10} {median[name]:>10.3f} {deciles[0]:>8.3f} {deciles[-1]:>8.3f}")
    for name in ("format", "json"):
        print(f"ours / {name}: {median['ours'] / median[name]:.1f}x")
    verdict = "OK" if median["ours"] <= 100 else "OVER"
    print(f"target: ours <= 100 ms median -> {verdict} ({median['ours']:.2f} ms)")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
