"""Packing: several samples share one row, with no padding and no attention across them.

Each row concatenates whole samples; `position_ids` restart at 0 where a sample starts. With
`attention_mask=None`, transformers (5.x, `masking_utils.find_packed_sequence_indices`) reads
those restarts as sample boundaries and builds a block-diagonal causal mask for sdpa and eager
attention (flash-attention uses the same position_ids as varlen boundaries), so a packed row
computes exactly what the samples would alone. Each sample's first label is -100, so no
sample learns to predict the next one's first token. A row that holds a distilled sample
(data.py) marks its supervised tokens in `distill`; rows without one leave it empty.

`pad_batches` is the usual alternative (one sample per row, padded to the longest in the batch),
kept as the baseline the benchmark compares with.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from taxonbot.train.data import IGNORE, TokenizedSample, supervised


@dataclass(frozen=True)
class PackedRow:
    input_ids: tuple[int, ...]
    labels: tuple[int, ...]
    position_ids: tuple[int, ...]
    samples: int
    distill: tuple[int, ...] = ()  # 1 where a token is learned by distillation; () if none

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def supervised(self) -> int:
        return supervised(self.labels)


@dataclass(frozen=True)
class PaddedBatch:
    input_ids: list[list[int]]
    labels: list[list[int]]
    attention_mask: list[list[int]]

    @property
    def real_tokens(self) -> int:
        return sum(map(sum, self.attention_mask))

    @property
    def shape_tokens(self) -> int:
        return len(self.input_ids) * len(self.input_ids[0])


def bins(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Best-fit decreasing: sample indexes per bin, each bin holding at most `capacity` tokens."""
    order = sorted(range(len(lengths)), key=lambda index: (-lengths[index], index))
    groups: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (room left, bin), sorted: the tightest fit is a bisect
    for index in order:
        size = lengths[index]
        if size > capacity:
            raise ValueError(f"sample {index} has {size} tokens, more than the row's {capacity}")
        slot = bisect.bisect_left(free, (size, -1))
        if slot == len(free):
            groups.append([index])
            room, group = capacity - size, len(groups) - 1
        else:
            room, group = free.pop(slot)
            groups[group].append(index)
            room -= size
        if room > 0:
            bisect.insort(free, (room, group))
    return [sorted(group) for group in groups]


def pack(samples: Sequence[TokenizedSample], max_len: int) -> list[PackedRow]:
    """Rows of up to max_len tokens, each a run of whole samples; deterministic."""
    rows = []
    for group in bins([len(sample) for sample in samples], max_len):
        ids: list[int] = []
        labels: list[int] = []
        positions: list[int] = []
        soft: list[int] = []
        for index in group:
            sample = samples[index]
            ids += sample.input_ids
            labels += sample.labels
            positions += range(len(sample))
            soft += [int(sample.distill and label != IGNORE) for label in sample.labels]
        marked = tuple(soft) if any(soft) else ()
        rows.append(PackedRow(tuple(ids), tuple(labels), tuple(positions), len(group), marked))
    return rows


def pad_batches(
    samples: Sequence[TokenizedSample], batch_size: int, pad_id: int
) -> list[PaddedBatch]:
    """One sample per row, `batch_size` rows per batch, right-padded to the batch's longest."""
    batches = []
    for first in range(0, len(samples), batch_size):
        chunk = samples[first : first + batch_size]
        width = max(len(sample) for sample in chunk)
        batches.append(
            PaddedBatch(
                [list(s.input_ids) + [pad_id] * (width - len(s)) for s in chunk],
                [list(s.labels) + [IGNORE] * (width - len(s)) for s in chunk],
                [[1] * len(s) + [0] * (width - len(s)) for s in chunk],
            )
        )
    return batches
