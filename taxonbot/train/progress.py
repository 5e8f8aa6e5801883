"""Training progress for people: one redrawn line on a terminal, plain periodic lines in logs."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TextIO


@dataclass(frozen=True)
class StepReport:
    step: int  # optimizer steps done, 1-based
    total_steps: int
    loss: float
    learning_rate: float
    tokens_per_s: float  # real tokens per second, this process's run so far
    elapsed_s: float
    checkpoint: Path | None  # written after this step, if any

    @property
    def eta_s(self) -> float:
        done = max(self.step, 1)
        return self.elapsed_s / done * (self.total_steps - self.step)


class Progress(Protocol):
    def step(self, report: StepReport) -> None: ...

    def note(self, text: str) -> None: ...


def clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class ProgressDisplay:
    """Steps, loss, learning rate, tokens/s and ETA on stderr."""

    def __init__(self, stream: TextIO | None = None, every_s: float = 30.0) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every_s = every_s
        self.last = -every_s
        self.open_line = False

    def step(self, report: StepReport) -> None:
        text = (
            f"step {report.step}/{report.total_steps}  loss {report.loss:.4f}  "
            f"lr {report.learning_rate:.2e}  {report.tokens_per_s:,.0f} tokens/s  "
            f"elapsed {clock(report.elapsed_s)}  ETA {clock(report.eta_s)}"
        )
        final = report.step == report.total_steps
        if self.tty:
            self.stream.write("\r\x1b[K" + text + ("\n" if final else ""))
            self.open_line = not final
        elif final or report.elapsed_s - self.last >= self.every_s or report.step == 1:
            self.stream.write(text + "\n")
            self.last = report.elapsed_s
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False
        self.stream.write(f"taxonbot train: {text}\n")
        self.stream.flush()


class Silent:
    """For processes other than the main one, and for callers that report on their own."""

    def step(self, report: StepReport) -> None:
        pass

    def note(self, text: str) -> None:
        pass
