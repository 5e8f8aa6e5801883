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
from taxonbot.train.parallel import PROBE, disk_refusal


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


# ---- disk_refusal: what torch and safetensors make of a full disk, back to the OSError ---------
# The real writers on a full disk: tests/train/test_checkpoint_full_disk.py (model tier). Here
# each failure is built the way the library builds it (seen on a full tmpfs, torch 2.13,
# safetensors 0.8), so the fast tier holds the rules without torch.


class SafetensorError(Exception):
    """safetensors' exception (a PyO3 class of that name) carries Rust's io::Error as text."""


def full() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def raised_by_torch_writing_to_a_python_file() -> RuntimeError:
    """torch.save to a file object: the write's OSError, then RuntimeError from the zip
    writer's end (`unexpected pos`), raised while the OSError was handled: its __context__."""
    error = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704 vs 598")
    error.__context__ = full()
    return error


def refused(folder: Path, error: BaseException) -> BaseException:
    with pytest.raises(BaseException) as caught, disk_refusal(folder):
        raise error
    return caught.value


@pytest.mark.parametrize(
    "error",
    [
        raised_by_torch_writing_to_a_python_file(),
        SafetensorError(
            "Error while serializing: I/O error: No space left on device (os error 28)"
        ),
        SafetensorError(f"I/O error: Disk quota exceeded (os error {errno.EDQUOT})"),
    ],
    ids=["torch-file-object", "safetensors-full", "safetensors-quota"],
)
def test_a_library_error_from_a_full_disk_becomes_the_disks_oserror(
    tmp_path: Path, error: Exception
) -> None:
    out = refused(tmp_path, error)
    assert type(out) is OSError and out.errno in (errno.ENOSPC, errno.EDQUOT)
    assert out.filename is None and out.__cause__ is error
    assert "disk is full" in str(CheckpointStore(tmp_path).cannot_write(out, 2))


def test_an_oserror_is_let_through_as_it_is(tmp_path: Path) -> None:
    named = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "scheduler.pt")
    assert refused(tmp_path, named) is named


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 704"),
        SafetensorError("Error while serializing: I/O error: Permission denied (os error 13)"),
        ValueError("(os error 28) in a message of another library"),
    ],
    ids=["torch-but-room-left", "safetensors-not-full", "not-safetensors"],
)
def test_a_failure_on_a_disk_with_room_is_raised_as_it_was(
    tmp_path: Path, error: Exception
) -> None:
    """The probe (one block written into the folder) succeeds, so the disk is not full: the
    library's error stands, and the probe leaves no file behind."""
    assert refused(tmp_path, error) is error
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_the_probe_asks_the_disk_where_torch_kept_no_oserror(tmp_path: Path) -> None:
    """torch.save to a path writes in C++ and keeps no OSError: the probe's own write meets the
    full disk (/dev/full, full(4): writes fail with ENOSPC)."""
    (tmp_path / PROBE).symlink_to("/dev/full")
    error = RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")
    out = refused(tmp_path, error)
    assert type(out) is OSError and out.errno == errno.ENOSPC and out.__cause__ is error
    assert not (tmp_path / PROBE).exists(), "the probe is removed"
