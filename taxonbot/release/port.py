"""Tags, releases and release assets: a narrow port of their own, separate from the PR bot's.

`ReleasesPort` lists every call `taxonbot release cut` makes, in the values below.
`PyGithubReleases` (github.py) implements it over REST; `InMemoryReleases` (memory.py) keeps
GitHub's releases in memory, for the release cut's offline dry run and unit tests;
`DryRunReleases` reads through another port and records the writes instead of making them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from taxonbot.github.port import Call

RELEASE_WRITES = frozenset(
    {"create_tag", "create_release", "edit_release", "upload_asset", "delete_asset"}
)
DRY_RUN_RELEASE_ID = 0  # what DryRunReleases.create_release answers: no release was made
UPLOADED = "uploaded"  # an asset's state once complete; GitHub leaves "starter" after a break


@dataclass(frozen=True)
class Asset:
    id: int
    name: str
    size: int
    state: str = UPLOADED


@dataclass(frozen=True)
class Release:
    id: int
    tag: str
    title: str
    body: str
    draft: bool
    upload_url: str = ""


class ReleasesPort(Protocol):
    def tag_commit(self, repo: str, tag: str) -> str | None:
        """The commit a tag on GitHub points at (annotated tags peeled), or None."""
        ...

    def create_tag(self, repo: str, tag: str, commit: str, message: str) -> None:
        """An annotated tag object and its refs/tags/ reference."""
        ...

    def find_release(self, repo: str, tag: str) -> Release | None:
        """The release of a tag, drafts included (GitHub's by-tag lookup skips drafts)."""
        ...

    def create_release(self, repo: str, tag: str, commit: str, title: str, body: str) -> Release:
        """A draft release, so nobody sees it before its assets are there."""
        ...

    def edit_release(
        self, repo: str, release: Release, title: str, body: str, *, draft: bool
    ) -> None: ...

    def assets(self, repo: str, release: Release) -> list[Asset]: ...

    def upload_asset(
        self, repo: str, release: Release, path: str, name: str, content_type: str
    ) -> Asset: ...

    def delete_asset(self, repo: str, asset_id: int) -> None: ...


class DryRunReleases:
    """Reads go to the wrapped port; writes are recorded in `calls` and never sent."""

    def __init__(self, port: ReleasesPort) -> None:
        self.port = port
        self.calls: list[Call] = []

    def tag_commit(self, repo: str, tag: str) -> str | None:
        return self.port.tag_commit(repo, tag)

    def create_tag(self, repo: str, tag: str, commit: str, message: str) -> None:
        self.calls.append(Call("create_tag", (repo, tag, commit)))

    def find_release(self, repo: str, tag: str) -> Release | None:
        return self.port.find_release(repo, tag)

    def create_release(self, repo: str, tag: str, commit: str, title: str, body: str) -> Release:
        self.calls.append(Call("create_release", (repo, tag, commit, title)))
        return Release(DRY_RUN_RELEASE_ID, tag, title, body, draft=True)

    def edit_release(
        self, repo: str, release: Release, title: str, body: str, *, draft: bool
    ) -> None:
        self.calls.append(Call("edit_release", (repo, release.id, title, draft)))

    def assets(self, repo: str, release: Release) -> list[Asset]:
        return [] if release.id == DRY_RUN_RELEASE_ID else self.port.assets(repo, release)

    def upload_asset(
        self, repo: str, release: Release, path: str, name: str, content_type: str
    ) -> Asset:
        self.calls.append(Call("upload_asset", (repo, release.id, name, content_type)))
        return Asset(DRY_RUN_RELEASE_ID, name, os.path.getsize(path))

    def delete_asset(self, repo: str, asset_id: int) -> None:
        self.calls.append(Call("delete_asset", (repo, asset_id)))
