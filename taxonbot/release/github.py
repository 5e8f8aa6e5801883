"""`ReleasesPort` over the REST API through PyGithub, under the PR bot's retry rules.

The rules are taxonbot/github/retry.py's: urllib3 never retries, reads and idempotent writes are
retried on 5xx and dropped connections, rate limits are waited out up to a cap, and a POST that
may have been stored (a release, an asset upload, a tag reference) is looked for before it is
sent again, so a 502 never leaves two of anything. PyGithub itself is imported when the adapter
is made (retry.py says why).
"""

from __future__ import annotations

import functools
import os
from typing import Any

from taxonbot.github.port import GitHubError
from taxonbot.github.retry import PER_PAGE, RetryingClient, Unanswered, refused
from taxonbot.release.port import UPLOADED, Asset, Release

HINTS = {
    401: "; the token is missing or expired",
    403: "; the job needs `contents: write`",
    404: "; check the repository exists and the token can see it",
    422: "; GitHub found it invalid or already there",
}


class PyGithubReleases(RetryingClient):
    LATER = "re-run the release cut later: it completes what is missing"
    TIMEOUT_S = 60  # an asset upload is one long request

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
        except Unanswered:
            failure = GitHubError(f"GitHub did not answer {what}; {self.LATER}")
        except GitHubError as exc:  # 422 "Reference already exists"
            failure = exc
        if self.tag_commit(repo, tag) != commit:  # a tag there at our commit is ours
            raise failure

    # ---- releases ------------------------------------------------------------------------
    def find_release(self, repo: str, tag: str) -> Release | None:
        pages = self._repo(repo).get_releases()
        what = f"listing the releases of {repo}"
        index = 0
        while True:
            page = self._send(False, what, functools.partial(pages.get_page, index))
            found = next((r for r in page if r.tag_name == tag), None)
            if found is not None:
                return _release(found)
            if len(page) < PER_PAGE:
                return None
            index += 1

    def create_release(self, repo: str, tag: str, commit: str, title: str, body: str) -> Release:
        """A draft; after an unanswered POST, the release of the tag is looked for first."""
        what = f"creating the release of {tag} in {repo}"
        create = functools.partial(
            self._repo(repo).create_git_release,
            tag,
            name=title,
            message=body,
            draft=True,
            target_commitish=commit,
        )
        return self._write_once(
            what, lambda: _release(create()), functools.partial(self.find_release, repo, tag)
        )

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
        what = f"listing the assets of {release.tag} in {repo}"
        return [Asset(a.id, a.name, a.size, a.state) for a in self._pages(what, pages.get_page)]

    def upload_asset(
        self, repo: str, release: Release, path: str, name: str, content_type: str
    ) -> Asset:
        """After an unanswered upload, an asset of that name that arrived whole is ours; a
        broken-off one keeps its name until deleted, so it is deleted before the next try."""
        what = f"uploading {name} to the release of {release.tag} in {repo}"
        target = self._release_object(repo, release)
        size = os.path.getsize(path)

        def upload() -> Asset:
            with open(path, "rb") as handle:  # a fresh handle per try: a retry starts at 0
                done = target.upload_asset_from_memory(handle, size, name, content_type)
            return Asset(done.id, done.name, done.size, done.state)

        def find() -> Asset | None:
            stored = next((a for a in self.assets(repo, release) if a.name == name), None)
            if stored is not None and stored.state == UPLOADED and stored.size == size:
                return stored  # it arrived; only the answer was lost
            if stored is not None:
                self.delete_asset(repo, stored.id)
            return None

        return self._write_once(what, upload, find)

    def delete_asset(self, repo: str, asset_id: int) -> None:
        from github.GitReleaseAsset import GitReleaseAsset

        asset = GitReleaseAsset(self._gh.requester, url=f"/repos/{repo}/releases/assets/{asset_id}")
        self._missing_as_none(
            f"deleting asset {asset_id} of {repo}", asset.delete_asset, write=True
        )

    # ---- plumbing ------------------------------------------------------------------------
    def _refusal(self, what: str, exc: Any, needs: str | None) -> str:
        return refused(what, exc, HINTS.get(exc.status, ""))

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
