"""Signals that rank a leaf's pairs without asking a model: measured, not judged.

- on_task: how much of the leaf's task the question names. A word the seed questions and the
  task description share (two or more of them; not an instruction word such as "write") is a
  task word, weighted by the share of them
  that use it; the question's weight is set against the seeds' own (each measured against the
  others), so a question that names the task as a seed does scores 1, and one about something
  else scores near 0;
- novelty: 1 - the highest word-set similarity of the question to any seed question or the
  task description (a copy scores 0);
- fresh_answer: 1 - the highest similarity of the answer's content words to any seed answer
  (a seed's answer with a word or two changed scores near 0);
- diversity: 1 - the highest similarity to a question kept earlier in the leaf;
- grounding: the share of the answer's content words found in its context (pairs with one).

Similarity is the Jaccard ratio of normalised word sets, the measure of the seed-duplicate rule
and the dedupe block (taxonbot/check/rules/questions.py). What ranks is measured against pairs
a person labelled (benchmarks/rank_quality.py, the 0.5B's real previews): novelty and
fresh_answer run against quality on a small model (ROC AUC 0.29 and 0.32: its pairs that stray
from the seeds are the ones that went off the task), and the old score, their mean with
diversity and grounding, put off-task pairs first (AUC 0.29). So a pair's score is its on_task
share plus a tenth of its diversity (AUC 0.72), and novelty and fresh_answer are shown, not
ranked on; without an on_task signal it is the mean of the others. Its rank is its place among
the leaf's kept pairs by that score, 1 first.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from taxonbot.check.rules.questions import normalise
from taxonbot.sdg.grounding import content_words, support
from taxonbot.sdg.sample import Sample, Seed

DIVERSITY_WEIGHT = 0.1  # beside on_task: among pairs on the task, those unlike the earlier first
MIN_TASK_DOCUMENTS = 2  # a word is a task word when at least this many seed texts use it
# Words that say how to ask, not what about: "Write a letter about a product launch" shares
# "write" with every seed of an email leaf and is still off its task.
INSTRUCTION_WORDS = content_words(
    """write writing written compose composing give tell make create generate produce explain
    describe provide list show draft please help need want like using use following below
    above short brief simple quick new one two three"""
)


def words(text: str) -> frozenset[str]:
    return frozenset(normalise(text).split())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


@dataclass(frozen=True)
class Profile:
    """What a leaf's seeds say about its task, worked out once per leaf."""

    questions: tuple[frozenset[str], ...]  # word sets: the seed questions, the task description
    answers: tuple[frozenset[str], ...]  # content words of the seed answers
    task_words: dict[str, float]  # content word -> share of the seed texts that use it
    typical: float  # the median seed's task weight, each seed against the others (0: unknown)


def profile(task_description: str, seeds: Sequence[Seed]) -> Profile:
    docs = [content_words(s.question) - INSTRUCTION_WORDS for s in seeds]
    if task_description.strip():
        docs.append(content_words(task_description) - INSTRUCTION_WORDS)
    counts = Counter(w for doc in docs for w in doc)
    own = [_task_weight(doc, counts - Counter(doc), len(docs) - 1) for doc in docs[: len(seeds)]]
    return Profile(
        questions=tuple(words(s.question) for s in seeds)
        + ((words(task_description),) if task_description.strip() else ()),
        answers=tuple(a for a in (content_words(s.answer) for s in seeds) if a),
        task_words={
            w: n / len(docs) for w, n in counts.items() if n >= MIN_TASK_DOCUMENTS and docs
        },
        typical=statistics.median(own) if own else 0.0,
    )


def _task_weight(doc: frozenset[str], counts: Counter[str], n_docs: int) -> float:
    if n_docs < MIN_TASK_DOCUMENTS:
        return 0.0
    return sum(counts[w] / n_docs for w in doc if counts[w] >= MIN_TASK_DOCUMENTS)


def signals(sample: Sample, seeds: Profile, kept: Iterable[frozenset[str]]) -> dict[str, float]:
    """The sample's signals; `kept` holds the word sets of the leaf's questions kept before it."""
    asked = words(sample.question)
    if not asked:
        return {}
    out = {
        "novelty": 1.0 - max((jaccard(asked, s) for s in seeds.questions), default=0.0),
        "diversity": 1.0 - max((jaccard(asked, k) for k in kept), default=0.0),
    }
    if seeds.typical > 0:
        weight = sum(seeds.task_words.get(w, 0.0) for w in content_words(sample.question))
        out["on_task"] = min(1.0, weight / seeds.typical)
    said = content_words(sample.answer)
    if said and seeds.answers:
        out["fresh_answer"] = 1.0 - max(jaccard(said, a) for a in seeds.answers)
    if sample.context and sample.answer:
        out["grounding"] = support(sample.answer, sample.context)
    return {name: round(value, 3) for name, value in out.items()}


def combined(values: dict[str, float]) -> float:
    """on_task first, diversity breaking near-ties; the plain mean where on_task is absent."""
    if "on_task" in values:
        return round(values["on_task"] + DIVERSITY_WEIGHT * values.get("diversity", 0.0), 3)
    return round(sum(values.values()) / len(values), 3) if values else 0.0


def rank_kept(samples: Sequence[Sample]) -> None:
    """Number the kept samples 1, 2, ... by score (ties: made first, first); others get None."""
    kept = sorted((s for s in samples if s.kept), key=lambda s: (-s.score, s.number))
    places = {id(s): place for place, s in enumerate(kept, 1)}
    for sample in samples:
        sample.rank = places.get(id(sample))
