"""Which taxonomy files a branch changed: one `git diff` against the merge base, no walk."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable

from bot.leaf import ATTRIBUTION_NAME, QNA_NAME, leaf_path


class ChangedError(Exception):
    """git could not answer; the message says what to do."""


def changed_files(ref: str, cwd: str = ".") -> list[str]:
    if ref.startswith("-"):
        raise ChangedError(f"`{ref}` is not a git ref; pass a branch, tag or commit.")
    command = [
        "git",
        "diff",
        "--name-only",
        "-z",
        "--relative",
        "--no-renames",
        "--diff-filter=ACMRT",
        "--merge-base",
        ref,
        "--",
    ]
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ChangedError(f"could not run git: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangedError(
            f"git could not compare with `{ref}` ({detail[-1] if detail else 'no detail'}). "
            f"Fetch the base branch first (e.g. `git fetch origin main`) or pass a valid ref."
        )
    names = [n for n in done.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    return taxonomy_files(names, cwd)


def taxonomy_files(names: Iterable[str], cwd: str) -> list[str]:
    """qna.yaml files touched directly or through their attribution.txt, plus misnamed YAML."""
    picked: set[str] = set()
    for name in names:
        base = os.path.basename(name)
        if base == ATTRIBUTION_NAME:
            sibling = os.path.join(os.path.dirname(name), QNA_NAME)
            if os.path.lexists(os.path.join(cwd, sibling)):
                picked.add(sibling)
        elif base == QNA_NAME or (
            base.endswith((".yaml", ".yml")) and leaf_path(name).root is not None
        ):
            picked.add(name)
    return sorted(picked)
