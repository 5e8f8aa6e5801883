"""Packed rows as tensors, and micro-batches made of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from taxonbot.train.data import IGNORE
from taxonbot.train.packing import PackedRow


@dataclass(frozen=True)
class RowTensors:
    input_ids: torch.Tensor
    labels: torch.Tensor
    position_ids: torch.Tensor
    distill: torch.Tensor | None = None  # bool per token; None when the row distills nothing

    @classmethod
    def of(cls, row: PackedRow) -> RowTensors:
        return cls(
            torch.tensor(row.input_ids, dtype=torch.long),
            torch.tensor(row.labels, dtype=torch.long),
            torch.tensor(row.position_ids, dtype=torch.long),
            torch.tensor(row.distill, dtype=torch.bool) if row.distill else None,
        )

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


def collate(rows: Sequence[RowTensors], device: Any, pad_id: int = 0) -> dict[str, torch.Tensor]:
    """A (rows, longest) batch; a shorter row's tail is a padding block of its own.

    The tail's positions restart at 0, so transformers treats it as one more packed sequence:
    no real token attends to it, and its labels are ignored. attention_mask stays None, which
    is what makes transformers read the packing from position_ids. When a row distills,
    the batch also has "distill" (bool per token, False on padding), which the model must not
    be given: the loop takes it out.
    """
    width = max(len(row) for row in rows)
    if all(len(row) == width for row in rows):
        batch = {
            "input_ids": torch.stack([row.input_ids for row in rows]),
            "labels": torch.stack([row.labels for row in rows]),
            "position_ids": torch.stack([row.position_ids for row in rows]),
        }
    else:
        batch = {
            "input_ids": torch.full((len(rows), width), pad_id, dtype=torch.long),
            "labels": torch.full((len(rows), width), IGNORE, dtype=torch.long),
            "position_ids": torch.arange(width).repeat(len(rows), 1),
        }
        for index, row in enumerate(rows):
            size = len(row)
            batch["input_ids"][index, :size] = row.input_ids
            batch["labels"][index, :size] = row.labels
            batch["position_ids"][index, :size] = row.position_ids
            batch["position_ids"][index, size:] = torch.arange(width - size)
    if any(row.distill is not None for row in rows):
        batch["distill"] = torch.zeros((len(rows), width), dtype=torch.bool)
        for index, row in enumerate(rows):
            if row.distill is not None:
                batch["distill"][index, : len(row)] = row.distill
    return {name: tensor.to(device, non_blocking=True) for name, tensor in batch.items()}
