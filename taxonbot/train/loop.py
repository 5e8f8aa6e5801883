"""One training phase: packed chat data → AdamW, cosine schedule, accumulation → `out/final`.

accelerate runs it: a plain process on CPU or one GPU, and the same code under `torchrun` or
`accelerate launch` across GPUs, nodes or CPU processes: data parallel (DDP), or sharded (FSDP2,
`parallel.py`) when the settings say `fsdp` or the launcher says `--use_fsdp`. Each process
reads its own share of every step (see `order.py`); the loss is summed over supervised tokens
and divided by the step's total on all processes, so one step is one mean over the whole
effective batch, whatever the split. Checkpoints and the final folder are written atomically
(`checkpoint.py`); `resume=True` goes on from the newest good checkpoint and computes exactly
what the uninterrupted run would have. Multi-node runs need `out_dir` on a shared filesystem.

Distillation: with `distill_from` set, the supervised tokens of samples marked "distill" are
learned as the KL divergence from that reference model's next-token distribution to the
model's, summed per token like the cross-entropy of the others (one mean over both). Replaying
a model's own greedy answers teaches one token per position; its distribution says how it
weighed every other, which is what keeps it from drifting (Hinton et al. 2015; Li & Hoiem 2016).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import make_folder
from taxonbot.train import TrainError
from taxonbot.train.checkpoint import FOLDER as CHECKPOINTS
from taxonbot.train.checkpoint import CheckpointStore, fingerprint
from taxonbot.train.config import RESULT_FILE, TrainConfig, TrainResult
from taxonbot.train.data import encode_samples
from taxonbot.train.order import DataOrder
from taxonbot.train.packing import pack
from taxonbot.train.phaserun import PhaseRun
from taxonbot.train.progress import Progress


def load_tokenizer(model_dir: Path) -> Any:
    if not (model_dir / "config.json").is_file():
        raise TrainError(
            f"{model_dir} is not a Hugging Face model folder (no config.json); point at the "
            "base model or the previous phase's `final` folder"
        )
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as error:
        raise TrainError(f"{model_dir}: cannot load its tokenizer ({error})") from None


def peak_memory(device: Any) -> dict[str, Any]:
    """This process's peak memory: what the GPU allocator handed out, or the process's RSS."""
    import torch

    if device.type == "cuda":
        return {
            "peak_memory_mib": round(torch.cuda.max_memory_allocated(device) / 2**20, 1),
            "memory_measure": "torch.cuda.max_memory_allocated",
        }
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"peak_memory_mib": round(rss / 1024, 1), "memory_measure": "max RSS (CPU)"}


def finished(final: Path, stamp: str) -> TrainResult | None:
    """The result of this very phase if it already completed (a re-run after a later kill)."""
    try:
        result = TrainResult.read(final / RESULT_FILE)
    except (OSError, ValueError, TypeError):
        return None
    return result if result.fingerprint == stamp else None


def train_phase(
    model_dir: str | os.PathLike[str],
    data: Sequence[Mapping[str, Any]],
    config: TrainConfig,
    out_dir: str | os.PathLike[str],
    *,
    resume: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train on chat samples from `model_dir`; the model and tokenizer land in `out_dir/final`.

    resume=True goes on from the newest usable checkpoint in out_dir, or returns the recorded
    result at once when this same phase (same data, settings, base) already finished.
    resume=False starts over and deletes out_dir's checkpoints.
    """
    started = time.monotonic()
    config.check()
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    CheckpointStore(out_dir / CHECKPOINTS).check_writable()  # a file in the way: said now
    tokenizer = load_tokenizer(model_dir)
    encoded = encode_samples(data, tokenizer, config.max_len, on_long=config.on_long)
    rows = pack(encoded.samples, config.max_len)
    if not rows:
        raise TrainError(f"no sample is left to train on ({encoded.record()})")
    make_folder(out_dir)
    run = PhaseRun(model_dir, config, out_dir, progress)
    run.distills = any(row.distill for row in rows)
    stamp = fingerprint(config, rows, run.processes, model_dir, run.distributed)
    if resume and (done := finished(out_dir / "final", stamp)) is not None:
        return done
    order = DataOrder(
        len(rows), config.micro_batch_size, config.grad_accum, run.processes, config.seed
    )
    total = config.max_steps or order.steps_for(config.epochs)
    if run.main:
        run.store.clear_temp() if resume else run.store.clear_all()
    run.accelerator.wait_for_everyone()
    run.build(total)
    first = run.resume(stamp, total) if resume else 0
    rate = run.train(rows, order, first, total, stamp)
    held = run.parallel.held(run.model, run.optimizer)
    fill = sum(map(len, rows)) / (len(rows) * config.max_len)
    result = TrainResult(
        steps=total,
        losses=run.history["losses"],
        learning_rates=run.history["learning_rates"],
        tokens_seen=run.history["tokens_seen"],
        useful_tokens=run.history["useful_tokens"],
        supervised_tokens=run.history["supervised_tokens"],
        tokens_per_s=rate,
        step_seconds=run.history["step_seconds"][first:],
        resumed_from=first if first else None,
        data={
            **encoded.record(),
            "rows": len(rows),
            "row_fill": round(fill, 4),
            "processes": run.processes,
            "distributed": run.distributed,
            "precision": run.precision,
            "rows_per_step": order.rows_per_step,
            **held,
            **peak_memory(run.accelerator.device),
        },
        fingerprint=stamp,
        wall_s=time.monotonic() - started,
    )
    run.save_final(tokenizer, result)
    result.wall_s = time.monotonic() - started
    return result
