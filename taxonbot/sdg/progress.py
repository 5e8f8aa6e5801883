"""Progress for people: a bar that redraws on a terminal, plain lines in CI logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from taxonbot.sdg.pipeline import LeafRun


class ProgressReporter:
    def __init__(self, total_leaves: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = total_leaves
        self.started = time.monotonic()
        self.leaf_index = 0

    def start_leaf(self, leaf: str) -> None:
        self.leaf_index += 1
        self._line(f"[{self.leaf_index}/{self.total}] {leaf}: starting", end="\n")

    def __call__(self, run: LeafRun, target: int) -> None:
        done = len(run.samples)
        kept = sum(1 for s in run.samples if s.kept)
        elapsed = time.monotonic() - self.started
        if self.tty:
            filled = int(20 * done / max(target, 1))
            bar = "#" * filled + "." * (20 - filled)
            self._line(f"\r[{bar}] {done}/{target} pairs, {kept} kept, {elapsed:.0f}s", end="")
        else:
            self._line(f"  {run.job.leaf}: {done}/{target} pairs, {kept} kept, {elapsed:.0f}s")

    def skip_leaf(self, reason: str) -> None:
        self._line(f"  skipped: {reason}")

    def finish_leaf(self, run: LeafRun) -> None:
        kept = sum(1 for s in run.samples if s.kept)
        note = "" if run.status == "complete" else f" ({run.status.replace('_', ' ')})"
        prefix = "\n" if self.tty else ""
        self._line(f"{prefix}  {run.job.leaf}: {kept}/{len(run.samples)} kept{note}")

    def _line(self, text: str, end: str = "\n") -> None:
        self.stream.write(text + end)
        self.stream.flush()
