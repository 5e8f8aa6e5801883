"""Signals that rank a leaf's pairs without asking a model: measured, not judged.

- novelty: 1 - the highest word-set similarity of the question to any seed question (a copy
  of a seed scores 0);
- diversity: 1 - the highest similarity to a question kept earlier in the leaf;
- grounding: the share of the answer's content words found in its context (pairs with one).

Similarity is the Jaccard ratio of normalised word sets, the measure the seed-duplicate rule
and the dedupe block threshold (taxonbot/check/rules/questions.py). A pair's score is the mean
of the signals it has; its rank is its place among the leaf's kept pairs by that score, 1 first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from taxonbot.check.rules.questions import normalise
from taxonbot.sdg.grounding import support
from taxonbot.sdg.sample import Sample


def words(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def signals(
    sample: Sample, seeds: Iterable[frozenset[str]], kept: Iterable[frozenset[str]]
) -> dict[str, float]:
    """The sample's signals; `seeds` and `kept` are the word sets of the seed questions and of
    the leaf's questions kept before this one."""
    asked = words(sample.question)
    if not asked:
        return {}
    out = {
        "novelty": 1.0 - max((jaccard(asked, s) for s in seeds), default=0.0),
        "diversity": 1.0 - max((jaccard(asked, k) for k in kept), default=0.0),
    }
    if sample.context and sample.answer:
        out["grounding"] = support(sample.answer, sample.context)
    return {name: round(value, 3) for name, value in out.items()}


def combined(values: dict[str, float]) -> float:
    return round(sum(values.values()) / len(values), 3) if values else 0.0


def rank_kept(samples: Sequence[Sample]) -> None:
    """Number the kept samples 1, 2, ... by score (ties: made first, first); others get None."""
    kept = sorted((s for s in samples if s.kept), key=lambda s: (-s.score, s.number))
    places = {id(s): place for place, s in enumerate(kept, 1)}
    for sample in samples:
        sample.rank = places.get(id(sample))
