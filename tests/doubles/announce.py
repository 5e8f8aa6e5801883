"""`AnnouncePort` in memory, for the announcement's unit tests (tests/release/test_announce.py).

Merged pull requests, their comments and the published releases are dictionaries: arrange a
story, run the code, read `calls` and the state. `refusing` makes GitHub refuse one pull request
with a message, as a 403 or a vanished PR would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.port import Call, GitHubError
from taxonbot.github.values import Comment
from taxonbot.release.announce_github import MergedPull

ANNOUNCE_WRITES = frozenset({"create_comment", "edit_comment", "delete_comment"})


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
