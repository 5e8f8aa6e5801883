#!/usr/bin/env python3
"""`taxonbot preview` on the bundled SmolLM2 against raw llama.cpp decoding, in one run.

    .venv/bin/python benchmarks/sdg_bench.py [--pairs 10] [--threads 2] [--leaf DIR] [--json]

1. A real preview of one skill leaf (10 pairs by default) in a child process that runs what the
   `taxonbot` script runs (taxonbot.cli.main.main), with the backend kept aside so its own counters
   can be
   read: wall seconds (the whole process, and the pipeline alone), peak RSS of the process,
   tokens, llama.cpp's decode and prompt-evaluation clocks.
2. Two baselines, measured after it on the same machine with the same thread count:
   - raw llama_cpp.Llama.create_completion decode speed on a short chat prompt
     (`raw_decode_tokens_per_s` of runtime_raw.py), the figure people quote (~100 tokens/s);
   - raw llama.cpp replaying the very requests the preview made (same prompt tokens, order,
     max_tokens, temperature, seed), with nothing of ours around it. Same work, so the ratio
     of the preview's end-to-end tokens/s to this one is what the pipeline itself costs.

Useful decode throughput is completion tokens / llama.cpp's decode seconds; its ratio to raw says
how much of the model's speed the pipeline keeps while generating. Prompt tokens evaluated /
submitted says how much the KV-cache prefix reuse saves. With --json the numbers go to stdout as
JSON and the table to stderr.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
DEFAULT_LEAF = "taxonomy/compositional_skills/writing/freeform/poetry/haiku_about_weather"


def child(out: Path, argv: list[str]) -> int:
    """Runs in the child: the preview, then the backend's counters to out/bench.json."""
    import taxonbot.cli.preview
    from taxonbot.cli.main import main
    from taxonbot.runtime.open import ModelSpec, open_model

    opened: list[Any] = []
    load = {"seconds": 0.0}

    recorded: list[dict[str, Any]] = []

    def keep(spec: ModelSpec) -> Any:
        start = time.perf_counter()
        opened.append(open_model(spec))
        load["seconds"] = time.perf_counter() - start
        record_requests(opened[-1], recorded)
        return opened[-1]

    taxonbot.cli.preview.open_model = keep
    start = time.perf_counter()
    code = main(["preview", *argv, "--out", str(out)])
    seconds = time.perf_counter() - start
    stats = opened[0].stats
    record = {
        "exit_code": code,
        "in_process_seconds": seconds,
        "model_load_seconds": load["seconds"],
        "pipeline_seconds": seconds - load["seconds"],
        "requests": stats.requests,
        "failures": stats.failures,
        "prompt_tokens": stats.prompt_tokens,
        "prompt_tokens_evaluated": stats.prompt_tokens_evaluated,
        "completion_tokens": stats.completion_tokens,
        "decode_seconds": stats.decode_seconds,
        "prompt_eval_seconds": stats.extra.get("prompt_eval_seconds", 0.0),
        "request_seconds": stats.seconds,
    }
    (out / "bench.json").write_text(json.dumps(record), encoding="utf-8")
    (out / "requests.json").write_text(json.dumps(recorded), encoding="utf-8")
    return code


def record_requests(backend: Any, recorded: list[dict[str, Any]]) -> None:
    """Keep each request as llama.cpp saw it, in the order the backend ran them."""
    run = backend._run

    def recording(request: Any, prompt: Any) -> Any:
        if isinstance(prompt, list):
            recorded.append(
                {
                    "prompt": prompt,
                    "max_tokens": request.max_tokens,
                    "temperature": request.temperature,
                    "seed": request.seed,
                    "stop": list(request.stop) or None,
                }
            )
        return run(request, prompt)

    backend._run = recording


