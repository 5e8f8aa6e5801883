"""The values SDG works on: a leaf to generate for, and the samples in flight."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from taxonbot.check.rules.questions import normalise


class Asked(NamedTuple):
    """A question of the leaf, a seed's (number -1) or one kept: normalised, its words, its
    sample number, and the context it was asked of, normalised ('' for a freeform question)."""

    norm: str
    words: frozenset[str]
    number: int
    context: str = ""


def asked(question: str, number: int, context: str = "") -> Asked:
    norm = normalise(question)
    return Asked(norm, frozenset(norm.split()), number, normalise(context))


@dataclass(frozen=True)
class Seed:
    question: str
    answer: str
    context: str = ""


@dataclass(frozen=True)
class LeafJob:
    """One taxonomy leaf, ready for a pipeline: its seeds and, for knowledge, document chunks."""

    leaf: str  # e.g. compositional_skills/writing/freeform/poetry/haiku
    path: str  # the qna.yaml
    kind: str  # "freeform_skills" | "grounded_skills" | "knowledge"
    task_description: str
    seeds: tuple[Seed, ...]
    chunks: tuple[str, ...] = ()
    input_sha256: str = ""


@dataclass
class Verdict:
    """What one judge block said of one sample."""

    score: int | None  # None: the reply could not be parsed (counts as a rejection)
    passed: bool
    raw: str = ""


@dataclass
class Sample:
    number: int  # position in the leaf's run; also the variation knob in prompts
    question: str = ""
    answer: str = ""
    context: str = ""
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    rejected_by: str = ""  # the first block that dropped it
    reason: str = ""  # why, in words
    finished: bool = False  # went through every block
    signals: dict[str, float] = field(default_factory=dict)  # taxonbot/sdg/signals.py
    score: float = 0.0  # the signals combined (signals.combined): higher ranks first
    rank: int | None = None  # place among the leaf's kept pairs by score, 1 first; None: not kept

    @property
    def kept(self) -> bool:
        return self.finished and not self.rejected_by

    def reject(self, block: str, reason: str) -> None:
        if not self.rejected_by:
            self.rejected_by, self.reason = block, reason

    def record(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "question": self.question,
            "answer": self.answer,
            "context": self.context,
            "kept": self.kept,
            "finished": self.finished,
            "rejected_by": self.rejected_by,
            "reason": self.reason,
            "scores": {name: v.score for name, v in self.verdicts.items()},
            "filters": {name: v.passed for name, v in self.verdicts.items()},
            "judge_replies": {name: v.raw for name, v in self.verdicts.items()},
            "signals": dict(self.signals),
            "rank": self.rank,
        }

    def messages(self) -> list[dict[str, str]]:
        """The pair in chat form, as training reads it; the context travels with the question."""
        user = f"{self.context}\n\n{self.question}" if self.context else self.question
        return [{"role": "user", "content": user}, {"role": "assistant", "content": self.answer}]
