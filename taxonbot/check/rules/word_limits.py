"""Word limits: long seeds crowd the teacher model's prompt and get cut off in generation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from taxonbot.check.rules.context import CheckContext
from taxonbot.taxonomy.findings import Finding, Position, error, warning
from taxonbot.taxonomy.yamlnode import YamlPath, format_path, locate

MAX_CONTEXT_WORDS = 500
MAX_QA_WORDS = 250
MAX_SKILL_SEED_WORDS = 2300  # upstream's guidance: all of a skill's seeds fit one prompt


def check(ctx: CheckContext) -> Iterator[Finding]:
    total = 0
    for path, field, text in texts(ctx):
        words = len(text.split())
        total += words
        limit = MAX_CONTEXT_WORDS if field == "context" else MAX_QA_WORDS
        if words > limit:
            yield error(
                "content.too-long",
                ctx.path,
                locate(ctx.root, path),
                f"This {field} has {words} words; the limit is {limit}.",
                f"Shorten the {field} to at most {limit} words.",
                format_path(path),
            )
    if ctx.leaf.kind == "skills" and total > MAX_SKILL_SEED_WORDS:
        yield warning(
            "content.seeds-too-long",
            ctx.path,
            Position(),
            f"The seed examples hold {total} words in all; about {MAX_SKILL_SEED_WORDS} fit "
            "the teacher model's prompt.",
            "Shorten the longest contexts or answers so that all examples fit.",
            "seed_examples",
        )


def texts(ctx: CheckContext) -> Iterator[tuple[YamlPath, str, str]]:
    for index, seed in enumerate(ctx.seeds()):
        base: YamlPath = ("seed_examples", index)
        yield from fields(base, seed)
        pairs = seed.get("questions_and_answers")
        for inner, pair in enumerate(pairs if isinstance(pairs, list) else []):
            if isinstance(pair, dict):
                yield from fields((*base, "questions_and_answers", inner), pair)


def fields(base: YamlPath, mapping: dict[str, Any]) -> Iterator[tuple[YamlPath, str, str]]:
    for field in ("context", "question", "answer"):
        value = mapping.get(field)
        if isinstance(value, str):
            yield (*base, field), field, value