def raw_replay(requests: list[dict[str, Any]], threads: int) -> dict[str, float]:
    """The preview's requests through bare llama_cpp.Llama, nothing of ours in the loop."""
    import llama_cpp

    from taxonbot.runtime.gguf import default_model_path

    llm = llama_cpp.Llama(
        str(default_model_path()),
        n_ctx=4096,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    try:
        start, tokens = time.perf_counter(), 0
        for r in requests:
            out: Any = llm.create_completion(
                r["prompt"],
                max_tokens=r["max_tokens"],
                temperature=r["temperature"],
                seed=r["seed"],
                stop=r["stop"],
            )
            tokens += int(out["usage"]["completion_tokens"])
        return {"tokens": tokens, "seconds": time.perf_counter() - start}
    finally:
        llm.close()


def run_preview(leaf: str, pairs: int, threads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sdg-bench-") as tmp:
        out = Path(tmp)
        argv = [leaf, "--pairs", str(pairs), "--threads", str(threads)]
        command = [sys.executable, str(HERE), "--child", str(out), *argv]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"the preview failed ({done.returncode}):\n{done.stderr[-2000:]}")
        record: dict[str, Any] = json.loads((out / "bench.json").read_text(encoding="utf-8"))
        preview = json.loads((out / "preview.json").read_text(encoding="utf-8"))
        record["requests_made"] = json.loads((out / "requests.json").read_text("utf-8"))
    # ru_maxrss of the children reaped so far: only this one, and no model was loaded here yet.
    record["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    record["process_seconds"] = wall
    record["candidates"] = sum(leaf["counts"]["candidates"] for leaf in preview["leaves"])
    record["kept"] = sum(leaf["counts"]["kept"] for leaf in preview["leaves"])
    return record


def raw_baseline(threads: int, runs: int) -> float:
    # Imported only now: loading llama.cpp here before the child ran would not change the child's
    # numbers, but keeping the parent small keeps its RSS out of any fork accounting.
    sys.path.insert(0, str(HERE.parent))
    from runtime_raw import raw_decode_tokens_per_s

    from taxonbot.runtime.gguf import default_model_path

    return raw_decode_tokens_per_s(default_model_path(), threads, runs)


def summary(record: dict[str, Any], raw: float, replay: dict[str, float]) -> dict[str, Any]:
    useful = record["completion_tokens"] / max(record["decode_seconds"], 1e-9)
    end_to_end = record["completion_tokens"] / record["pipeline_seconds"]
    replay_rate = replay["tokens"] / max(replay["seconds"], 1e-9)
    return {
        **record,
        "replay_completion_tokens": replay["tokens"],
        "replay_seconds": replay["seconds"],
        "replay_tokens_per_s": replay_rate,
        "end_to_end_over_replay": end_to_end / replay_rate,
        "raw_decode_tokens_per_s": raw,
        "useful_decode_tokens_per_s": useful,
        "end_to_end_completion_tokens_per_s": end_to_end,
        "useful_over_raw": useful / raw,
        "end_to_end_over_raw": end_to_end / raw,
        "evaluated_over_submitted": record["prompt_tokens_evaluated"]
        / max(record["prompt_tokens"], 1),
    }


def report(result: dict[str, Any], leaf: str, pairs: int, threads: int) -> str:
    rows = [
        ("raw llama.cpp decode (baseline)", f"{result['raw_decode_tokens_per_s']:.1f} tokens/s"),
        ("preview wall, whole process", f"{result['process_seconds']:.2f} s"),
        ("  of which taxonbot.cli.main.main", f"{result['in_process_seconds']:.2f} s"),
        ("  of which loading the model", f"{result['model_load_seconds']:.2f} s"),
        ("  of which check, SDG and report", f"{result['pipeline_seconds']:.2f} s"),
        ("peak RSS of the preview process", f"{result['peak_rss_mb']:.0f} MiB"),
        ("requests (failed)", f"{result['requests']} ({result['failures']})"),
        ("candidates / kept", f"{result['candidates']} / {result['kept']}"),
        ("completion tokens", str(result["completion_tokens"])),
        ("llama.cpp decode seconds", f"{result['decode_seconds']:.2f} s"),
        ("llama.cpp prompt-eval seconds", f"{result['prompt_eval_seconds']:.2f} s"),
        ("useful decode throughput", f"{result['useful_decode_tokens_per_s']:.1f} tokens/s"),
        ("completion tokens / pipeline s", f"{result['end_to_end_completion_tokens_per_s']:.1f}"),
        ("prompt tokens submitted", str(result["prompt_tokens"])),
        ("prompt tokens evaluated", str(result["prompt_tokens_evaluated"])),
        (
            "raw replay of the same requests",
            f"{result['replay_completion_tokens']} tokens in "
            f"{result['replay_seconds']:.2f} s = {result['replay_tokens_per_s']:.1f} tokens/s",
        ),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"taxonbot preview, {pairs} pairs of {leaf}, {threads} threads", ""]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    lines += [
        "",
        f"  useful decode / raw decode        {result['useful_over_raw']:.3f}",
        f"  end-to-end tokens/s / raw decode  {result['end_to_end_over_raw']:.3f}",
        f"  end-to-end tokens/s / raw replay  {result['end_to_end_over_replay']:.3f}"
        "  (same requests, bare llama.cpp: the pipeline's own cost)",
        f"  prompt evaluated / submitted      {result['evaluated_over_submitted']:.3f}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--child"]:
        return child(Path(args_list[1]), args_list[2:])
    parser = argparse.ArgumentParser(description="taxonbot preview vs raw llama.cpp decode")
    parser.add_argument("--leaf", default=DEFAULT_LEAF, help="a skill leaf folder or qna.yaml")
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="raw decode runs (median)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, table on stderr")
    args = parser.parse_args(args_list)
    record = run_preview(args.leaf, args.pairs, args.threads)
    requests = record.pop("requests_made")
    replay = raw_replay(requests, args.threads)
    result = summary(record, raw_baseline(args.threads, args.runs), replay)
    table = report(result, args.leaf, args.pairs, args.threads)
    if args.json:
        print(table, file=sys.stderr)
        print(json.dumps(result, indent=1))
    else:
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
