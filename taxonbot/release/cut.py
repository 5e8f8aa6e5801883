"""Publishing a release plan: GitHub brought to the plan through a `ReleasesPort`.

`publish` writes only what is missing (the tag, a draft release, each asset not yet there
whole, then the notes and publication), so a re-run after any failure finishes the job and
never makes a second release or a second copy of an asset. A tag or a published asset that
differs from the plan is refused, never moved or replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from taxonbot.release.manifest import ReleaseError, human_size
from taxonbot.release.notes import ReleasePlan, tag_message
from taxonbot.release.port import UPLOADED, Release, ReleasesPort


def publish(plan: ReleasePlan, repo: str, port: ReleasesPort, say: Callable[[str], None]) -> None:
    """Tag, draft release, assets, then publish. Safe to re-run after any failure."""
    remote = port.tag_commit(repo, plan.tag)
    if remote is None:
        say(f"create tag {plan.tag} at {plan.commit} on {repo}")
        port.create_tag(repo, plan.tag, plan.commit, tag_message(plan))
    elif remote != plan.commit:
        raise ReleaseError(
            f"tag {plan.tag} on {repo} points at {remote}, not at this build's commit "
            f"{plan.commit}; pass --tag with a new name (an existing tag is never moved)."
        )
    release = port.find_release(repo, plan.tag)
    if release is None:
        say(f"create draft release {plan.title!r}")
        release = port.create_release(repo, plan.tag, plan.commit, plan.title, plan.notes)
    _upload_missing(plan, repo, release, port, say)
    if release.draft or (release.title, release.body) != (plan.title, plan.notes):
        say(f"publish release {plan.title!r}" if release.draft else "update the release notes")
        port.edit_release(repo, release, plan.title, plan.notes, draft=False)


def _upload_missing(
    plan: ReleasePlan, repo: str, release: Release, port: ReleasesPort, say: Callable[[str], None]
) -> None:
    present = {a.name: a for a in port.assets(repo, release)}
    for asset in plan.assets:
        have = present.get(asset.name)
        if have is not None and have.state == UPLOADED and have.size == asset.size:
            continue
        if have is not None and have.state == UPLOADED and not release.draft:
            raise ReleaseError(
                f"the published release {plan.tag} already has a different {asset.name} "
                f"({human_size(have.size)}, here {human_size(asset.size)}); a published asset is "
                "never replaced: build again and release under a new tag."
            )
        if have is not None:
            say(f"remove the incomplete {asset.name} left by an earlier try")
            port.delete_asset(repo, have.id)
        say(f"upload {asset.name} ({human_size(asset.size)})")
        port.upload_asset(repo, release, asset.path, asset.name, asset.content_type)
