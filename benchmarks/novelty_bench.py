#!/usr/bin/env python3
"""Novelty for one leaf on the bundled model, against asking the same questions with nothing of
ours around the model, in one run.

    .venv/bin/python benchmarks/novelty_bench.py [--leaf DIR] [--threads 2] [--json]

Ours: load the leaf, ask every seed question through taxonbot.runtime (llama.cpp, the bundled
SmolLM2), embed answers and references with all-MiniLM-L6-v2, score cosine and ROUGE-L, class the
leaf. Baseline: bare llama_cpp.Llama.create_chat_completion on the same questions with the same
token cap. The issue's target: a 5-question leaf in at most 30 s on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_LEAF = "taxonomy/compositional_skills/writing/email/reschedule_meeting"
FALLBACK_LEAF = "taxonomy/foundational_skills/reasoning/arithmetic/unit_conversion"


def ours(leaf: str, threads: int) -> dict[str, float | str | int]:
    from taxonbot.gaps.embed import Embedder
    from taxonbot.gaps.novelty import novelty
    from taxonbot.runtime.open import open_backend
    from taxonbot.sdg.leafjob import leaf_job

    started = time.perf_counter()
    job = leaf_job(str(REPO / leaf / "qna.yaml"), None)
    backend = open_backend("llama.cpp", n_threads=threads)
    embedder = Embedder(threads=threads)
    try:
        report = novelty(job, backend, embedder)
    finally:
        backend.close()
    return {
        "seconds": time.perf_counter() - started,
        "questions": len(report.rows),
        "verdict": report.verdict,
        "known_share": report.known_share,
        "novelty_seconds": report.seconds,
    }


def baseline(leaf: str, threads: int) -> dict[str, float | int]:
    import llama_cpp

    from taxonbot.gaps.novelty import SYSTEM
    from taxonbot.runtime.gguf import default_model_path
    from taxonbot.sdg.leafjob import leaf_job

    job = leaf_job(str(REPO / leaf / "qna.yaml"), None)
    started = time.perf_counter()
    llm = llama_cpp.Llama(
        str(default_model_path()),
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    try:
        for seed in job.seeds[:10]:
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": seed.question},
            ]
            llm.create_chat_completion(messages=messages, max_tokens=128, temperature=0.0)
    finally:
        llm.close()
    return {"seconds": time.perf_counter() - started, "questions": len(job.seeds[:10])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--leaf", default=DEFAULT_LEAF if (REPO / DEFAULT_LEAF).is_dir() else FALLBACK_LEAF
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sys.path.insert(0, str(REPO))
    mine, bare = ours(args.leaf, args.threads), baseline(args.leaf, args.threads)
    result = {
        "leaf": args.leaf,
        "ours": mine,
        "bare_llama_cpp": bare,
        "ratio": float(mine["seconds"]) / float(bare["seconds"]),
    }
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"novelty of {args.leaf} on the bundled SmolLM2, {args.threads} threads")
    print(
        f"  ours (load leaf, model, embedder; ask, score, class): {mine['seconds']:.1f} s for "
        f"{mine['questions']} questions -> {mine['verdict']} ({mine['known_share']:.0%} known)"
    )
    print(
        f"  bare llama.cpp, same questions, same cap:             {bare['seconds']:.1f} s for "
        f"{bare['questions']} questions"
    )
    print(f"  ours / bare: {result['ratio']:.2f}   (target: a 5-question leaf in <= 30 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
