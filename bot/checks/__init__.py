"""Content rules, one module per policy. A new rule is a module plus one line in RULES."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.checks import attribution, document, path_names, questions, word_limits
from bot.checks.context import CheckContext
from bot.findings import Finding

Rule = Callable[[CheckContext], Iterable[Finding]]

RULES: tuple[Rule, ...] = (
    path_names.check,
    questions.check,
    word_limits.check,
    document.check,
    attribution.check,
)

__all__ = ["RULES", "CheckContext", "Rule"]
