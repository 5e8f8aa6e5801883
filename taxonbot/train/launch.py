"""The parent side of a launched phase: `taxonbot build --launcher ...` writes the phase's data
and settings to files, runs the child (phase.py, `python -m taxonbot.train.phase`) under the
launcher, and reads its `TrainResult` back. The two sides meet only through these files and
`PHASE_MODULE`, which is the child module's own name, so neither can drift from the other.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import atomic_open
from taxonbot.jsonl import dump_line
from taxonbot.train import TrainError, phase
from taxonbot.train.config import RESULT_FILE, TrainConfig, TrainResult

PHASE_MODULE = phase.__name__
DATA_FILE = "phase-data.jsonl"
CONFIG_FILE = "phase-config.json"


def launch_phase(
    launcher: str,
    start: Path,
    samples: Sequence[Mapping[str, Any]],
    config: TrainConfig,
    out: Path,
) -> TrainResult:
    """The phase in the launcher's processes, resumed from its last checkpoint; its result."""
    out.mkdir(parents=True, exist_ok=True)
    data, settings = out / DATA_FILE, out / CONFIG_FILE
    with atomic_open(data) as handle:
        handle.writelines(dump_line(sample) for sample in samples)
    body = json.dumps(dataclasses.asdict(config), indent=1, sort_keys=False)
    settings.write_text(body + "\n", encoding="utf-8")
    command = shlex.split(launcher)
    if command and command[0] in ("python", "python3"):
        command[0] = sys.executable
    command += ["-m", PHASE_MODULE, "--model", str(start), "--data", str(data)]
    command += ["--config", str(settings), "--out", str(out), "--resume"]
    try:
        done = subprocess.run(command, check=False)
    except OSError as exc:
        raise TrainError(f"cannot start the launcher {command[0]!r}: {exc}") from exc
    result_file = out / "final" / RESULT_FILE
    if done.returncode != 0 or not result_file.is_file():
        raise TrainError(
            f"training through {launcher!r} failed (exit {done.returncode}); its output is "
            "above; run the build again to resume from the last checkpoint"
        )
    result = TrainResult.read(result_file)
    result.final_dir = str(out / "final")
    return result
