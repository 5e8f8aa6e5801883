"""Which requests decode together: groups that fit one llama.cpp context at once.

Pure Python (no llama_cpp), so the fast tests pin it without a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Planned(Protocol):
    @property
    def tokens(self) -> list[int]: ...  # the prompt, tokenized; shorter than the context

    @property
    def max_tokens(self) -> int: ...


@dataclass(frozen=True)
class Group:
    members: list[int]  # indexes into the planned list; member k decodes as sequence k
    prefix: list[int]  # tokens all members share, evaluated once (every member keeps >= 1 more)
    budgets: list[int]  # completion tokens each member may make: max_tokens, less near n_ctx


def plan_groups(jobs: Sequence[Planned], n_ctx: int, n_seq_max: int) -> list[Group]:
    """Jobs in token order (neighbours share the longest prefix), cut into groups of at most
    `n_seq_max` whose shared prefix, own suffixes and generation budgets fit `n_ctx` cells
    together. A job alone always fits: its budget shrinks to what the context leaves."""
    order = sorted(range(len(jobs)), key=lambda i: jobs[i].tokens)
    budgets = [max(1, min(j.max_tokens, n_ctx - len(j.tokens))) for j in jobs]
    groups: list[list[int]] = []
    for i in order:
        if (
            groups
            and len(groups[-1]) < n_seq_max
            and _cells(jobs, budgets, [*groups[-1], i]) <= n_ctx
        ):
            groups[-1].append(i)
        else:
            groups.append([i])
    return [Group(g, _prefix(jobs, g), [budgets[i] for i in g]) for g in groups]


def _prefix(jobs: Sequence[Planned], members: list[int]) -> list[int]:
    """The members' common prefix, less at least one token of each prompt: a sequence needs
    a token of its own evaluated to have logits to sample from. Members come in sorted order,
    so the first and the last share the prefix of all."""
    first, last = jobs[members[0]].tokens, jobs[members[-1]].tokens
    n = 0
    for a, b in zip(first, last, strict=False):
        if a != b:
            break
        n += 1
    shortest = min(len(jobs[i].tokens) for i in members)
    return first[: min(n, shortest - 1)]


def _cells(jobs: Sequence[Planned], budgets: list[int], members: list[int]) -> int:
    """KV cells the group needs at its fullest: the prefix once, then each member's suffix and
    generated tokens."""
    shared = len(_prefix(jobs, members))
    return shared + sum(len(jobs[i].tokens) - shared + budgets[i] for i in members)
