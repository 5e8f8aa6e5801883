#!/usr/bin/env python3
"""`taxonbot preview` of three taxonomy leaves (freeform, grounded, knowledge) on given models.

    .venv/bin/python benchmarks/preview_models_bench.py --model PATH.gguf [--model ...]
        [--pairs 10] [--threads 2] [--tree DIR] [--json]

For each model and leaf, one `taxonbot preview` in a child process (the code of `--tree`, by
default this checkout: pass a worktree of an older commit to measure "before" in the same run),
and from it: pairs kept of those asked, wall seconds, the child's peak RSS, completion tokens per
second of wall time and of llama.cpp's decode clock, and prompt tokens evaluated / submitted
(what the KV cache and the shared prefix save). The knowledge leaf's document comes from the
offline mirror the tests use (tests/doubles/docmirror.py), so nothing touches the network.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LEAVES = {
    "freeform": "taxonomy/compositional_skills/writing/freeform/email/polite_decline",
    "grounded": "taxonomy/compositional_skills/extraction/grounded/events/event_details",
    "knowledge": "taxonomy/knowledge/science/earth_science/water_cycle",
}


def run_one(
    tree: Path, model: str, leaf: str, args: argparse.Namespace, mirror: Path
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        argv = [
            sys.executable, "-m", "taxonbot", "preview", str(REPO / leaf),
            "--teacher", model, "--pairs", str(args.pairs), "--threads", str(args.threads),
            "--docs-mirror", str(mirror), "--docs-cache", str(Path(tmp) / "docs"),
            "--out", str(out),
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
        started = time.monotonic()
        child = subprocess.Popen(
            argv, cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
        stderr = child.stderr.read().decode("utf-8", "replace") if child.stderr else ""
        if not (out / "preview.json").is_file():
            return {"error": f"exit {os.waitstatus_to_exitcode(status)}: {stderr[-400:]}"}
        body = json.loads((out / "preview.json").read_text("utf-8"))
    (record,) = body["leaves"]
    stats = body["stats"]
    return {
        "kept": record["counts"]["kept"],
        "candidates": record["counts"]["candidates"],
        "rejected_by": record["counts"]["rejected_by"],
        "status": record["status"],
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(usage.ru_maxrss / 1024**2, 2),
        "completion_tokens": stats["completion_tokens"],
        "tokens_per_wall_s": round(stats["completion_tokens"] / wall, 1),
        "prompt_evaluated_share": round(
            stats["prompt_tokens_evaluated"] / max(1, stats["prompt_tokens"]), 3
        ),
        "kept_pairs": [
            {"question": p["question"], "answer": p["answer"][:300]}
            for p in record["pairs"]
            if p["kept"]
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="a .gguf (repeatable)")
    parser.add_argument(
        "--tree", action="append", help="taxonbot checkout(s) to run (default: this one)"
    )
    parser.add_argument(
        "--leaf", action="append", choices=sorted(LEAVES), help="default: all three"
    )
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", metavar="FILE", help="also write every result here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.doubles.docmirror import build_mirror

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        mirror = Path(tmp) / "mirror"
        build_mirror(mirror)
        for tree in [Path(t) for t in (args.tree or [str(REPO)])]:
            for model in args.model:
                for kind in args.leaf or list(LEAVES):
                    row = run_one(tree, model, LEAVES[kind], args, mirror)
                    row.update(tree=tree.name, model=Path(model).name, leaf=kind)
                    results.append(row)
                    print(_line(row), flush=True)
    if args.json:
        Path(args.json).write_text(
            json.dumps(results, indent=1, ensure_ascii=False) + "\n", "utf-8"
        )
    return 0


def _line(row: dict[str, Any]) -> str:
    head = f"{row['tree']:>10} {row['model'][:34]:<34} {row['leaf']:<9}"
    if "error" in row:
        return f"{head} ERROR {row['error']}"
    return (
        f"{head} kept {row['kept']:>2}/{row['candidates']:<2} {row['wall_s']:>6.1f} s "
        f"RSS {row['peak_rss_gb']:.2f} GB  {row['tokens_per_wall_s']:>5.1f} tok/s "
        f"prompt eval {row['prompt_evaluated_share']:.2f}  {row['status']}  {row['rejected_by']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
