"""`python -m taxonbot.train.phase`: one training phase as its own program, for launchers.

The child of `launch.py`: `taxonbot build --launcher "torchrun --nproc_per_node 8" --fsdp` (or
`--launcher "accelerate launch --num_processes 8 --use_fsdp"`, or a multi-node line of either)
runs each phase through this module in as many processes as the launcher starts; the same
`train_phase` then splits every step's batches across them, and with FSDP shards the model too
(`parallel.py`). The phase's data and settings come from files the parent wrote; the result is
`OUT/final/train_result.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from taxonbot.errors import CannotRun
from taxonbot.exits import Exit
from taxonbot.train.config import TrainConfig

# This module's dotted name, also when it runs as `python -m` (where __name__ is "__main__").
NAME = __spec__.name if __spec__ is not None else __name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {NAME}", description=__doc__)
    parser.add_argument("--model", required=True, help="the HF folder to start from")
    parser.add_argument("--data", required=True, help="chat samples, one JSON object a line")
    parser.add_argument("--config", required=True, help="TrainConfig fields as a JSON object")
    parser.add_argument("--out", required=True, help="checkpoints and final/ go here")
    parser.add_argument("--resume", action="store_true", help="continue from a checkpoint")
    args = parser.parse_args(argv)
    from taxonbot.train.data import read_samples
    from taxonbot.train.loop import train_phase

    try:
        settings = json.loads(Path(args.config).read_text(encoding="utf-8"))
        config = TrainConfig.from_mapping(settings, args.config)
        train_phase(args.model, read_samples(args.data), config, args.out, resume=args.resume)
    except (CannotRun, OSError, ValueError) as exc:  # TrainError, DiskError: one line each
        print(f"{NAME}: {exc}", file=sys.stderr)
        return Exit.CANNOT
    finally:
        leave_process_group()
    return Exit.OK


def leave_process_group() -> None:
    """Close the launcher's process group before the interpreter exits: left to exit, gloo's
    threads were torn down under it now and then (std::terminate, exit -6, after a good run)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def leave(code: int) -> NoReturn:
    """End a launched process once its work is written and its process group closed, without the
    interpreter's teardown: there a joinable C++ thread (gloo's, the store client's) was now and
    then destroyed under it ("terminate called without an active exception", exit -6, seen on a
    second node after a good run), which fails the phase and leaves the other node waiting."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    leave(main())
