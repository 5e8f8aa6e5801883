"""What `taxonbot announce` asks of GitHub: a narrow port, its REST adapter and two stand-ins.

`AnnouncePort` lists every call the build announcement makes: read a merged pull request with
its comments, find the build's published release, and write our one comment per build.
`PyGithubAnnounce` implements it with the PR bot's rules (pygithub.py): reads are retried on 5xx
and dropped connections, rate limits waited out up to a cap, and the writes go through
`PyGithubAdapter`, whose comment POST looks for a stored copy before it posts again, so a 502
never leaves two comments. `RecordingPulls` keeps pull requests in memory for unit tests;
`DryRunAnnounce` reads through another port and records the writes instead of making them.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol, TypeVar

from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.port import Call, GitHubError
from taxonbot.github.values import Comment

T = TypeVar("T")
ANNOUNCE_WRITES = frozenset({"create_comment", "edit_comment", "delete_comment"})
DRY_RUN_COMMENT_ID = 0  # what DryRunAnnounce.create_comment answers: no comment was made


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


# ---- in-process stand-ins --------------------------------------------------------------------


@dataclass
class _Pull:
    merged: bool
    merge_commit: str | None
    comments: list[Comment] = field(default_factory=list)


class RecordingPulls:
    """Merged pull requests and releases as dictionaries: arrange, run, read `calls`."""

    def __init__(self, login: str = BOT_LOGIN) -> None:
        self.login = login
        self.calls: list[Call] = []
        self.pulls: dict[tuple[str, int], _Pull] = {}
        self.releases: dict[tuple[str, str], str] = {}  # (repo, tag) -> web address
        self.refusing: dict[tuple[str, int], str] = {}  # (repo, PR) -> why GitHub refuses it
        self._ids = itertools.count(1)

    def add_pull(self, repo: str, number: int, merge_commit: str, *, merged: bool = True) -> None:
        self.pulls[(repo, number)] = _Pull(merged, merge_commit if merged else None)

    def add_comment(self, repo: str, number: int, author: str, body: str) -> int:
        comment = Comment(next(self._ids), author, body)
        self.pulls[(repo, number)].comments.append(comment)
        return comment.id

    def bodies(self, repo: str, number: int) -> list[str]:
        return [c.body for c in self.pulls[(repo, number)].comments]

    @property
    def writes(self) -> list[Call]:
        return [call for call in self.calls if call.name in ANNOUNCE_WRITES]

    def viewer_login(self) -> str:
        self.calls.append(Call("viewer_login", ()))
        return self.login

    def merged_pull(self, repo: str, number: int) -> MergedPull:
        self.calls.append(Call("merged_pull", (repo, number)))
        pull = self._pull(repo, number)
        return MergedPull(number, pull.merged, pull.merge_commit, tuple(pull.comments))

    def release_url(self, repo: str, tag: str) -> str | None:
        self.calls.append(Call("release_url", (repo, tag)))
        return self.releases.get((repo, tag))

    def create_comment(self, repo: str, number: int, body: str) -> int:
        self.calls.append(Call("create_comment", (repo, number, body)))
        self._pull(repo, number)
        return self.add_comment(repo, number, self.login, body)

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self.calls.append(Call("edit_comment", (repo, comment_id, body)))
        pull, index = self._comment(repo, comment_id)
        old = pull.comments[index]
        pull.comments[index] = Comment(old.id, old.author, body)

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self.calls.append(Call("delete_comment", (repo, comment_id)))
        pull, index = self._comment(repo, comment_id)
        del pull.comments[index]

    def _pull(self, repo: str, number: int) -> _Pull:
        if (repo, number) in self.refusing:
            raise GitHubError(self.refusing[(repo, number)])
        if (repo, number) not in self.pulls:
            raise GitHubError(f"GitHub refused reading pull request {number} of {repo}: 404")
        return self.pulls[(repo, number)]

    def _comment(self, repo: str, comment_id: int) -> tuple[_Pull, int]:
        for (r, _), pull in self.pulls.items():
            for index, comment in enumerate(pull.comments):
                if r == repo and comment.id == comment_id:
                    return pull, index
        raise GitHubError(f"comment {comment_id} is not in {repo}")


class DryRunAnnounce:
    """Reads go to the wrapped port; writes are recorded in `calls` and never sent."""

    def __init__(self, port: AnnouncePort) -> None:
        self.port = port
        self.calls: list[Call] = []

    def viewer_login(self) -> str:
        return self.port.viewer_login()

    def merged_pull(self, repo: str, number: int) -> MergedPull:
        return self.port.merged_pull(repo, number)

    def release_url(self, repo: str, tag: str) -> str | None:
        return self.port.release_url(repo, tag)

    def create_comment(self, repo: str, number: int, body: str) -> int:
        self.calls.append(Call("create_comment", (repo, number, body)))
        return DRY_RUN_COMMENT_ID

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self.calls.append(Call("edit_comment", (repo, comment_id, body)))

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self.calls.append(Call("delete_comment", (repo, comment_id)))


# ---- the PyGithub adapter --------------------------------------------------------------------


class PyGithubAnnounce:
    """Reads through its own PyGithub client; comment writes through `PyGithubAdapter`."""

    def __init__(
        self,
        token: str,
        base_url: str = "https://api.github.com",
        retry_cap_s: float = 60,
        *,
        login: str | None = None,
        attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: int = 30,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
    ) -> None:
        from taxonbot.github.pygithub import (  # lazy: announce only
            ApiCalls,
            PyGithubAdapter,
            client,
        )

        pacing = {
            "seconds_between_requests": seconds_between_requests,
            "seconds_between_writes": seconds_between_writes,
        }
        self._writer = PyGithubAdapter(
            token,
            base_url,
            retry_cap_s,
            login=login,
            attempts=attempts,
            sleep=sleep,
            clock=clock,
            timeout_s=timeout_s,
            **pacing,
        )
        self._gh = client(token, base_url, timeout_s, **pacing)
        self.retry_cap_s, self.attempts = retry_cap_s, attempts
        self._sleep = sleep or time.sleep  # looked up now: a test's monkeypatch applies
        self._clock = clock
        self._reads = ApiCalls()

    @property
    def api_calls(self) -> str:
        calls = self._writer.api_calls
        return (
            f"{self._reads.reads + calls.reads} reads, {self._reads.writes + calls.writes} writes"
        )

    def close(self) -> None:
        self._gh.close()
        self._writer.close()

    def __enter__(self) -> PyGithubAnnounce:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- reads ---------------------------------------------------------------------------
    def viewer_login(self) -> str:
        return self._writer.viewer_login()

    def merged_pull(self, repo: str, number: int) -> MergedPull:
        """One request for the pull request, one per 100 comments."""
        from taxonbot.github.pygithub import PER_PAGE

        pr = self._send(f"reading pull request {number} of {repo}", self._pull(repo, number))
        pages = self._gh.get_repo(repo).get_issue(number).get_comments()
        comments: list[Comment] = []
        for index in itertools.count():
            what = f"listing the comments on pull request {number} of {repo}"
            page = self._send(what, functools.partial(pages.get_page, index))
            comments += [Comment(c.id, c.user.login if c.user else "", c.body or "") for c in page]
            if len(page) < PER_PAGE:
                break
        sha = pr.merge_commit_sha if isinstance(pr.merge_commit_sha, str) else None
        return MergedPull(number, bool(pr.merged), sha, tuple(comments))

    def release_url(self, repo: str, tag: str) -> str | None:
        """GET /releases/tags/{tag}: GitHub answers published releases only, 404 otherwise."""
        what = f"looking for the release of {tag} in {repo}"
        try:
            release = self._send(what, lambda: self._gh.get_repo(repo).get_release(tag))
        except GitHubError as exc:
            if getattr(exc.__cause__, "status", None) == 404:
                return None
            raise
        url = release.html_url
        return url if isinstance(url, str) and not release.draft else None

    # ---- writes: the PR bot's adapter, with its look-before-posting-again ---------------------
    def create_comment(self, repo: str, number: int, body: str) -> int:
        return self._writer.create_comment(repo, number, body)

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self._writer.edit_comment(repo, comment_id, body)

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self._writer.delete_comment(repo, comment_id)

    # ---- one read, with the retry policy -------------------------------------------------
    def _pull(self, repo: str, number: int) -> Callable[[], Any]:
        return self._gh.get_repo(repo).get_pull(number).complete  # lazy until called

    def _send(self, what: str, request: Callable[[], T]) -> T:
        from taxonbot.github import pygithub

        later = "re-run the announce job later"
        policy = pygithub.Retry(
            self.attempts, self.retry_cap_s, self._sleep, self._clock, self._reads, later
        )
        return pygithub.send_with_retry(policy, False, what, request, refusal=_refusal)


def _refusal(what: str, exc: Any) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    hint = {
        401: "; the token is missing or expired",
        403: "; the job needs `pull-requests: write` and `contents: read`",
        404: "; it may have been deleted, or the token cannot see it",
    }.get(exc.status, "")
    return f"GitHub refused {what}: {exc.status} {data.get('message') or ''}".rstrip() + hint
