"""Data mixing for the two phases: knowledge first, then skills with a replay buffer.

Phase 2 replays a share of phase 1's knowledge and of the previous build's data so that the
model does not forget them while it learns the skills (upstream InstructLab's phased training
does the same). Both phases may also replay the start model's own answers to general requests
(taxonbot/modelbuild/selfreplay.py), `replay_self` times as many as the phase's own samples, at
most all of them, so that neither phase wears away what the model could already do. The record
goes into the build manifest as it is.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from taxonbot.train import TrainError

Sample = Mapping[str, Any]


def data_sha256(samples: Sequence[Sample]) -> str:
    """One hash for a list of samples, independent of key order inside each sample."""
    digest = hashlib.sha256()
    for sample in samples:
        line = json.dumps(sample, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def _fraction(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= 1):
        raise TrainError(f"{name} must be a fraction between 0 and 1; it is {value!r}")
    return float(value)


def _draw(rng: random.Random, samples: Sequence[Sample], fraction: float) -> list[Sample]:
    return _draw_count(rng, samples, fraction * len(samples))


def mix(
    knowledge: Sequence[Sample],
    skills: Sequence[Sample],
    previous: Sequence[Sample],
    *,
    replay_knowledge: float,
    replay_previous: float,
    seed: int,
    self_replay: Sequence[Sample] = (),
    replay_self: float = 0.0,
) -> tuple[list[Sample], list[Sample], dict[str, Any]]:
    """(phase 1, phase 2, record); the same inputs and seed give the same lists."""
    _fraction("replay_knowledge", replay_knowledge)
    _fraction("replay_previous", replay_previous)
    _fraction("replay_self", replay_self)
    rng = random.Random(seed)  # noqa: S311 -- reproducible sampling, not secrets
    knowledge_replay = _draw(rng, knowledge, replay_knowledge)
    previous_replay = _draw(rng, previous, replay_previous)
    phase2_own = [*skills, *knowledge_replay, *previous_replay]
    self1 = _draw_count(rng, self_replay, replay_self * len(knowledge))
    self2 = _draw_count(rng, self_replay, replay_self * len(phase2_own))
    phase1 = list(knowledge)
    if self1:  # shuffled only when mixed, so a build without self-replay keeps its old order
        phase1 += self1
        rng.shuffle(phase1)
    phase2 = [*phase2_own, *self2]
    rng.shuffle(phase2)
    total1, total2 = len(phase1) or 1, len(phase2) or 1
    record = {
        "seed": seed,
        "replay_knowledge": replay_knowledge,
        "replay_previous": replay_previous,
        "replay_self": replay_self,
        "phase1": {
            "knowledge": len(knowledge),
            "replay_self": len(self1),
            "total": len(phase1),
            "sha256": data_sha256(phase1),
            "shares": {"knowledge": len(knowledge) / total1, "replay_self": len(self1) / total1},
        },
        "phase2": {
            "skills": len(skills),
            "replay_knowledge": len(knowledge_replay),
            "replay_previous": len(previous_replay),
            "replay_self": len(self2),
            "total": len(phase2),
            "sha256": data_sha256(phase2),
            "shares": {
                "skills": len(skills) / total2,
                "replay_knowledge": len(knowledge_replay) / total2,
                "replay_previous": len(previous_replay) / total2,
                "replay_self": len(self2) / total2,
            },
        },
        "available": {
            "knowledge": len(knowledge),
            "skills": len(skills),
            "previous": len(previous),
            "self_replay": len(self_replay),
        },
    }
    return phase1, phase2, record


def _draw_count(rng: random.Random, samples: Sequence[Sample], wanted: float) -> list[Sample]:
    count = min(round(wanted), len(samples))
    return [samples[index] for index in sorted(rng.sample(range(len(samples)), count))]
