"""Which requests decode together (taxonbot/runtime/batchplan.py): pure Python, no model."""

from __future__ import annotations

from dataclasses import dataclass

from taxonbot.runtime.batchplan import plan_groups


@dataclass(frozen=True)
class J:
    tokens: list[int]
    max_tokens: int = 10


SYSTEM = list(range(100, 200))  # a shared system prompt of 100 tokens


def test_requests_sharing_a_prompt_go_together_with_the_prefix_named_once() -> None:
    jobs = [J([*SYSTEM, 7, 8]), J([*SYSTEM, 5]), J([*SYSTEM, 6, 6, 6])]
    (group,) = plan_groups(jobs, n_ctx=1000, n_seq_max=8)
    assert group.members == [1, 2, 0]  # token order: neighbours share the longest prefix
    assert group.prefix == SYSTEM and group.budgets == [10, 10, 10]


def test_no_group_has_more_sequences_than_allowed_and_every_job_runs_once() -> None:
    jobs = [J([*SYSTEM, i]) for i in range(11)]
    groups = plan_groups(jobs, n_ctx=4096, n_seq_max=4)
    assert [len(g.members) for g in groups] == [4, 4, 3]
    assert sorted(i for g in groups for i in g.members) == list(range(11))


def test_a_group_fits_the_context_with_every_member_generating_its_whole_budget() -> None:
    jobs = [J([*SYSTEM, i, i], max_tokens=100) for i in range(8)]
    groups = plan_groups(jobs, n_ctx=520, n_seq_max=8)
    # the prefix once (100 cells), then 2 prompt + 100 generated cells for each member
    assert [len(g.members) for g in groups] == [4, 4]
    for g in groups:
        assert len(g.prefix) + sum(2 + b for b in g.budgets) <= 520


def test_a_long_prompt_runs_alone_with_the_budget_the_context_leaves() -> None:
    long, short = J(list(range(900)), max_tokens=256), J([*SYSTEM, 1], max_tokens=8)
    groups = plan_groups([short, long], n_ctx=1000, n_seq_max=8)
    assert [(g.members, g.budgets) for g in groups] == [([1], [100]), ([0], [8])]


def test_every_member_keeps_a_token_of_its_own_to_sample_from() -> None:
    same = J([*SYSTEM, 1])  # identical prompts: their whole prompt is the common prefix
    (group,) = plan_groups([same, same, J(SYSTEM)], n_ctx=1000, n_seq_max=8)
    assert group.prefix == SYSTEM[:-1]
    (alone,) = plan_groups([same], n_ctx=1000, n_seq_max=8)
    assert alone.prefix == same.tokens[:-1]


def test_prompts_with_nothing_in_common_share_no_prefix() -> None:
    (group,) = plan_groups([J([1, 2, 3]), J([4, 5])], n_ctx=1000, n_seq_max=8)
    assert group.prefix == [] and group.members == [0, 1]
