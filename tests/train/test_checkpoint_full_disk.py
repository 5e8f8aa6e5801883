"""A checkpoint on a full disk, through the real writers: accelerate (safetensors, torch.save),
torch.distributed.checkpoint and our own files. Each comes out as the disk's OSError, which a
phase turns into taxonbot.diskwrite.DiskError, one sentence naming the checkpoint.

The full disk is /dev/full (Linux, full(4): "writes to /dev/full fail with ENOSPC"): from the
file where the disk runs out, every checkpoint file is a symbolic link to it, so the kernel
refuses the very writes torch and safetensors make, as a full disk does. Nothing fills a disk.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from taxonbot.diskwrite import DiskError
from taxonbot.exits import Exit
from taxonbot.train.checkpoint import AGAIN, FOLDER
from taxonbot.train.config import TrainConfig
from taxonbot.train.parallel import PROBE, SCHEDULER, Sharded
from taxonbot.train.progress import Silent

pytestmark = [
    pytest.mark.model,  # trains the tiny model / saves torch state: the full tier only
    pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here"),
]

# What accelerate's save_state writes, in the order it writes it (accelerate 1.15
# checkpointing.save_accelerator_state), then the probe a failed save writes.
ACCELERATE_FILES = ("model.safetensors", "optimizer.bin", "scheduler.bin", "random_states_0.pkl")
# Sharded.save: torch.distributed.checkpoint's shard and index, then ours.
SHARDED_FILES = ("__0_0.distcp", ".metadata", SCHEDULER, "random_states_0.pkl")


def full_from(folder: Path, files: tuple[str, ...], first: str) -> Path:
    """`folder` in which `first`, every file written after it and the probe go to /dev/full."""
    folder.mkdir(parents=True)
    for name in (*files[files.index(first) :], PROBE):
        (folder / name).symlink_to("/dev/full")
    return folder


def test_a_full_disk_at_a_checkpoint_is_one_sentence_naming_it(
    tiny_model: Path, samples: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A whole phase. Its checkpoint at step 2 goes to `.tmp-step-000002`, here a link to a
    folder where the disk runs out at optimizer.bin, which torch.save writes in C++ and fails
    with RuntimeError "[enforce fail ...] unexpected pos", no OSError in it. (The phase clears
    `.tmp-*` with rmtree, which leaves a link: Python docs, rmtree refuses a symbolic link and
    ignore_errors=True ignores that.)

    model.safetensors, written before it, cannot be sent to /dev/full this way: safetensors 0.8
    writes a fresh `.tmpXXXXXX` and renames it over the name (seen with strace). Its error on a
    full disk, seen on a full tmpfs, is the fast tier's (test_checkpoint_disk.py)."""
    from taxonbot.train.loop import train_phase

    root = tmp_path / "phase" / FOLDER
    root.mkdir(parents=True)
    disk = full_from(tmp_path / "disk", ACCELERATE_FILES, "optimizer.bin")
    (root / ".tmp-step-000002").symlink_to(disk)
    config = TrainConfig(max_steps=4, max_len=160, micro_batch_size=2, checkpoint_every=2)
    with pytest.raises(DiskError) as caught:
        train_phase(tiny_model, samples, config, tmp_path / "phase", progress=Silent())
    assert str(caught.value) == (
        f"cannot write {root / 'step-000002'}: the disk is full; free space on the disk that "
        f"holds {root} and {AGAIN}"
    )
    assert caught.value.exit == Exit.CANNOT
    assert (disk / "model.safetensors").is_file(), "the disk ran out at optimizer.bin"
    assert not (root / "step-000002").exists()
    assert not os.path.lexists(disk / PROBE), "the probe was written, and removed"


@pytest.mark.parametrize(
    "first",
    [
        "__0_0.distcp",  # CheckpointException holding a RuntimeError, the OSError its context
        SCHEDULER,  # ours: serialized in memory, written by Python, the OSError itself
    ],
)
# one process without torch.distributed: dcp.save warns that it saves as a single process
@pytest.mark.filterwarnings("ignore:torch.distributed is disabled:UserWarning")
def test_a_sharded_checkpoint_on_a_full_disk_raises_the_disks_error(
    tiny_model: Path, tmp_path: Path, first: str
) -> None:
    """Sharded.save in one process (no process group: torch.distributed.checkpoint saves as a
    single process), on a model that is not sharded: the same writers, the same files."""
    model, optimizer, scheduler = trained_one_step(tiny_model)
    sharded = Sharded(SimpleNamespace(distributed_type="FSDP", is_main_process=True,
                                      process_index=0), "no")  # fmt: skip
    folder = full_from(tmp_path / "step", SHARDED_FILES, first)
    with pytest.raises(OSError) as caught:
        sharded.save(folder, model, optimizer, scheduler)
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename is None  # the checkpoint's message names the checkpoint

    healthy = tmp_path / "healthy"
    sharded.save(healthy, model, optimizer, scheduler)
    assert {p.name for p in healthy.iterdir()} == set(SHARDED_FILES)
    state = scheduler.state_dict()
    sharded.load(healthy, model, optimizer, scheduler)  # the bytes written read back
    assert scheduler.state_dict() == state


def trained_one_step(model_dir: Path) -> tuple[Any, Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, get_cosine_schedule_with_warmup

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = get_cosine_schedule_with_warmup(optimizer, 1, 10)
    ids = torch.tensor([[1, 2, 3, 4]])
    model(ids, labels=ids).loss.backward()
    optimizer.step()
    scheduler.step()
    return model, optimizer, scheduler
