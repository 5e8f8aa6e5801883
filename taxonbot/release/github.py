"""Tags, releases and release assets: a narrow port of their own, separate from the PR bot's.

`ReleasesPort` lists every call `taxonbot release cut` makes; `PyGithubReleases` implements it
over REST with the retry rules of the bot's adapter (pygithub.py): urllib3 never retries, reads
and idempotent writes are retried on 5xx and dropped connections, rate limits are waited out up
to a cap, and a POST that may have been stored (a release, an asset upload, a tag reference) is
looked for before it is sent again, so a 502 never leaves two of anything. `RecordingReleases`
keeps GitHub in memory for unit tests and offline plans; `DryRunReleases` reads through another
port and records the writes instead of making them.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any, Protocol, TypeVar

from taxonbot.github.port import Call, GitHubError

T = TypeVar("T")
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


# ---- in-process stand-ins --------------------------------------------------------------------


@dataclass
class _Stored:
    release: Release
    assets: list[Asset] = field(default_factory=list)


class RecordingReleases:
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


# ---- the PyGithub adapter --------------------------------------------------------------------


class _Unanswered(Exception):
    """A write may or may not have happened: 5xx or the connection dropped."""


class PyGithubReleases:
    def __init__(
        self,
        token: str,
        base_url: str = "https://api.github.com",
        retry_cap_s: float = 60,
        *,
        attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: int = 60,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
    ) -> None:
        from taxonbot.github.pygithub import PER_PAGE, ApiCalls, client  # lazy: `release cut` only

        self._gh = client(
            token, base_url, timeout_s, seconds_between_requests, seconds_between_writes
        )
        self.retry_cap_s, self.attempts = retry_cap_s, attempts
        self._sleep = sleep or time.sleep  # looked up now: a test's monkeypatch applies
        self._clock, self._per_page = clock, PER_PAGE
        self.api_calls = ApiCalls()

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> PyGithubReleases:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- tags ----------------------------------------------------------------------------
    def tag_commit(self, repo: str, tag: str) -> str | None:
        what = f"reading tag {tag} in {repo}"
        ref = self._repo(repo).get_git_ref(f"tags/{tag}")
        target = self._missing_as_none(what, lambda: ref.object)
        if target is None or target.type != "tag":
            return None if target is None else str(target.sha)
        peeled = self._send(False, what, lambda: self._repo(repo).get_git_tag(target.sha).object)
        return str(peeled.sha)

    def create_tag(self, repo: str, tag: str, commit: str, message: str) -> None:
        project = self._repo(repo)
        what = f"creating tag {tag} in {repo}"
        # A second tag object after a lost answer is harmless: only the reference names it.
        tag_object = self._send(
            True, what, lambda: project.create_git_tag(tag, message, commit, "commit")
        )
        reference = functools.partial(project.create_git_ref, f"refs/tags/{tag}", tag_object.sha)
        try:
            self._send(True, what, reference, repeat=False)
            return
        except _Unanswered:
            failure = GitHubError(f"GitHub did not answer {what}; re-run the release cut later")
        except GitHubError as exc:  # 422 "Reference already exists"
            failure = exc
        if self.tag_commit(repo, tag) != commit:  # a tag there at our commit is ours
            raise failure

    # ---- releases ------------------------------------------------------------------------
    def find_release(self, repo: str, tag: str) -> Release | None:
        pages = self._repo(repo).get_releases()
        for index in itertools.count():
            what = f"listing the releases of {repo}"
            page = self._send(False, what, functools.partial(pages.get_page, index))
            found = next((r for r in page if r.tag_name == tag), None)
            if found is not None:
                return _release(found)
            if len(page) < self._per_page:
                return None
        return None  # unreachable: itertools.count never ends

    def create_release(self, repo: str, tag: str, commit: str, title: str, body: str) -> Release:
        what = f"creating the release of {tag} in {repo}"
        create = functools.partial(
            self._repo(repo).create_git_release,
            tag,
            name=title,
            message=body,
            draft=True,
            target_commitish=commit,
        )
        for attempt in range(1, self.attempts + 1):
            try:
                return _release(self._send(True, what, create, repeat=False))
            except _Unanswered:
                self._sleep(self._backoff(attempt))  # give a stored one time to be listed
                found = self.find_release(repo, tag)
                if found is not None:
                    return found
        raise GitHubError(f"GitHub did not answer {what} after {self.attempts} tries; re-run later")

    def edit_release(
        self, repo: str, release: Release, title: str, body: str, *, draft: bool
    ) -> None:
        edit = functools.partial(
            self._release_object(repo, release).update_release,
            title,
            body,
            draft=draft,
            prerelease=False,
            tag_name=release.tag,
        )
        self._send(True, f"updating the release of {release.tag} in {repo}", edit)

    def assets(self, repo: str, release: Release) -> list[Asset]:
        pages = self._release_object(repo, release).get_assets()
        found: list[Asset] = []
        for index in itertools.count():
            what = f"listing the assets of {release.tag} in {repo}"
            page = self._send(False, what, functools.partial(pages.get_page, index))
            found.extend(Asset(a.id, a.name, a.size, a.state) for a in page)
            if len(page) < self._per_page:
                return found
        return found

    def upload_asset(
        self, repo: str, release: Release, path: str, name: str, content_type: str
    ) -> Asset:
        what = f"uploading {name} to the release of {release.tag} in {repo}"
        target = self._release_object(repo, release)
        size = os.path.getsize(path)
        for attempt in range(1, self.attempts + 1):
            try:
                with open(path, "rb") as handle:  # a fresh handle per try: a retry starts at 0
                    upload = functools.partial(
                        target.upload_asset_from_memory, handle, size, name, content_type
                    )
                    done = self._send(True, what, upload, repeat=False)
                return Asset(done.id, done.name, done.size, done.state)
            except _Unanswered:
                self._sleep(self._backoff(attempt))
                stored = next((a for a in self.assets(repo, release) if a.name == name), None)
                if stored is not None and stored.state == UPLOADED and stored.size == size:
                    return stored  # it arrived; only the answer was lost
                if stored is not None:  # a broken-off upload keeps its name until deleted
                    self.delete_asset(repo, stored.id)
        raise GitHubError(f"GitHub did not answer {what} after {self.attempts} tries; re-run later")

    def delete_asset(self, repo: str, asset_id: int) -> None:
        from github.GitReleaseAsset import GitReleaseAsset

        asset = GitReleaseAsset(self._gh.requester, url=f"/repos/{repo}/releases/assets/{asset_id}")
        self._missing_as_none(
            f"deleting asset {asset_id} of {repo}", asset.delete_asset, write=True
        )

    # ---- one request, with the retry policy --------------------------------------------
    def _send(self, write: bool, what: str, request: Callable[[], T], *, repeat: bool = True) -> T:
        from taxonbot.github import pygithub

        later = "run the release cut later"
        policy = pygithub.Retry(
            self.attempts, self.retry_cap_s, self._sleep, self._clock, self.api_calls, later
        )
        try:
            return pygithub.send_with_retry(
                policy, write, what, request, repeat=repeat, refusal=_refusal, gave_up=_gave_up
            )
        except pygithub.Unanswered as exc:
            raise _Unanswered(what) from exc.__cause__

    def _backoff(self, attempt: int) -> float:
        return float(min(2 ** (attempt - 1), self.retry_cap_s))

    def _missing_as_none(
        self, what: str, request: Callable[[], T], *, write: bool = False
    ) -> T | None:
        try:
            return self._send(write, what, request)
        except GitHubError as exc:
            if getattr(exc.__cause__, "status", None) == 404:
                return None
            raise

    def _repo(self, repo: str) -> Any:
        return self._gh.get_repo(repo)  # lazy: no request

    def _release_object(self, repo: str, release: Release) -> Any:
        from github.GitRelease import GitRelease

        url = f"/repos/{repo}/releases/{release.id}"
        attributes = {"url": url, "upload_url": release.upload_url}
        return GitRelease(self._gh.requester, attributes=attributes, completed=False)


def _release(found: Any) -> Release:
    return Release(
        found.id, found.tag_name, found.name or "", found.body or "", found.draft, found.upload_url
    )


def _gave_up(what: str, attempts: int, failure: BaseException | None) -> str:
    said = f"{getattr(failure, 'status', '')} {type(failure).__name__}".strip()
    return (
        f"GitHub did not answer {what} after {attempts} tries (last: {said}); "
        "re-run the release cut later: it completes what is missing"
    )


def _refusal(what: str, exc: Any) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    hint = {
        401: "; the token is missing or expired",
        403: "; the job needs `contents: write`",
        404: "; check the repository exists and the token can see it",
        422: "; GitHub found it invalid or already there",
    }.get(exc.status, "")
    return f"GitHub refused {what}: {exc.status} {data.get('message') or ''}".rstrip() + hint
