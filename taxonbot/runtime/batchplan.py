"""The arithmetic of continuous batching, apart from llama.cpp: what a request may generate,
what it costs in KV cells, and the prompt rows of the requests that join a decode step.

Pure Python (no llama_cpp), so the fast tests pin it without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Row:
    """One token of a llama_batch: evaluated once, its KV cell shared by every sequence in
    `seqs` (the first one's view of the cache is the one attention uses, so all of them must
    hold the same tokens before it)."""

    token: int
    pos: int
    seqs: list[int] = field(default_factory=list)
    logits: bool = False


def budget(prompt: int, max_tokens: int, n_ctx: int) -> int:
    """Completion tokens a request may make: its max_tokens, less where the context ends."""
    return max(1, min(max_tokens, n_ctx - prompt))


def cells(prompt: int, budget: int, shared: int) -> int:
    """KV cells a sequence needs at its fullest beyond the `shared` ones another holds."""
    return prompt + budget - shared


def prompt_rows(
    joining: Sequence[tuple[int, Sequence[int], int]],
    holder: tuple[int, int, int] | None = None,
    share: bool = True,
) -> tuple[list[Row], dict[int, int]]:
    """The rows that evaluate each joining sequence's prompt from its start.

    `joining` holds (seq, tokens, start): positions before `start` are already in the
    sequence's cells. Sequences with the same start and the same tokens so far share a row
    (llama.cpp requires coupled sequences to hold the same positions before the batch, hence
    the same start); `holder` = (seq, of, end) adds sequence `seq` to the rows of sequence
    `of` before position `end`, so that it keeps that prompt for requests still to come.
    With `share` False (a recurrent model: one state per sequence) no row is shared.
    Returns the rows in an order llama.cpp accepts (each sequence's positions increasing)
    and, for each joining sequence, the index of the row whose logits it samples from."""
    rows: list[Row] = []
    at: dict[tuple[int, int], int] = {}  # (parent row, or -1 - start; token) -> row
    last: dict[int, int] = {}
    for seq, tokens, start in joining:
        parent = -1 - start if share else -(1 << 40) - seq
        for pos in range(start, len(tokens)):
            key = (parent, tokens[pos])
            parent = at.get(key, -1)
            if parent < 0:
                parent = at[key] = len(rows)
                rows.append(Row(tokens[pos], pos))
            rows[parent].seqs.append(seq)
            if holder and holder[1] == seq and pos < holder[2]:
                rows[parent].seqs.append(holder[0])
        rows[parent].logits = True
        last[seq] = parent
    return rows, last
