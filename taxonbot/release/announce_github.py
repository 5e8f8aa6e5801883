"""What `taxonbot announce` asks of GitHub: a narrow port, its REST adapter and a dry run.

`AnnouncePort` lists every call the build announcement makes: read a merged pull request with
its comments, find the build's published release, and write our one comment per build.
`PyGithubAnnounce` is the PR bot's adapter (taxonbot/github/pygithub.py) with those two reads
added: the same retry rules, permission hints and comment POST that looks for a stored copy
before it posts again, so a 502 never leaves two comments. `DryRunAnnounce` reads through
another port and records the writes instead of making them. (Unit tests use an in-memory port,
tests/doubles/announce.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from taxonbot.github.dryrun import DryRunComments
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.github.values import Comment


@dataclass(frozen=True)
class MergedPull:
    number: int
    merged: bool
    merge_commit: str | None  # the commit the merge left on the base branch (merge or squash)
    comments: tuple[Comment, ...]


class AnnouncePort(Protocol):
    def viewer_login(self) -> str: ...

    def merged_pull(self, repo: str, number: int) -> MergedPull:
        """The pull request with its comments; GitHubError when GitHub refuses (404: gone)."""
        ...

    def release_url(self, repo: str, tag: str) -> str | None:
        """The web address of the tag's published release, or None (drafts do not count)."""
        ...

    def create_comment(self, repo: str, number: int, body: str) -> int: ...

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None: ...

    def delete_comment(self, repo: str, comment_id: int) -> None: ...


class DryRunAnnounce(DryRunComments):
    """Reads go to the wrapped port; writes are recorded in `calls` and never sent."""

    def __init__(self, port: AnnouncePort) -> None:
        super().__init__()
        self.port = port

    def viewer_login(self) -> str:
        return self.port.viewer_login()

    def merged_pull(self, repo: str, number: int) -> MergedPull:
        return self.port.merged_pull(repo, number)

    def release_url(self, repo: str, tag: str) -> str | None:
        return self.port.release_url(repo, tag)


class PyGithubAnnounce(PyGithubAdapter):
    """The PR bot's adapter and two reads; comment writes are the bot's own."""

    LATER = "re-run the announce job later"

    def merged_pull(self, repo: str, number: int) -> MergedPull:
        """One request for the pull request, one per 100 comments."""
        what = f"reading pull request {number} of {repo}"
        pr = self._send(False, what, self._repo(repo).get_pull(number).complete, needs="read")
        sha = pr.merge_commit_sha if isinstance(pr.merge_commit_sha, str) else None
        return MergedPull(number, bool(pr.merged), sha, self._comments(repo, number))

    def release_url(self, repo: str, tag: str) -> str | None:
        """GET /releases/tags/{tag}: GitHub answers published releases only, 404 otherwise."""
        what = f"looking for the release of {tag} in {repo}"
        request = self._repo(repo).get_release
        release = self._missing_as_none(what, lambda: request(tag), needs="contents")
        url = None if release is None else release.html_url
        return url if isinstance(url, str) and release is not None and not release.draft else None
