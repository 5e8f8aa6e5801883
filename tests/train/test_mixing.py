"""Phase 1 is knowledge; phase 2 is skills plus a replay of knowledge and the previous build."""

from __future__ import annotations

from typing import Any

import pytest

from taxonbot.train import TrainError
from taxonbot.train.mixing import data_sha256, mix
from tests.train.conftest import chat

pytestmark = pytest.mark.model  # needs the model stack: the full tier only


def pool(kind: str, count: int) -> list[dict[str, Any]]:
    return [chat(f"{kind} {i}?", f"{kind} answer {i}") for i in range(count)]


def test_phase_two_replays_the_asked_shares() -> None:
    knowledge, skills, previous = pool("k", 40), pool("s", 25), pool("p", 60)
    phase1, phase2, record = mix(
        knowledge, skills, previous, replay_knowledge=0.25, replay_previous=0.1, seed=3
    )
    assert phase1 == knowledge
    assert len(phase2) == 25 + 10 + 6
    assert all(s in phase2 for s in skills)
    assert sum(s in knowledge for s in phase2) == 10
    assert sum(s in previous for s in phase2) == 6
    assert phase2 != [*skills, *[s for s in phase2 if s not in skills]]  # shuffled, not stacked
    assert record["phase2"] | {"shares": None, "sha256": None} == {
        "skills": 25,
        "replay_knowledge": 10,
        "replay_previous": 6,
        "replay_self": 0,
        "total": 41,
        "shares": None,
        "sha256": None,
    }
    assert record["phase2"]["shares"]["replay_knowledge"] == pytest.approx(10 / 41)
    assert record["phase2"]["sha256"] == data_sha256(phase2)
    assert (record["replay_knowledge"], record["replay_previous"], record["seed"]) == (0.25, 0.1, 3)


def test_the_same_seed_gives_the_same_mix_and_another_seed_another() -> None:
    args = (pool("k", 40), pool("s", 5), pool("p", 40))
    first = mix(*args, replay_knowledge=0.5, replay_previous=0.5, seed=7)
    assert mix(*args, replay_knowledge=0.5, replay_previous=0.5, seed=7) == first
    other = mix(*args, replay_knowledge=0.5, replay_previous=0.5, seed=8)
    assert other[1] != first[1]
    assert other[2]["phase2"]["total"] == first[2]["phase2"]["total"]


def test_no_previous_build_and_no_replay_are_fine() -> None:
    phase1, phase2, record = mix(
        pool("k", 3), pool("s", 2), [], replay_knowledge=0.0, replay_previous=0.3, seed=0
    )
    assert len(phase1) == 3
    assert sorted(s["messages"][0]["content"] for s in phase2) == ["s 0?", "s 1?"]
    assert record["available"]["previous"] == 0


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_a_fraction_outside_zero_to_one_is_refused(bad: float) -> None:
    with pytest.raises(TrainError, match="replay_previous must be a fraction"):
        mix([], [], [], replay_knowledge=0.1, replay_previous=bad, seed=0)


def test_both_phases_replay_the_models_own_answers_in_proportion() -> None:
    knowledge, skills, own = pool("k", 40), pool("s", 10), pool("self", 30)
    phase1, phase2, record = mix(
        knowledge, skills, [], replay_knowledge=0.5, replay_previous=0.0, seed=1,
        self_replay=own, replay_self=0.5,
    )  # fmt: skip
    assert sorted(map(str, (s for s in phase1 if s not in own))) == sorted(map(str, knowledge))
    assert sum(s in own for s in phase1) == 20  # half as many as the 40 knowledge samples
    assert sum(s in own for s in phase2) == 15  # half of phase 2's own 10 + 20
    assert len(phase2) == 10 + 20 + 15
    assert phase1[:40] != knowledge  # mixed in, not appended
    assert record["phase1"]["replay_self"] == 20
    assert record["phase1"]["shares"]["replay_self"] == pytest.approx(20 / 60)
    assert record["phase2"]["replay_self"] == 15
    assert record["available"]["self_replay"] == 30
    assert record["replay_self"] == 0.5


def test_self_replay_is_capped_at_what_the_model_answered() -> None:
    phase1, _, record = mix(
        pool("k", 100), [], [], replay_knowledge=0.0, replay_previous=0.0, seed=0,
        self_replay=pool("self", 7), replay_self=1.0,
    )  # fmt: skip
    assert record["phase1"]["replay_self"] == 7
    assert len(phase1) == 107


def test_a_self_replay_fraction_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(TrainError, match="replay_self must be a fraction"):
        mix([], [], [], replay_knowledge=0.1, replay_previous=0.1, seed=0, replay_self=2.0)
