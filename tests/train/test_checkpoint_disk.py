"""Checkpoints on a bad disk, without torch: the folder checked before training starts, and the
disk's refusal of a checkpoint as one sentence naming it (taxonbot.diskwrite.DiskError); the
write itself, into `.tmp-step-N` renamed whole, is tests/train/test_loop.py's (model tier)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from taxonbot.diskwrite import DiskError
from taxonbot.exits import Exit
from taxonbot.train.checkpoint import FOLDER, CheckpointStore


def test_a_file_where_the_checkpoints_go_is_said_before_training(tmp_path: Path) -> None:
    (tmp_path / FOLDER).write_text("x", encoding="utf-8")
    store = CheckpointStore(tmp_path / FOLDER)
    with pytest.raises(DiskError) as caught:
        store.check_writable()
    root = tmp_path / FOLDER
    assert str(caught.value) == (
        f"cannot write into {root}: {root} is a file, not a folder; remove the file {root} "
        "or choose another folder"
    )
    assert caught.value.exit == Exit.CANNOT
    CheckpointStore(tmp_path / "fresh" / FOLDER).check_writable()  # absent is fine
    assert not (tmp_path / "fresh").exists(), "nothing is created by the check"


def test_a_full_disk_at_a_checkpoint_names_it_and_says_to_resume(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / FOLDER)
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    message = str(store.cannot_write(full, 40))
    assert message == (
        f"cannot write {store.root / 'step-000040'}: the disk is full; free space on the disk "
        f"that holds {store.root} and run again with resume (with a lower keep_checkpoints if "
        "space stays short)"
    )
    named = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(store.temp_dir(40) / "w.bin"))
    assert str(store.cannot_write(named, 40)).startswith(
        f"cannot write {store.temp_dir(40) / 'w.bin'}: the disk is full"
    )


def test_a_folder_where_the_state_file_goes_is_named(tmp_path: Path) -> None:
    """seal() writes trainer_state.json last; a folder of that name in the way is named."""
    store = CheckpointStore(tmp_path / FOLDER)
    temp = store.temp_dir(8)
    (temp / "trainer_state.json").mkdir(parents=True)
    (temp / "weights.bin").write_bytes(b"w")
    with pytest.raises(OSError) as caught:
        store.seal(temp, 8, {})
    message = str(store.cannot_write(caught.value, 8))
    assert message.startswith(f"cannot write {temp / 'trainer_state.json'}: a folder of that")
    assert store.complete() == [], "no step-N appears"


@pytest.mark.model  # imports the training loop (torch); fails before any model is read
def test_a_phase_with_a_file_in_the_way_stops_before_reading_the_model(tmp_path: Path) -> None:
    from taxonbot.train.config import TrainConfig
    from taxonbot.train.loop import train_phase

    out = tmp_path / "phase1"
    out.mkdir()
    (out / FOLDER).write_text("x", encoding="utf-8")
    config = TrainConfig(checkpoint_every=1)
    with pytest.raises(DiskError, match=f"{out / FOLDER} is a file, not a folder"):
        train_phase(tmp_path / "no-model-here", [], config, out)
