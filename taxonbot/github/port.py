"""What the bot asks of GitHub, as one narrow interface, and the error it raises.

`GitHubPort` lists every call the comment and command jobs make. `PyGithubAdapter`
(pygithub.py) implements it over REST; `InMemoryGitHub` (memory.py) keeps pull requests in
memory, for `taxonbot comment --local`, the demo and unit tests; `DryRun` (dryrun.py) reads
through another port and records the writes instead of making them. Each records its calls as
`Call` values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from taxonbot.errors import Refused
from taxonbot.github.records import (
    Annotation,
    CheckRunRequest,
    CheckRunState,
    GitTree,
    PullFile,
    PullHead,
    RepoFile,
    WorkflowRun,
)
from taxonbot.github.values import PrState

WRITES = frozenset(
    {
        "create_comment",
        "edit_comment",
        "delete_comment",
        "add_labels",
        "remove_label",
        "rerun",
        "add_reaction",
        "create_check_run",
        "update_check_run",
    }
)


class GitHubError(Refused):
    """GitHub failed in a way a person can act on; the CLI prints the message, no traceback."""


class RateLimitWaitTooLong(GitHubError):
    """GitHub asked us to wait longer than our cap; re-running the workflow later is the fix."""


class GitHubPort(Protocol):
    def pull(self, repo: str, number: int) -> PrState: ...

    def pulls_for_head(self, repo: str, head_sha: str, head_repo: str) -> list[int]: ...

    def create_comment(self, repo: str, number: int, body: str) -> int: ...

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None: ...

    def delete_comment(self, repo: str, comment_id: int) -> None: ...

    def add_labels(self, repo: str, number: int, labels: Iterable[str]) -> None: ...

    def remove_label(self, repo: str, number: int, label: str) -> None: ...

    def viewer_login(self) -> str: ...

    # ---- finding the pull request from trusted facts, and reading it as data -------------
    def pull_head(self, repo: str, number: int) -> PullHead | None:
        """The PR's head and base as the API reports them; None when there is no such PR."""
        ...

    def open_pulls(self, repo: str, head_label: str | None) -> list[PullHead]:
        """Open PRs into `repo`, filtered by `owner:branch` when given (a bounded number)."""
        ...

    def pull_files(self, repo: str, number: int) -> list[PullFile]:
        """The PR's changed files; GitHub lists at most 3,000."""
        ...

    def file_at(self, repo: str, path: str, ref: str) -> RepoFile | None:
        """A file's bytes at a commit; None when it does not exist there."""
        ...

    def git_tree(self, repo: str, tree_sha: str, recursive: bool) -> GitTree | None:
        """The tree of a commit (or a sub-tree by its sha), each entry with its git mode;
        None when there is no such tree."""
        ...

    # ---- the merge gate: a check run on the head commit ------------------------------------
    def check_runs(self, repo: str, head_sha: str, name: str) -> list[CheckRunState]: ...

    def create_check_run(self, repo: str, request: CheckRunRequest) -> int: ...

    def update_check_run(
        self, repo: str, check_run_id: int, request: CheckRunRequest, annotations: list[Annotation]
    ) -> None: ...

    # ---- the command job (`/taxonbot` comments) -----------------------------------------
    def latest_run(self, repo: str, workflow_file: str, head_sha: str) -> WorkflowRun | None:
        """The newest pull_request run of `workflow_file` for `head_sha`, or None."""
        ...

    def rerun(self, repo: str, run_id: int) -> None: ...

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None: ...


@dataclass(frozen=True)
class Call:
    """One port call as made: the method name and its arguments."""

    name: str
    args: tuple[object, ...]

    @property
    def is_write(self) -> bool:
        return self.name in WRITES
