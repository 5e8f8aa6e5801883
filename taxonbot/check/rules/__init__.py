"""Content rules, one module per policy. A new rule is a module plus one line in RULES."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from taxonbot.check.rules import attribution, document, path_names, questions, word_limits
from taxonbot.check.rules.context import CheckContext
from taxonbot.taxonomy.findings import Finding

Rule = Callable[[CheckContext], Iterable[Finding]]

RULES: tuple[Rule, ...] = (
    path_names.check,
    questions.check,
    word_limits.check,
    document.check,
    attribution.check,
)

__all__ = ["RULES", "CheckContext", "Rule"]
