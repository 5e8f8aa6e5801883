"""Build tags in the local clone: the build's commit, the previous build tag, this one's tag.

A build is tagged `TAG_PREFIX` + its version, annotated; the previous build tag (the nearest one
behind the build's taxonomy commit) is where its credited contributions start. An existing tag
is never moved: a tag here at another commit is refused with what to do instead.
"""

from __future__ import annotations

from taxonbot.release.manifest import TAG_PREFIX, VERSION, ReleaseError, ReleaseUsageError
from taxonbot.taxonomy.contributions import execute, open_git


def check_tag_name(tag: str) -> None:
    well_formed = VERSION.match(tag) and ".." not in tag and not tag.endswith(".lock")
    if not tag.startswith(TAG_PREFIX) or len(tag) == len(TAG_PREFIX) or not well_formed:
        raise ReleaseUsageError(
            f"`{tag}` cannot be a build tag: use {TAG_PREFIX}<letters, digits, . _ -> so the "
            "next release cut finds it."
        )


def check_build_commit(repo_dir: str, commit: str) -> None:
    """The build's taxonomy commit must be here, and on the checked-out history."""
    status, _, err = execute(open_git(repo_dir), "merge-base", "--is-ancestor", commit, "HEAD")
    if status == 1:
        raise ReleaseError(
            f"the build's taxonomy commit {commit} is not in the history of HEAD; check out "
            "main (the branch the build was made from) and run again."
        )
    if status != 0:
        raise ReleaseError(
            f"the build's taxonomy commit {commit} is not in this clone ({_last(err)}); fetch "
            "the full history (`git fetch origin main`, or actions/checkout with fetch-depth: 0)."
        )


def previous_build_tag(repo_dir: str, commit: str, exclude: str) -> str | None:
    """The nearest annotated build-* tag reachable from `commit`, other than `exclude`."""
    git = open_git(repo_dir)
    pattern = f"{TAG_PREFIX}*"
    status, out, err = execute(
        git, "describe", "--abbrev=0", f"--match={pattern}", f"--exclude={exclude}", commit
    )
    if status == 0:
        return out.decode("utf-8", "replace").strip()
    if "No names found" in err or "can describe" in err:
        return None  # no build was tagged before: credit everything since the first commit
    raise ReleaseError(f"git could not find the previous build tag ({_last(err)}).")


def ensure_local_tag(
    repo_dir: str, tag: str, commit: str, message: str, *, dry_run: bool = False
) -> bool:
    """Create the annotated tag unless it is already there at `commit`; True if it was not
    there (and, unless `dry_run`, is now)."""
    git = open_git(repo_dir)
    status, out, _ = execute(git, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    if status == 0:
        here = out.decode().strip()
        if here != commit:
            raise ReleaseError(
                f"tag {tag} already exists here at {here}, not at the build's commit {commit}; "
                "pass --tag with a new name (an existing tag is never moved)."
            )
        return False
    if dry_run:
        return True
    status, _, err = execute(
        git, "tag", "--annotate", "--cleanup=verbatim", "--message", message, tag, commit
    )
    if status != 0:
        unknown = "identity" in err or "tell me who" in err.lower()
        hint = " (set `git config user.name` and `user.email` first)" if unknown else ""
        raise ReleaseError(f"git could not create tag {tag}: {_last(err)}{hint}.")
    return True


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no detail"
