"""One reporter per output format, all over the same findings."""

from __future__ import annotations

from collections.abc import Callable

from taxonbot.check.reporters import github, jsonout, markdown, text
from taxonbot.check.reporters.report import CheckReport

Reporter = Callable[[CheckReport], str]

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "github": github.render,
    "json": jsonout.render,
    "markdown": markdown.render,
}

__all__ = ["REPORTERS", "CheckReport", "Reporter"]
