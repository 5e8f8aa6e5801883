"""Prompt templates: Jinja2 files in taxonbot/sdg/templates/, rendered with StrictUndefined so a
missing variable is a loud error in our tests, never a silently empty prompt to the model; and
which of a leaf's seed examples the prompts show."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from taxonbot.runtime.base import TokenCounter, estimate_tokens
from taxonbot.sdg.sample import Seed

PROMPTS_DIR = Path(__file__).resolve().parent / "templates"
GRAMMARS_DIR = Path(__file__).resolve().parent / "grammars"

# The seed examples a prompt shows fit in this many of the model's tokens, at least
# MIN_SHOWN_SEEDS of them: 21 of upstream's 343 skill files hold more than 1,200
# words of seeds, and one of 48 seeds made an 18,025-token prompt that no 4,096-token context
# takes. Every skill leaf of this repository's taxonomy fits whole (the largest, its meeting
# notes: 1,540 tokens on Qwen2.5's tokenizer, 1,670 on SmolLM2's).
EXAMPLES_BUDGET = 2000
MIN_SHOWN_SEEDS = 2


@cache
def environment() -> jinja2.Environment:
    # autoescape off: prompts are plain text for a model, never HTML; what comes back is data.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,  # noqa: S701 - prompts are text for a model, not HTML
    )


def render(name: str, **values: Any) -> str:
    return environment().get_template(name).render(**values).strip()


def system_prompt() -> str:
    return render("system.j2")


def templates_hash() -> str:
    """One hash over every template and every grammar a block may constrain its reply with,
    recorded in manifests and SDG cache keys so data says which prompts made it."""
    digest = hashlib.sha256()
    paths = sorted(PROMPTS_DIR.glob("*.j2")) + sorted(GRAMMARS_DIR.glob("*.gbnf"))
    for path in paths:
        name = f"{path.parent.name}/{path.name}" if path.suffix == ".gbnf" else path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def grammar_text(name: str, folder: Path = GRAMMARS_DIR) -> str:
    """The GBNF grammar `name` in taxonbot/sdg/grammars/; OSError when it cannot be read."""
    return (folder / name).read_text("utf-8")


def shown_seeds(seeds: Sequence[Seed], count: TokenCounter = estimate_tokens) -> list[Seed]:
    """The seed examples the prompts show: in file order, each that still fits in
    EXAMPLES_BUDGET tokens, the first MIN_SHOWN_SEEDS whatever their size. A text counts once
    for every seed that has it, as the templates print it (upstream's Morse code leaf asks 48
    questions of 2 texts). The same for every sample and block of a leaf, so that its prompts
    share their prefix in the KV cache; dedupe and the ranking signals still compare with every
    seed."""
    shown: list[Seed] = []
    used = 0
    for seed in seeds:
        size = (
            count(seed.question) + count(seed.answer) + (count(seed.context) if seed.context else 0)
        )
        if len(shown) < MIN_SHOWN_SEEDS or used + size <= EXAMPLES_BUDGET:
            shown.append(seed)
            used += size
    return shown
