"""Exit codes: every `taxonbot` command ends with one of these three, each with one meaning.

The numbers are part of the interface: workflows read them (`pr.yml` treats check's 1 as
"findings" and anything above as "the check itself broke"; `retrain.yml` treats build's 1 as
"built, but not publishable"), so the values never change.
"""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    """Did what was asked: no findings, comment written, build publishable."""

    NO = 1
    """Ran to the end and the answer is no: findings, a refused input, a leaf that failed,
    a build that is not publishable, GitHub refusing a write."""

    CANNOT = 2
    """Could not run or finish: a usage error, a missing file, git, model or disk trouble."""
