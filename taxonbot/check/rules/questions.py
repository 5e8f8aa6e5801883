"""Duplicate and near-identical questions in one file: they teach nothing twice."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator

from taxonbot.check.rules.context import CheckContext
from taxonbot.taxonomy.findings import Finding, error, warning
from taxonbot.taxonomy.yamlnode import YamlPath, format_path, locate

SIMILAR_RATIO = 0.85
MAX_CANDIDATES = 100  # earlier questions compared with each one; the seed caps bound the rest
_NON_WORD = re.compile(r"[\W_]+")


def check(ctx: CheckContext) -> Iterator[Finding]:
    asked = [(path, normalise(q), context) for path, q, context in questions(ctx)]
    asked = [item for item in asked if item[1]]
    order = _rarity(norm for _, norm, _ in asked)
    exact: dict[tuple[str, str], int] = {}
    by_word: dict[tuple[str, str], list[int]] = defaultdict(list)
    words_of: list[frozenset[str]] = []
    for at, (path, norm, context) in enumerate(asked):
        words = frozenset(norm.split())
        words_of.append(words)
        same = exact.setdefault((context, norm), at)
        near = _first_similar(at, words, context, order, by_word, words_of)
        earlier = [i for i in (same, near) if i is not None and i < at]
        if earlier:  # the first earlier match, exact or similar, as a scan in order would find
            first = min(earlier)
            yield finding(ctx, path, asked[first][1] == norm, asked[first][0])


def _rarity(norms: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Each word's place in the prefix order: the rarest words of the file first."""
    counts: dict[str, int] = defaultdict(int)
    for norm in norms:
        for word in set(norm.split()):
            counts[word] += 1
    return {word: (count, word) for word, count in counts.items()}


def _first_similar(
    at: int,
    words: frozenset[str],
    context: str,
    order: dict[str, tuple[int, str]],
    by_word: dict[tuple[str, str], list[int]],
    words_of: list[frozenset[str]],
) -> int | None:
    """The earliest earlier question `similar` to this one, found through an index.

    Prefix filtering: two word sets with Jaccard >= r share a word among the first
    len - ceil(r * len) + 1 of each set's rarest words, so only questions filed under those
    words are compared, and at most MAX_CANDIDATES of them (a bound for crafted input)."""
    prefix = sorted(words, key=order.__getitem__)[
        : len(words) - math.ceil(SIMILAR_RATIO * len(words)) + 1
    ]
    candidates: set[int] = set()
    for word in prefix:
        filed = by_word[(context, word)]
        candidates.update(filed[:MAX_CANDIDATES])
        filed.append(at)
    best = None
    for other in sorted(candidates)[:MAX_CANDIDATES]:
        if similar(words, words_of[other]):
            best = other
            break
    return best


def finding(ctx: CheckContext, path: YamlPath, exact: bool, other_path: YamlPath) -> Finding:
    first = f"{format_path(other_path)} (line {locate(ctx.root, other_path).line})"
    if exact:
        return error(
            "content.duplicate-question",
            ctx.path,
            locate(ctx.root, path),
            f"This question repeats {first}.",
            "Replace it with a different question; each seed example should teach something new.",
            format_path(path),
        )
    return warning(
        "content.similar-question",
        ctx.path,
        locate(ctx.root, path),
        f"This question is almost the same as {first}.",
        "Vary the questions: ask about another aspect, or phrase it for a different reader.",
        format_path(path),
    )


def questions(ctx: CheckContext) -> Iterator[tuple[YamlPath, str, str]]:
    for index, seed in enumerate(ctx.seeds()):
        if ctx.leaf.kind == "knowledge":
            pairs = seed.get("questions_and_answers")
            for inner, pair in enumerate(pairs if isinstance(pairs, list) else []):
                if isinstance(pair, dict) and isinstance(pair.get("question"), str):
                    path = ("seed_examples", index, "questions_and_answers", inner, "question")
                    yield path, pair["question"], ""
        elif isinstance(seed.get("question"), str):
            context = seed.get("context")
            yield ("seed_examples", index, "question"), seed["question"], str(context or "")


def similar(words: frozenset[str], others: frozenset[str], ratio: float = SIMILAR_RATIO) -> bool:
    """Same words in another order, or all but one word in common in a longer question.

    Word sets, not character edit distance: "What is X?" and "What is Y?" are different
    questions, while reordering or one changed filler word is not a new question.
    """
    small, large = sorted((len(words), len(others)))
    # Jaccard can reach `ratio` only if the sizes are close: a cheap test before any set work.
    if small < 4 or small < ratio * large:
        return False
    return len(words & others) / len(words | others) >= ratio


def normalise(text: str) -> str:
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())
