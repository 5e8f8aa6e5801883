"""Can this clone credit the contributions a build brings? Asked before hours of SDG and training.

The model card (and `taxonbot release cut` later) credits every contribution merged since the
previous build's taxonomy commit (taxonbot/taxonomy/contributions.py). actions/checkout fetches one
commit
unless told `fetch-depth: 0`; in such a clone that commit is unknown, and the build used to stop
with "git does not know <sha>" only at the very end, after generation, training and the
evaluation. One `git rev-parse` here says it at once.
"""

from __future__ import annotations

from pathlib import Path

from taxonbot.taxonomy.contributions import ContributionError, execute, open_git

FULL_HISTORY = (
    "check out the full history first (actions/checkout with `fetch-depth: 0`, or "
    "`git fetch --unshallow origin`)"
)


def history_problem(repo: Path, previous_commit: str | None, previous_name: str = "") -> str | None:
    """Why the contributions since `previous_commit` (None: since the first commit) cannot be
    listed in `repo`, as a sentence that says what to do; None when they can."""
    try:
        git = open_git(str(repo))
        shallow, known = _ask(git, previous_commit)
    except ContributionError as exc:
        return f"cannot read the history to credit contributions: {exc}"
    build = f"the previous build{f' {previous_name}' if previous_name else ''}"
    if previous_commit is not None and not known:
        why = "this is a shallow clone" if shallow else "it was not fetched"
        also = "" if shallow else ", or point --previous at a build of this repository"
        return (
            f"git does not know {build}'s taxonomy commit {previous_commit} in {repo} ({why}); "
            f"the build credits every contribution merged since that commit: "
            f"{FULL_HISTORY}{also}. Nothing was generated or trained."
        )
    if previous_commit is None and shallow:
        return (
            f"{repo} is a shallow clone: a first build credits every contribution since the "
            f"first commit, and most of them are not here; {FULL_HISTORY}. Nothing was "
            "generated or trained."
        )
    return None


def _ask(git: object, commit: str | None) -> tuple[bool, bool]:
    """(is the clone shallow, does git know `commit`), in one process."""
    verify = ("--verify", "--quiet", f"{commit}^{{commit}}") if commit else ()
    status, out, err = execute(git, "rev-parse", "--is-shallow-repository", *verify)
    lines = out.decode("utf-8", "replace").split()
    if not lines or lines[0] not in ("true", "false"):
        raise ContributionError(f"git rev-parse failed ({err.strip() or 'no answer'})")
    return lines[0] == "true", status == 0 and len(lines) == 2
