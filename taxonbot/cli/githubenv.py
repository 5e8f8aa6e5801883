"""Which repository and token a command that can write to GitHub uses (release, announce)."""

from __future__ import annotations

from collections.abc import Mapping

from taxonbot.errors import UsageError


def write_target(
    repo: str | None, post: bool, env: Mapping[str, str], nothing_done: str
) -> tuple[str | None, str]:
    """`--repo` or `GITHUB_REPOSITORY`, and `GITHUB_TOKEN`; `--post` needs both.

    `nothing_done` ends the refusal ("nothing was posted"), so the reader knows nothing changed.
    """
    repo = repo or env.get("GITHUB_REPOSITORY") or None
    token = env.get("GITHUB_TOKEN", "")
    if post and (not repo or not token):
        missing = "--repo (or GITHUB_REPOSITORY)" if not repo else "GITHUB_TOKEN"
        raise UsageError(f"--post needs {missing}; {nothing_done}.")
    if repo is not None and repo.count("/") != 1:
        raise UsageError(f"--repo must be OWNER/NAME, not `{repo}`.")
    return repo, token
