"""Raw llama.cpp decode speed vs our LlamaCppBackend, measured in the same run, plus how many
prompt tokens the KV cache saves on an SDG-shaped batch (shared system prompt + seed examples).

    .venv/bin/python benchmarks/runtime_raw.py [--model PATH] [--threads 2] [--runs 5]

`raw_decode_tokens_per_s` is the baseline other benchmarks (sdg_bench) import.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Callable

import llama_cpp

from taxonbot.runtime.base import ChatRequest
from taxonbot.runtime.gguf import default_model_path
from taxonbot.runtime.llamacpp import LlamaCppBackend

SYSTEM = "You are a storyteller. Write long, detailed stories."
USER = "Tell a long story about a gardener who grows a giant pumpkin."
# The same conversation as the backend's request, in SmolLM2's ChatML, so both runs decode alike.
RAW_PROMPT = (
    f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{USER}<|im_end|>\n"
    "<|im_start|>assistant\n"
)
MAX_TOKENS = 128
Run = Callable[[], int]  # generates once, returns the completion tokens it produced


def raw_decode_tokens_per_s(model_path: str, n_threads: int = 2, runs: int = 3) -> float:
    """Median completion tokens/s of llama_cpp.Llama.create_completion, max_tokens=128, greedy."""
    llm = _raw_llama(model_path, n_threads)
    try:
        return _rate(_raw_run(llm), runs)
    finally:
        llm.close()


def _raw_llama(model_path: str, n_threads: int) -> llama_cpp.Llama:
    return llama_cpp.Llama(
        model_path, n_ctx=2048, n_threads=n_threads, n_threads_batch=n_threads, verbose=False
    )


def _raw_run(llm: llama_cpp.Llama) -> Run:
    def run() -> int:
        out = llm.create_completion(RAW_PROMPT, max_tokens=MAX_TOKENS, temperature=0.0)
        return int(out["usage"]["completion_tokens"])  # type: ignore[index]

    return run


def _backend_run(backend: LlamaCppBackend) -> Run:
    request = ChatRequest((("system", SYSTEM), ("user", USER)), MAX_TOKENS, temperature=0.0)
    return lambda: backend.complete([request])[0].completion_tokens


def _rate(run: Run, runs: int) -> float:
    return _rates([run], runs)[0]


def _rates(contenders: list[Run], runs: int) -> list[float]:
    """Median tokens/s of each contender, taking turns run by run so that load from elsewhere on
    the machine hits all of them alike."""
    for run in contenders:
        run()  # warm-up: the first decode pays one-off allocation and page-in costs
    rates: list[list[float]] = [[] for _ in contenders]
    for _ in range(runs):
        for run, mine in zip(contenders, rates, strict=True):
            start = time.perf_counter()
            tokens = run()
            mine.append(tokens / (time.perf_counter() - start))
    return [statistics.median(mine) for mine in rates]


def _sdg_batch() -> list[ChatRequest]:
    """10 requests as SDG sends them: one system prompt and seed examples, different leaves."""
    seeds = "\n".join(
        f"Example {i}: Q: What does a plant need in step {i} of growth? A: Water, light, soil."
        for i in range(5)
    )
    system = "You write question-answer pairs for a botany course, in the style of:\n" + seeds
    leaves = ["roots", "stems", "leaves", "flowers", "seeds", "bark", "moss", "ferns", "fungi"]
    return [
        ChatRequest((("system", system), ("user", f"Write one pair about {leaf}.")), 8, seed=i)
        for i, leaf in enumerate([*leaves, "cacti"])
    ]


def _report_prefix_reuse(backend: LlamaCppBackend) -> None:
    backend.complete([ChatRequest((("user", "an unrelated prompt, to empty the cache"),), 1)])
    start = time.perf_counter()
    done = backend.complete(_sdg_batch())
    seconds = time.perf_counter() - start
    submitted = sum(c.prompt_tokens for c in done)
    evaluated = sum(c.prompt_tokens_evaluated for c in done)
    print(f"SDG-shaped batch: {len(done)} requests sharing a prefix, {seconds:.2f} s")
    print(f"  prompt tokens submitted {submitted}, evaluated {evaluated}")
    print(f"  evaluated / submitted   {evaluated / submitted:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="raw llama.cpp vs LlamaCppBackend")
    parser.add_argument("--model", default=None, help="a .gguf file (default: bundled SmolLM2)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    path = args.model or default_model_path()
    llm = _raw_llama(path, args.threads)
    backend = LlamaCppBackend(path, n_ctx=2048, n_threads=args.threads)
    raw, ours = _rates([_raw_run(llm), _backend_run(backend)], args.runs)
    llm.close()
    print(f"decode, {args.threads} threads, max_tokens={MAX_TOKENS}, median of {args.runs} turns")
    print(f"  raw llama.cpp     {raw:7.1f} tokens/s")
    print(f"  LlamaCppBackend   {ours:7.1f} tokens/s")
    print(f"  ratio backend/raw {ours / raw:7.3f}")
    _report_prefix_reuse(backend)
    backend.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB (two copies of the model loaded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
