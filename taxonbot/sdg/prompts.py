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
    """One hash over every template, recorded in manifests so data says which prompts made it."""
    digest = hashlib.sha256()
    for path in sorted(PROMPTS_DIR.glob("*.j2")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
