"""Duplicate and near-identical questions in one file: they teach nothing twice."""

from __future__ import annotations

import re
from collections.abc import Iterator

from taxonbot.check.rules.context import CheckContext
from taxonbot.taxonomy.findings import Finding, error, warning
from taxonbot.taxonomy.yamlnode import YamlPath, format_path, locate

SIMILAR_RATIO = 0.85
_NON_WORD = re.compile(r"[\W_]+")


def check(ctx: CheckContext) -> Iterator[Finding]:
    seen: list[tuple[str, frozenset[str], str, YamlPath]] = []
    for path, question, context in questions(ctx):
        norm = normalise(question)
        if not norm:
            continue
        words = frozenset(norm.split())
        for other_norm, other_words, other_context, other_path in seen:
            if context != other_context:
                continue  # grounded skills may ask the same thing of different contexts
            if norm == other_norm or similar(words, other_words):
                yield finding(ctx, path, norm == other_norm, other_path)
                break
        seen.append((norm, words, context, path))


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
