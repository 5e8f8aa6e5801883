#!/usr/bin/env python3
"""Does a CPU build learn a knowledge leaf the base model does not know, without forgetting?

Builds, for real, a taxonomy of one knowledge leaf (documents from the offline mirror; with
--skill also a skill leaf) in a temp git repository on the bundled SmolLM2-135M, with the
branch evaluation on. Prints the leaf's score before (base model) and after (new build), the
regression set's before and after, the threshold, and the wall time: same run, same questions,
same scoring (taxonbot/modelbuild/evaluate.py). A benchmark, not a test: many minutes on 2 cores.

  .venv/bin/python benchmarks/build_learning_bench.py [--leaf knowledge/...] [--pairs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from taxonbot.cli.main import main  # noqa: E402
from tests.doubles.docmirror import build_mirror  # noqa: E402

SKILL = "compositional_skills/writing/freeform/poetry/haiku_about_weather"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=B", "-c", "user.email=b@example.com", *args],
        check=True,
        capture_output=True,
    )


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaf", default="knowledge/home_and_garden/composting/home_composting")
    parser.add_argument("--skill", action="store_true", help="add a skill leaf (phase 2 data)")
    parser.add_argument("--pairs", type=int, default=232)
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--seed", type=int, default=0, help="SDG, mixing and training seed")
    parser.add_argument("--keep", help="keep the work here instead of a temp folder")
    parser.add_argument(
        "--replay-self", type=float, default=0.0, help="self-replay per sample (0: off)"
    )
    parser.add_argument(
        "--replay-distill",
        action="store_true",
        help="learn the self-replay by KL toward the start model (as `taxonbot build` does by "
        "default); without it, its answers' tokens",
    )
    parser.add_argument(
        "--drop-block",
        action="append",
        default=[],
        help="build with our pipelines minus this block (e.g. faithfulness: the 135M teacher "
        "judges every knowledge pair unfaithful); said in the output",
    )
    args = parser.parse_args(argv)
    work = Path(args.keep or tempfile.mkdtemp(prefix="taxonbot-learning-"))
    mirror, repo = work / "mirror", work / "repo"
    if not repo.exists():
        build_mirror(mirror)
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        for leaf in (args.leaf, SKILL) if args.skill else (args.leaf,):
            shutil.copytree(ROOT / "taxonomy" / leaf, repo / "taxonomy" / leaf)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "Merge pull request #1 from bench/leaves")
    extra: list[str] = []
    if args.drop_block:
        import yaml

        folder = work / "pipelines"
        folder.mkdir(exist_ok=True)
        for source in (ROOT / "taxonbot" / "sdg" / "pipelines").glob("*.yaml"):
            body = yaml.safe_load(source.read_text("utf-8"))
            body["blocks"] = [b for b in body["blocks"] if b["name"] not in args.drop_block]
            (folder / source.name).write_text(yaml.safe_dump(body, sort_keys=False), "utf-8")
        extra = ["--pipelines", str(folder)]
        print(f"pipelines without: {', '.join(args.drop_block)}")
    started = time.monotonic()
    code = main(
        [
            "build", "--repo", str(repo), "--out", str(work / "builds"),
            "--pairs", str(args.pairs), "--epochs", str(args.epochs), "--lr", str(args.lr),
            "--max-len", "512", "--grad-accum", "4", "--docs-mirror", str(mirror),
            "--replay-self", str(args.replay_self), "--seed", str(args.seed),
            "--docs-cache", str(work / "docs"), "--version", f"bench-{int(time.time())}",
            "--replay-distill" if args.replay_distill else "--no-replay-distill", *extra,
        ]
    )  # fmt: skip
    wall = time.monotonic() - started
    builds = sorted((work / "builds").glob("bench-*"))
    if code == 2 or not builds:
        print(f"the build failed (exit {code}); work kept in {work}")
        return 1
    manifest = json.loads((builds[-1] / "manifest.json").read_text("utf-8"))
    ev = manifest["evaluation"]
    print(f"wall time: {wall:.0f} s (SDG, two phases, export, evaluation)")
    for row in ev["leaves"]:
        print(
            f"leaf {row['name']}: before {row['before']:.3f}  after {row['after']:.3f}"
            f"  gain {row['delta']:+.3f} ± {_se(row, 'score'):.3f}  recall {_recall(row)}"
        )
    reg = ev["regression"]
    print(
        f"regression set: before {reg['before']:.3f}  after {reg['after']:.3f}"
        f"  change {reg['delta']:+.3f} ± {_se(reg, 'score'):.3f}  recall {_recall(reg)}  "
        f"(may fall {ev['threshold']:.3f})"
    )
    data = manifest["data"]["leaves"]
    print(
        "knowledge data: "
        + "; ".join(
            f"{d['pairs_kept']} of {d['candidates']} pairs kept, training samples {d['forms']}"
            for d in data
        )
    )
    mixing = manifest["mixing"]
    print(
        f"phase 1: {mixing['phase1']['total']} samples ({mixing['phase1'].get('replay_self', 0)} "
        f"self-replay); phase 2: {mixing['phase2']['total']} samples "
        f"({mixing['phase2'].get('replay_self', 0)} self-replay)"
    )
    print(f"publishable: {ev['publishable']} — {ev['summary']}")
    return 0


def _recall(row: dict) -> str:
    before, after = row["scores"]["before"]["recall"], row["scores"]["after"]["recall"]
    return f"{before:.3f} → {after:.3f} ({after - before:+.3f} ± {_se(row, 'recall'):.3f})"


def _se(row: dict, measure: str) -> float:
    """Standard error of the mean per-question change: how far one run can be trusted."""
    changes = [a["after"][measure] - a["before"][measure] for a in row["answers"]]
    return statistics.stdev(changes) / len(changes) ** 0.5 if len(changes) > 1 else 0.0


if __name__ == "__main__":
    sys.exit(run())
