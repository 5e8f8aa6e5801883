"""Reading result.json's values whatever their type: the artifact was written by a job that ran
the pull request's code, so any field may be missing, of the wrong type, or absurd. Each reader
answers a value of the type asked for (empty, 0 or "–" when the field is not one), never an error.
"""

from __future__ import annotations

from typing import Any

from taxonbot.markdown import Md


def mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def array(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def mappings(value: object) -> list[dict[str, Any]]:
    """The objects of a list; anything else in it is left out."""
    return [v for v in array(value) if isinstance(v, dict)]


def count(value: object) -> int:
    """A count or line number; anything else is 0, and an absurd one stops at 10**9."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return min(max(value, 0), 10**9)


def score(value: object) -> Md:
    """A score to show: two decimals, "–" when it is not a finite number."""
    # `not abs(x) < 1e9` also catches NaN, which compares false with everything
    if isinstance(value, bool) or not isinstance(value, int | float) or not abs(value) < 1e9:
        return Md("–")
    return Md(str(value) if isinstance(value, int) else f"{value:.2f}")


def check_counts(check: object) -> tuple[int, int] | None:
    """(errors, warnings) of a check result, None when it did not run.

    An error finding counts even if the summary says 0: the summary is artifact data too.
    """
    if not isinstance(check, dict):
        return None
    findings = mappings(check.get("findings"))
    summary = mapping(check.get("summary"))
    errors = sum(f.get("severity") == "error" for f in findings)
    warnings = sum(f.get("severity") == "warning" for f in findings)
    return max(count(summary.get("errors")), errors), max(count(summary.get("warnings")), warnings)
