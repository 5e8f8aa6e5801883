"""Prompt templates: Jinja2 files in taxonbot/sdg/templates/, rendered with StrictUndefined so a
missing
variable is a loud error in our tests, never a silently empty prompt to the model."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

PROMPTS_DIR = Path(__file__).resolve().parent / "templates"
GRAMMARS_DIR = Path(__file__).resolve().parent / "grammars"


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
