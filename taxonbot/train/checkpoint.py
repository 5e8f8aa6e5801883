"""Checkpoints that are either complete or absent, and the search for the newest good one.

A checkpoint is written into `.tmp-step-N/` beside the others (accelerate's `save_state`:
weights, optimizer, scheduler, RNG states of python, numpy and torch), then our
`trainer_state.json` (step, data position, history, and every file with its size) is written
last, everything is fsynced, and the folder is renamed to `step-N`: a rename within one
folder is atomic, so a kill leaves either a whole `step-N` or a `.tmp-*` that the next run
deletes. A `step-N` that lost or truncated a file (a bad copy, a full disk) is reported and
skipped in favour of the one before it. `fingerprint` says whether a checkpoint is this very
run's (same data, settings, base model, processes): only then is resuming from it exact.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import DiskError, check_folder, disk_error
from taxonbot.train.config import TrainConfig
from taxonbot.train.packing import PackedRow

STATE = "trainer_state.json"
FOLDER = "checkpoints"  # in a phase's out_dir
AGAIN = "run again with resume (with a lower keep_checkpoints if space stays short)"
FORMAT = "taxonbot-train-checkpoint/1"
NAME = re.compile(r"^step-(\d{6,})$")


class CheckpointProblem(Exception):
    """This checkpoint cannot be used; the message says why, for a person."""


def fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(folder)


def fsync_dir(folder: Path) -> None:
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def file_sizes(folder: Path) -> dict[str, int]:
    return {
        path.relative_to(folder).as_posix(): path.stat().st_size
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != STATE
    }


def remove(folder: Path) -> None:
    """Rename away first, so that a kill mid-delete never leaves a `step-N` with files missing."""
    if not folder.exists():
        return
    doomed = folder.with_name(f".tmp-delete-{folder.name}-{os.getpid()}")
    os.replace(folder, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


class CheckpointStore:
    def __init__(self, root: Path, keep: int = 2) -> None:
        self.root = root
        self.keep = keep

    def check_writable(self) -> None:
        """Before any training: a file where the folder (or a parent) goes is one sentence now,
        not a traceback at the first checkpoint, hours later."""
        check_folder(self.root)

    def cannot_write(self, error: OSError, step: int) -> DiskError:
        """The disk refused checkpoint `step`: one sentence naming the file or folder (its own
        name when the error carries one) and what to do."""
        named = error.filename if isinstance(error.filename, str) else None
        return disk_error(error, named or self.root / f"step-{step:06d}", AGAIN)

    def temp_dir(self, step: int) -> Path:
        return self.root / f".tmp-step-{step:06d}"

    def clear_temp(self) -> None:
        """Leftovers of a run killed while writing or deleting a checkpoint."""
        if self.root.is_dir():
            for path in self.root.glob(".tmp-*"):
                shutil.rmtree(path, ignore_errors=True)

    def clear_all(self) -> None:
        if self.root.is_dir():
            for path in self.complete():
                remove(path)
            self.clear_temp()

    def complete(self) -> list[Path]:
        """`step-N` folders, newest first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if p.is_dir() and NAME.match(p.name)]
        return sorted(found, key=lambda path: int(path.name[5:]), reverse=True)

    def seal(self, temp: Path, step: int, state: dict[str, Any]) -> Path:
        """Write the state file last, fsync, rename into place, drop the oldest beyond `keep`."""
        record = {"format": FORMAT, **state, "step": step, "files": file_sizes(temp)}
        (temp / STATE).write_text(json.dumps(record, indent=1), encoding="utf-8")
        fsync_tree(temp)
        final = self.root / f"step-{step:06d}"
        remove(final)
        os.replace(temp, final)
        fsync_dir(self.root)
        for old in self.complete()[self.keep :]:
            remove(old)
        return final

    def check(self, folder: Path) -> dict[str, Any]:
        """The checkpoint's state, or CheckpointProblem saying what is missing or damaged."""
        try:
            state = json.loads((folder / STATE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CheckpointProblem(f"{STATE} is missing") from None
        except (OSError, ValueError) as error:
            raise CheckpointProblem(f"{STATE} is unreadable ({error})") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise CheckpointProblem(f"{STATE} is not a {FORMAT} record")
        files = state.get("files")
        if not isinstance(files, dict) or not files:
            raise CheckpointProblem(f"{STATE} lists no files")
        for name, size in files.items():
            path = folder / name
            if not path.is_file():
                raise CheckpointProblem(f"{name} is missing")
            if path.stat().st_size != size:
                raise CheckpointProblem(f"{name} has {path.stat().st_size} bytes, not {size}")
        return state


def fingerprint(
    config: TrainConfig, rows: Sequence[PackedRow], processes: int, base: Path, layout: str = ""
) -> str:
    """Same data, settings, base, processes and layout ⇔ same value: what makes a resume exact.

    The layout (replicated or sharded) is in it because the two sum gradients in different
    orders and write different checkpoint files."""
    digest = hashlib.sha256()
    head = {"config": config.fingerprinted(), "processes": processes, "layout": layout}
    head["base_config"] = (base / "config.json").read_text(encoding="utf-8")
    head["base_weights"] = weights_stamp(base)
    if config.distill_from:
        head["reference_weights"] = weights_stamp(Path(config.distill_from))
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for row in rows:
        digest.update(array("q", row.input_ids).tobytes() + array("q", row.labels).tobytes())
        digest.update(array("q", row.position_ids).tobytes())
        if row.distill:
            digest.update(b"distill" + bytes(row.distill))
    return digest.hexdigest()


def weights_stamp(folder: Path) -> list[tuple[str, int, int]]:
    """Size and modification time stand for the weights' content without reading gigabytes:
    a retrained phase 1 rewrites its final folder, which makes phase 2's checkpoints stale."""
    return sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.glob("*.safetensors")
    )
