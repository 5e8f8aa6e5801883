"""Runs one training phase in its own process; the resume test kills it with SIGKILL.

usage: python driver.py MODEL_DIR OUT_DIR KILL_AT_STEP SAMPLES_JSON CONFIG_JSON
The process kills itself right after step KILL_AT_STEP (and any checkpoint of that step) is done,
as `kill -9` or a lost node would: no handler, no cleanup.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from taxonbot.train.config import TrainConfig
from taxonbot.train.loop import train_phase
from taxonbot.train.progress import StepReport


class KillAt:
    def __init__(self, step: int) -> None:
        self.at = step

    def step(self, report: StepReport) -> None:
        if report.step == self.at:
            os.kill(os.getpid(), signal.SIGKILL)

    def note(self, text: str) -> None:
        print(text, file=sys.stderr)


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as the test process does (tests/train/conftest.py)
    model, out, kill_at, samples, config = sys.argv[1:]
    data = json.loads(Path(samples).read_text(encoding="utf-8"))
    settings = TrainConfig(**json.loads(config))
    train_phase(model, data, settings, out, progress=KillAt(int(kill_at)))


if __name__ == "__main__":
    main()
