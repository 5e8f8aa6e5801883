"""Batched decoding (LlamaCppBackend.complete) against single-stream raw llama.cpp, same model,
same threads, same requests, in one run.

    .venv/bin/python benchmarks/batched_bench.py [--model PATH] [--threads 2] [--runs 2]
        [--requests 8] [--sequences 4 8] [--max-tokens 128]

The requests are SDG-shaped: one system prompt with five seed examples, then a tail of its own
for each request; temperature 0.7, a fixed seed per request, no stop strings, so that answer
lengths stay comparable. The contenders:

- raw: llama_cpp.Llama.create_completion, one request after the other (llama-cpp-python keeps
  the prompt prefix it has in its KV cache between calls, so raw does not re-evaluate the shared
  system prompt either);
- ours/S: LlamaCppBackend(n_seq_max=S).complete(all requests), S sequences per step at most
  (continuous batching: a request takes a slot as soon as one frees); "width" is the mean
  number of sequences per decode step;
- decode alone/S: llama_decode steps of S sequences after the shared prompt, no sampling, no
  Python between steps but filling the batch: what llama.cpp's kernels allow on this CPU. Its
  ratio to decode alone/1 is the ceiling for any batching here, printed beside ours.

Each contender runs in a child process of its own (peak RSS is its own; the model loads before
the clock starts), and the contenders take turns run by run so that load from elsewhere on the
machine hits all alike. Throughput is completion tokens / wall seconds of the whole request
list, prompt evaluation included; tokens per CPU second (user + sys of the child) is printed
beside it, as a check less sensitive to other load on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SEEDS = [
    ("What does a plant need to make its food?", "Light, water and carbon dioxide."),
    ("Why are most leaves green?", "They hold chlorophyll, which reflects green light."),
    ("What do roots do besides holding a plant in place?", "They take up water and minerals."),
    ("How do seeds of a dandelion travel?", "On the wind, carried by a feathery parachute."),
    ("What is the job of a flower?", "To make seeds, after pollen reaches its ovule."),
]
SYSTEM = (
    "You write question and answer pairs for a botany course for beginners. Each question is "
    "one sentence a student might ask; each answer is short, correct and plain. Follow the "
    "style of these examples:\n\n" + "\n\n".join(f"Question: {q}\nAnswer: {a}" for q, a in SEEDS)
)
TOPICS = "bark,moss,cacti,ferns,tulips,oak trees,pine cones,water lilies,sunflowers,bamboo".split(
    ","
)


def requests(n: int, max_tokens: int) -> list[Any]:
    from taxonbot.runtime.base import ChatRequest

    return [
        ChatRequest(
            (
                ("system", SYSTEM),
                ("user", f"Write three new pairs about {TOPICS[i % len(TOPICS)]}."),
            ),
            max_tokens=max_tokens,
            temperature=0.7,
            seed=1000 + i,
        )
        for i in range(n)
    ]


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One contender, one run, in this process: what it made and how long it took."""
    import llama_cpp

    from taxonbot.runtime.gguf import default_model_path
    from taxonbot.runtime.llamacpp import LlamaCppBackend

    path = args.model or default_model_path()
    asks = requests(args.requests, args.max_tokens)
    n_ctx = args.n_ctx
    if args.child.startswith("alone"):
        return decode_alone(path, args, int(args.child[5:]))
    if args.child == "raw":
        tokenizer = LlamaCppBackend(path, n_ctx=n_ctx, n_threads=args.threads)
        prompts: list[Any] = [tokenizer._tokenize(r) for r in asks]  # the tokens ours decodes
        tokenizer.close()
        llm = llama_cpp.Llama(
            path, n_ctx=n_ctx, n_threads=args.threads, n_threads_batch=args.threads, verbose=False
        )
        llama_cpp.llama_perf_context_reset(llm.ctx)
        start, cpu, tokens = time.perf_counter(), _cpu(), 0
        for r, prompt in zip(asks, prompts, strict=True):
            out: Any = llm.create_completion(
                prompt, max_tokens=r.max_tokens, temperature=r.temperature, seed=r.seed
            )
            tokens += int(out["usage"]["completion_tokens"])
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        # single stream: llama.cpp's counter is exactly the prompt tokens it evaluated
        evaluated = int(llama_cpp.llama_perf_context(llm.ctx).n_p_eval)
        submitted = sum(len(p) for p in prompts)
        llm.close()
        width = 1.0
    else:
        backend = LlamaCppBackend(
            path, n_ctx=n_ctx, n_threads=args.threads, n_seq_max=int(args.child)
        )
        start, cpu = time.perf_counter(), _cpu()
        done = backend.complete(asks)
        seconds, cpu = time.perf_counter() - start, _cpu() - cpu
        failed = [c.error for c in done if c.finish_reason == "error"]
        if failed:
            raise SystemExit(f"ours failed: {failed[0]}")
        tokens = sum(c.completion_tokens for c in done)
        submitted = sum(c.prompt_tokens for c in done)
        evaluated = sum(c.prompt_tokens_evaluated for c in done)
        assert backend._engine is not None
        clocks = backend._engine.clocks
        width = clocks.stepped / max(1, clocks.steps)
        backend.close()
    return {
        "tokens": tokens,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "submitted": submitted,
        "evaluated": evaluated,
        "width": width,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def decode_alone(path: str, args: argparse.Namespace, sequences: int) -> dict[str, Any]:
    """llama_decode alone: the shared prompt once, copied to each sequence, then max_tokens
    steps of one fixed token per sequence (the same context, threads and batch size as ours)."""
    import llama_cpp

    from taxonbot.runtime.batched import HOLDER, BatchedContext
    from taxonbot.runtime.batchplan import Row
    from taxonbot.runtime.llamacpp import LlamaCppBackend

    backend = LlamaCppBackend(path, n_ctx=args.n_ctx, n_threads=args.threads)
    prompt: Any = backend._tokenize(requests(1, 1)[0])  # the prompt ours decodes first
    engine = BatchedContext(backend._llm.model, args.n_ctx, args.threads, max(sequences, 1))
    last = len(prompt) - 1
    engine._decode([Row(t, p, [HOLDER], p == last) for p, t in enumerate(prompt)], 0)
    for seq in range(1, sequences + 1):
        llama_cpp.llama_memory_seq_cp(engine._mem, HOLDER, seq, -1, -1)
    start, cpu = time.perf_counter(), _cpu()
    for step in range(args.max_tokens):
        rows = [Row(prompt[-1], len(prompt) + step, [seq], True) for seq in range(1, sequences + 1)]
        engine._decode(rows, len(rows))
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    engine.close()
    backend.close()
    n = sequences * args.max_tokens
    return {
        "tokens": n,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "submitted": 1,
        "evaluated": 1,
        "width": float(sequences),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(args: argparse.Namespace, contender: str) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", contender]
    argv += ["--threads", str(args.threads), "--requests", str(args.requests)]
    argv += ["--max-tokens", str(args.max_tokens), "--n-ctx", str(args.n_ctx)]
    if args.model:
        argv += ["--model", args.model]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=HERE.parent)
    if done.returncode != 0:
        raise SystemExit(f"{contender} failed:\n{done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="batched LlamaCppBackend vs raw llama.cpp")
    parser.add_argument("--model", default=None, help="a .gguf file (default: bundled SmolLM2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--requests", type=int, default=8)
    parser.add_argument("--sequences", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0
    contenders = ["raw", *(str(s) for s in args.sequences), "alone1"]
    contenders += [f"alone{s}" for s in args.sequences]
    results: dict[str, list[dict[str, Any]]] = {c: [] for c in contenders}
    for _ in range(args.runs):
        for contender in contenders:
            results[contender].append(run_child(args, contender))
    print(report(args, results))
    return 0


def report(args: argparse.Namespace, results: dict[str, list[dict[str, Any]]]) -> str:
    """Per run, each contender against raw in the same turn (load elsewhere on a shared machine
    moves all of one turn alike, and runs apart); the summary is the median of those ratios."""
    model = Path(args.model).name if args.model else "bundled SmolLM2-135M"
    lines = [
        f"{model}, {args.threads} threads, {args.requests} requests x max_tokens "
        f"{args.max_tokens}, temperature 0.7, {args.runs} turns (each run a fresh process)",
        f"{'contender':<18}{'tokens/s per turn':>22}{'x raw per turn':>18}{'x raw':>7}"
        f"{'x raw/CPU-s':>12}{'eval/subm':>11}{'width':>7}{'peak RSS':>10}",
    ]
    raw = results["raw"]
    for contender, runs in results.items():
        rates = [r["tokens"] / r["seconds"] for r in runs]
        ratios = [x / (b["tokens"] / b["seconds"]) for x, b in zip(rates, raw, strict=True)]
        per_cpu = [
            (r["tokens"] / r["cpu_seconds"]) / (b["tokens"] / b["cpu_seconds"])
            for r, b in zip(runs, raw, strict=True)
        ]
        share = sum(r["evaluated"] for r in runs) / sum(r["submitted"] for r in runs)
        name = "raw single-stream" if contender == "raw" else f"ours, {contender} seqs"
        if contender.startswith("alone"):
            name = f"decode alone, {contender[5:]}"
        peak = max(r["peak_rss_mb"] for r in runs)
        width = statistics.mean(r["width"] for r in runs)
        lines.append(
            f"{name:<18}{' '.join(f'{x:.1f}' for x in rates):>22}"
            f"{' '.join(f'{x:.2f}' for x in ratios):>18}{statistics.median(ratios):>7.2f}"
            f"{statistics.median(per_cpu):>12.2f}{share:>11.3f}{width:>7.1f}{peak:>7.0f} MB"
        )
    tokens = {c: [r["tokens"] for r in runs] for c, runs in results.items() if c[0] != "a"}
    lines.append(f"completion tokens per run: {tokens}")
    alone = [r["tokens"] / r["seconds"] for r in results["alone1"]]
    for s in args.sequences:
        ceiling = [
            (r["tokens"] / r["seconds"]) / a
            for r, a in zip(results[f"alone{s}"], alone, strict=True)
        ]
        ours = [
            (r["tokens"] / r["seconds"]) / (b["tokens"] / b["seconds"])
            for r, b in zip(results[str(s)], raw, strict=True)
        ]
        lines.append(
            f"{s} sequences: llama_decode alone gains {statistics.median(ceiling):.2f}x over one "
            f"sequence (the ceiling on this CPU); ours gains {statistics.median(ours):.2f}x over "
            f"raw, {statistics.median(ours) / statistics.median(ceiling):.0%} of the ceiling"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
