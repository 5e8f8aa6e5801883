"""How many seed examples a qna.yaml may hold: more is a finding, and the check reads no further.

The format asks for 5 seed examples; the largest leaf in upstream's taxonomy has 177, and a
knowledge seed has 3 questions (the most upstream has is 7). Past these caps a file is not a
contribution but a dump (or an attack on the pairwise rules), so the check says so once and
looks only at the first seeds: every later step is then bounded, whatever the file holds.
"""

from __future__ import annotations

from typing import Any

from taxonbot.taxonomy.findings import Finding, error
from taxonbot.taxonomy.yamlnode import Node, YamlPath, format_path, locate

MAX_SEED_EXAMPLES = 200
MAX_QUESTIONS_PER_SEED = 10  # knowledge: questions_and_answers in one seed example


def cap_seeds(path: str, root: Node, data: dict[str, Any]) -> tuple[dict[str, Any], list[Finding]]:
    """`data` with its lists cut to the caps (a copy where cut), and a finding per cut list."""
    seeds = data.get("seed_examples")
    if not isinstance(seeds, list):
        return data, []
    found: list[Finding] = []
    if len(seeds) > MAX_SEED_EXAMPLES:
        where: YamlPath = ("seed_examples",)
        found.append(
            error(
                "content.too-many-seeds",
                path,
                locate(root, (*where, MAX_SEED_EXAMPLES)),
                _too_many(where, len(seeds), MAX_SEED_EXAMPLES),
                "Keep the best few (the format asks for 5) and delete the rest.",
                format_path(where),
            )
        )
        seeds = seeds[:MAX_SEED_EXAMPLES]
    kept = []
    for index, seed in enumerate(seeds):
        pairs = seed.get("questions_and_answers") if isinstance(seed, dict) else None
        if isinstance(pairs, list) and len(pairs) > MAX_QUESTIONS_PER_SEED:
            where = ("seed_examples", index, "questions_and_answers")
            found.append(
                error(
                    "content.too-many-questions",
                    path,
                    locate(root, (*where, MAX_QUESTIONS_PER_SEED)),
                    _too_many(where, len(pairs), MAX_QUESTIONS_PER_SEED),
                    "Keep the best few (the format asks for 3) and delete the rest.",
                    format_path(where),
                )
            )
            seed = {**seed, "questions_and_answers": pairs[:MAX_QUESTIONS_PER_SEED]}
        kept.append(seed)
    if not found:
        return data, []
    return {**data, "seed_examples": kept}, found


def _too_many(where: YamlPath, count: int, limit: int) -> str:
    return (
        f"`{format_path(where)}` has {count:,} items; the limit is {limit:,}, so only the first "
        f"{limit:,} are checked."
    )
