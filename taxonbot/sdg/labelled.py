"""A labelled set for measuring judges, made from a leaf's own seeds.

Good pairs are the seeds' own pairs. Bad pairs are the seeds broken on purpose, each in one way a
judge should notice: another seed's answer under this question (wrong_answer), a pair from another
leaf (off_topic), the first ~30% of the answer's words (truncated), a question copied verbatim
from a seed the judge is shown (copied_seed), and the answer under a context that does not
contain it (unsupported). A judge is measured only on the kinds of bad pair it is asked about
(`BAD_FOR`): a relevancy judge is not wrong to pass an off-topic pair that answers its own
question. Pairs are judged with the last seeds as references and are made only from the others,
so a judge cannot recognise a good pair by seeing it in its prompt. Nothing here is random: the same
seeds give the same set.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from taxonbot.check.rules.questions import normalise
from taxonbot.sdg.sample import Seed

MIN_DISTINCT_SEEDS = 3  # two references for the judge and at least one seed to make pairs from
MAX_REFERENCES = 3  # seed pairs a judge is shown as examples of good pairs
TRUNCATE_SHARE = 0.3
MIN_WORDS_TO_TRUNCATE = 6

# Which judges (block names) each kind of bad pair is bad for; good pairs count for every judge.
BAD_FOR: dict[str, frozenset[str]] = {
    "wrong_answer": frozenset({"pair_rating", "relevancy"}),
    "off_topic": frozenset({"question_quality", "pair_rating", "faithfulness"}),
    "truncated": frozenset({"pair_rating", "relevancy"}),
    "copied_seed": frozenset({"question_quality"}),
    "unsupported": frozenset({"faithfulness"}),
}
KINDS = ("good", *BAD_FOR)


@dataclass(frozen=True)
class LabelledPair:
    kind: str  # "good" or a key of BAD_FOR
    question: str
    answer: str
    context: str

    @property
    def good(self) -> bool:
        return self.kind == "good"

    def tests(self, judge: str) -> bool:
        """Whether this pair says anything about `judge`: every good pair does, a bad one only
        when it is broken in a way that judge is asked about."""
        return self.good or judge in BAD_FOR[self.kind]


@dataclass(frozen=True)
class LabelledSet:
    pairs: tuple[LabelledPair, ...]
    references: tuple[Seed, ...] = ()  # the seeds a judge is shown; no pair is made from them
    reason: str = ""  # why the set is empty, in a sentence


def labelled_set(
    seeds: Sequence[Seed], others: Sequence[Seed] = (), per_kind: int | None = None
) -> LabelledSet:
    """Good and broken pairs from `seeds`; `others` are another leaf's seeds (for off_topic).
    The last seeds (up to MAX_REFERENCES, leaving at least one) are the references every pair is
    judged with, the same for all so a backend can share their prompt prefix; the pairs are made
    from the seeds before them. `per_kind` caps how many pairs of each kind are made."""
    distinct = _distinct(seeds)
    if len(distinct) < MIN_DISTINCT_SEEDS:
        return LabelledSet(
            (),
            reason=f"a labelled set needs at least {MIN_DISTINCT_SEEDS} seed examples with "
            f"different questions and answers; these seeds have {len(distinct)}",
        )
    split = len(distinct) - min(MAX_REFERENCES, len(distinct) - 1)
    subjects, refs = distinct[:split], tuple(distinct[split:])
    made: dict[str, list[LabelledPair]] = {kind: [] for kind in KINDS}
    for i, seed in enumerate(subjects):
        for pair in _pairs_of(i, seed, distinct, refs, others):
            made[pair.kind].append(pair)
    cap = len(subjects) if per_kind is None else max(0, per_kind)
    return LabelledSet(tuple(p for kind in KINDS for p in made[kind][:cap]), refs)


def _pairs_of(
    i: int, seed: Seed, seeds: list[Seed], refs: tuple[Seed, ...], others: Sequence[Seed]
) -> Iterable[LabelledPair]:
    yield LabelledPair("good", seed.question, seed.answer, seed.context)
    donor = _next(seeds, i, lambda s: normalise(s.answer) != normalise(seed.answer))
    if donor is not None:
        yield LabelledPair("wrong_answer", seed.question, donor.answer, seed.context)
    if others:
        other = others[i % len(others)]
        yield LabelledPair("off_topic", other.question, other.answer, seed.context)
    words = seed.answer.split()
    if len(words) >= MIN_WORDS_TO_TRUNCATE:
        cut = " ".join(words[: max(1, math.ceil(len(words) * TRUNCATE_SHARE))])
        yield LabelledPair("truncated", seed.question, cut.rstrip(",;:"), seed.context)
    shown = refs[i % min(2, len(refs))]  # a seed the judge sees among its references
    yield LabelledPair("copied_seed", shown.question, shown.answer, shown.context)
    if seed.context:
        elsewhere = _next(seeds, i, lambda s: bool(s.context) and s.context != seed.context)
        if elsewhere is not None:
            yield LabelledPair("unsupported", seed.question, seed.answer, elsewhere.context)


def _distinct(seeds: Sequence[Seed]) -> list[Seed]:
    seen_q: set[str] = set()
    seen_a: set[str] = set()
    out: list[Seed] = []
    for seed in seeds:
        q, a = normalise(seed.question), normalise(seed.answer)
        if q and a and q not in seen_q and a not in seen_a:
            seen_q.add(q)
            seen_a.add(a)
            out.append(seed)
    return out


def _next(seeds: list[Seed], i: int, fits: Callable[[Seed], bool]) -> Seed | None:
    """The first seed after the i-th (wrapping round) that `fits`."""
    for step in range(1, len(seeds)):
        other = seeds[(i + step) % len(seeds)]
        if fits(other):
            return other
    return None


def roc_auc(good: Sequence[float], bad: Sequence[float]) -> float | None:
    """The chance that a random good pair scores above a random bad one (ties count half):
    0.5 is a judge that cannot tell them apart, 1.0 one that always can. None without both."""
    if not good or not bad:
        return None
    wins = sum((g > b) + 0.5 * (g == b) for g in good for b in bad)
    return wins / (len(good) * len(bad))
