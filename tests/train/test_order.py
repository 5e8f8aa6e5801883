"""Which rows each step and process reads: whole epochs, disjoint shares, a pure function."""

from __future__ import annotations

import pytest

from taxonbot.train.order import DataOrder

pytestmark = pytest.mark.model  # needs the model stack: the full tier only


def test_each_epoch_visits_every_row_once_in_a_new_order() -> None:
    order = DataOrder(rows=12, micro_batch=2, accumulation=3, processes=1, seed=5)
    assert order.steps_for(2.0) == 4
    visited = [row for step in range(4) for row in order.step_rows(step)]
    assert sorted(visited[:12]) == sorted(visited[12:]) == list(range(12))
    assert visited[:12] != visited[12:]


def test_processes_split_a_step_into_disjoint_micro_batches() -> None:
    order = DataOrder(rows=100, micro_batch=2, accumulation=2, processes=3, seed=1)
    shares = [order.micro_batches(7, p) for p in range(3)]
    assert all(len(share) == 2 and all(len(b) == 2 for b in share) for share in shares)
    flat = [row for share in shares for batch in share for row in batch]
    assert flat == order.step_rows(7)
    assert len(set(flat)) == 12


def test_the_order_depends_only_on_seed_and_step() -> None:
    one = DataOrder(rows=10, micro_batch=1, accumulation=3, processes=1, seed=9)
    two = DataOrder(rows=10, micro_batch=1, accumulation=3, processes=1, seed=9)
    assert [two.step_rows(s) for s in (6, 2, 9)] == [one.step_rows(s) for s in (6, 2, 9)]
    # a step that runs past the end of an epoch goes on into the next permutation
    assert len(one.step_rows(3)) == 3
