"""The arithmetic of continuous batching (taxonbot/runtime/batchplan.py): pure Python, no model."""

from __future__ import annotations

from taxonbot.runtime.batchplan import Row, budget, cells, prompt_rows

SYSTEM = list(range(100, 110))  # a shared system prompt of 10 tokens


def by_seq(rows: list[Row]) -> dict[int, list[tuple[int, int]]]:
    """Each sequence's (position, token) in row order: what llama.cpp sees for it."""
    seen: dict[int, list[tuple[int, int]]] = {}
    for row in rows:
        for seq in row.seqs:
            seen.setdefault(seq, []).append((row.pos, row.token))
    return seen


def test_a_budget_is_max_tokens_less_where_the_context_ends_and_at_least_one() -> None:
    assert budget(100, 64, 4096) == 64
    assert budget(4000, 256, 4096) == 96
    assert budget(4096, 256, 4096) == 1
    assert cells(100, 64, 40) == 124  # its prompt and budget, less what the holder keeps


def test_requests_joining_together_evaluate_what_they_share_once() -> None:
    a, b, c = [*SYSTEM, 7, 8, 9], [*SYSTEM, 7, 5], [*SYSTEM, 6]
    rows, ends = prompt_rows([(1, a, 0), (2, b, 0), (3, c, 0)])
    seen = by_seq(rows)
    # every sequence gets every position of its prompt once, in order
    for seq, tokens in ((1, a), (2, b), (3, c)):
        assert seen[seq] == list(enumerate(tokens))
    assert len(rows) == len(SYSTEM) + 1 + 2 + 1 + 1  # the system prompt and "7" once
    assert [r.seqs for r in rows[: len(SYSTEM)]] == [[1, 2, 3]] * len(SYSTEM)
    assert rows[len(SYSTEM)].seqs == [1, 2]
    # logits only where a prompt ends, one row per sequence
    assert [rows[ends[s]].pos for s in (1, 2, 3)] == [12, 11, 10]
    assert sum(r.logits for r in rows) == 3


def test_a_prompt_starts_after_the_cells_it_already_holds() -> None:
    rows, ends = prompt_rows([(1, [*SYSTEM, 1, 2], 10), (2, [*SYSTEM, 1, 3], 10)])
    assert [(r.pos, r.token, r.seqs) for r in rows] == [
        (10, 1, [1, 2]),
        (11, 2, [1]),
        (11, 3, [2]),
    ]
    assert (ends[1], ends[2]) == (1, 2)


def test_sequences_that_start_at_different_positions_share_no_row() -> None:
    # llama.cpp refuses a token shared by sequences whose cached positions differ
    rows, _ = prompt_rows([(1, [*SYSTEM, 1, 2], 10), (2, [*SYSTEM, 1, 2], 11)])
    assert all(len(r.seqs) == 1 for r in rows)
    assert [(r.pos, r.seqs) for r in rows] == [(10, [1]), (11, [1]), (11, [2])]


def test_identical_prompts_share_even_the_row_they_sample_from() -> None:
    same = [*SYSTEM, 4]
    rows, ends = prompt_rows([(1, same, 10), (2, same, 10)])
    assert len(rows) == 1 and rows[0].seqs == [1, 2] and rows[0].logits
    assert ends == {1: 0, 2: 0}


def test_the_holder_joins_one_requests_rows_up_to_the_prefix_it_keeps() -> None:
    a, b = [*SYSTEM, 1, 2, 3], [*SYSTEM, 9]
    rows, _ = prompt_rows([(1, b, 0), (2, a, 0)], holder=(0, 2, 11))
    seen = by_seq(rows)
    assert seen[0] == list(enumerate(a[:11]))
    assert all(r.seqs[0] != 0 for r in rows)  # a request's view of the cache comes first


def test_without_sharing_every_sequence_has_rows_of_its_own() -> None:
    rows, ends = prompt_rows([(1, SYSTEM, 0), (2, SYSTEM, 0)], share=False)
    assert len(rows) == 2 * len(SYSTEM) and all(len(r.seqs) == 1 for r in rows)
    assert by_seq(rows)[2] == list(enumerate(SYSTEM))
    assert rows[ends[1]].logits and rows[ends[2]].logits
