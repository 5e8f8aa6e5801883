"""Which packed rows each optimizer step reads, on each process: a pure function of the step.

Epoch e visits the rows in a permutation seeded by (seed, e); the epochs follow one another
without a break, so step s reads positions [s*R, (s+1)*R) of that endless sequence, where R is
rows per micro-batch × accumulation × processes. Every step is full (the last one of a run may
reach into the next permutation), and "position in the data order" is just `s*R`: a resumed run
needs only the step to read exactly what the killed run would have.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataOrder:
    rows: int
    micro_batch: int
    accumulation: int
    processes: int
    seed: int
    _epochs: dict[int, list[int]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def rows_per_step(self) -> int:
        return self.micro_batch * self.accumulation * self.processes

    def steps_for(self, epochs: float) -> int:
        return max(1, math.ceil(epochs * self.rows / self.rows_per_step))

    def epoch(self, number: int) -> list[int]:
        if number not in self._epochs:
            order = list(range(self.rows))
            random.Random(f"{self.seed}/{number}").shuffle(order)  # noqa: S311 -- reproducible
            for old in [key for key in self._epochs if abs(key - number) > 1]:
                del self._epochs[old]  # a step spans at most two epochs; keep memory flat
            self._epochs[number] = order
        return self._epochs[number]

    def step_rows(self, step: int) -> list[int]:
        """All processes' rows of one optimizer step, in order."""
        start = step * self.rows_per_step
        positions = range(start, start + self.rows_per_step)
        return [self.epoch(p // self.rows)[p % self.rows] for p in positions]

    def micro_batches(self, step: int, process: int) -> list[list[int]]:
        """This process's rows of one step, grouped into its micro-batches."""
        share = self.micro_batch * self.accumulation
        mine = self.step_rows(step)[process * share : (process + 1) * share]
        return [mine[i : i + self.micro_batch] for i in range(0, share, self.micro_batch)]
