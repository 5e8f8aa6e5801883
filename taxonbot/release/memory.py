"""GitHub's tags, releases and assets as dictionaries: a product feature, not only a double.

`InMemoryReleases` implements `ReleasesPort` in memory and records each call (`calls`,
`writes`). `taxonbot release cut` without a token plans against an empty one wrapped in
`DryRunReleases` ("a repository with no release yet"); unit tests arrange a story with it, and
`failing_uploads` makes an upload fail once, as a dropped connection would.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field, replace

from taxonbot.github.port import Call, GitHubError
from taxonbot.release.port import RELEASE_WRITES, Asset, Release


@dataclass
class _Stored:
    release: Release
    assets: list[Asset] = field(default_factory=list)


class InMemoryReleases:
    """GitHub's releases as dictionaries: arrange, run the code, read `calls` and the state."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.tags: dict[tuple[str, str], tuple[str, str]] = {}  # (repo, tag) -> (commit, message)
        self.releases: dict[int, tuple[str, _Stored]] = {}  # id -> (repo, release and assets)
        self.failing_uploads: set[str] = set()  # asset names whose next upload fails
        self._ids = itertools.count(1)

    @property
    def writes(self) -> list[Call]:
        return [call for call in self.calls if call.name in RELEASE_WRITES]

    def tag_commit(self, repo: str, tag: str) -> str | None:
        self.calls.append(Call("tag_commit", (repo, tag)))
        found = self.tags.get((repo, tag))
        return found[0] if found else None

    def create_tag(self, repo: str, tag: str, commit: str, message: str) -> None:
        self.calls.append(Call("create_tag", (repo, tag, commit)))
        if (repo, tag) in self.tags:
            raise GitHubError(f"tag {tag} already exists in {repo}")
        self.tags[(repo, tag)] = (commit, message)

    def find_release(self, repo: str, tag: str) -> Release | None:
        self.calls.append(Call("find_release", (repo, tag)))
        found = (s.release for r, s in self.releases.values() if (r, s.release.tag) == (repo, tag))
        return next(found, None)

    def create_release(self, repo: str, tag: str, commit: str, title: str, body: str) -> Release:
        self.calls.append(Call("create_release", (repo, tag, commit, title)))
        release = Release(next(self._ids), tag, title, body, draft=True)
        self.releases[release.id] = (repo, _Stored(release))
        return release

    def edit_release(
        self, repo: str, release: Release, title: str, body: str, *, draft: bool
    ) -> None:
        self.calls.append(Call("edit_release", (repo, release.id, title, draft)))
        stored = self._stored(repo, release.id)
        stored.release = replace(stored.release, title=title, body=body, draft=draft)

    def assets(self, repo: str, release: Release) -> list[Asset]:
        self.calls.append(Call("assets", (repo, release.id)))
        return list(self._stored(repo, release.id).assets)

    def upload_asset(
        self, repo: str, release: Release, path: str, name: str, content_type: str
    ) -> Asset:
        self.calls.append(Call("upload_asset", (repo, release.id, name, content_type)))
        stored = self._stored(repo, release.id)
        if name in self.failing_uploads:
            self.failing_uploads.discard(name)
            raise GitHubError(f"GitHub did not answer uploading {name}")
        if any(a.name == name for a in stored.assets):
            raise GitHubError(f"asset {name} already exists on release {release.id}")
        asset = Asset(next(self._ids), name, os.path.getsize(path))
        stored.assets.append(asset)
        return asset

    def delete_asset(self, repo: str, asset_id: int) -> None:
        self.calls.append(Call("delete_asset", (repo, asset_id)))
        for r, stored in self.releases.values():
            if r == repo:
                stored.assets = [a for a in stored.assets if a.id != asset_id]

    def _stored(self, repo: str, release_id: int) -> _Stored:
        if release_id not in self.releases or self.releases[release_id][0] != repo:
            raise GitHubError(f"release {release_id} is not in {repo}")
        return self.releases[release_id][1]
