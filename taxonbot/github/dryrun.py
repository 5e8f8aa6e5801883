"""The dry-run twin of a GitHub port: reads go through, writes are recorded and never sent.

`DryRun` wraps a `GitHubPort` so the comment and command jobs can show their plan before anyone
posts (the split of openedx-webhooks' `DryRunFixingActions`). `DryRunComments` is the part every
dry run of a comment writer shares (the announcement's `DryRunAnnounce` too): a comment write
becomes a `Call` in `calls`, and a created comment's id is `DRY_RUN_COMMENT_ID`.
"""

from __future__ import annotations

from collections.abc import Iterable

from taxonbot.github.port import Call, GitHubPort
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

DRY_RUN_COMMENT_ID = 0  # what a dry run's create_comment answers: no comment was made


class DryRunComments:
    """Comment writes, recorded in `calls` and never sent."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def create_comment(self, repo: str, number: int, body: str) -> int:
        self.calls.append(Call("create_comment", (repo, number, body)))
        return DRY_RUN_COMMENT_ID

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self.calls.append(Call("edit_comment", (repo, comment_id, body)))

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self.calls.append(Call("delete_comment", (repo, comment_id)))


class DryRun(DryRunComments):
    """Reads go to the wrapped port; writes are recorded in `calls` and never sent."""

    def __init__(self, port: GitHubPort) -> None:
        super().__init__()
        self.port = port

    def pull(self, repo: str, number: int) -> PrState:
        return self.port.pull(repo, number)

    def pulls_for_head(self, repo: str, head_sha: str, head_repo: str) -> list[int]:
        return self.port.pulls_for_head(repo, head_sha, head_repo)

    def viewer_login(self) -> str:
        return self.port.viewer_login()

    def pull_head(self, repo: str, number: int) -> PullHead | None:
        return self.port.pull_head(repo, number)

    def open_pulls(self, repo: str, head_label: str | None) -> list[PullHead]:
        return self.port.open_pulls(repo, head_label)

    def pull_files(self, repo: str, number: int) -> list[PullFile]:
        return self.port.pull_files(repo, number)

    def file_at(self, repo: str, path: str, ref: str) -> RepoFile | None:
        return self.port.file_at(repo, path, ref)

    def git_tree(self, repo: str, tree_sha: str, recursive: bool) -> GitTree | None:
        return self.port.git_tree(repo, tree_sha, recursive)

    def check_runs(self, repo: str, head_sha: str, name: str) -> list[CheckRunState]:
        return self.port.check_runs(repo, head_sha, name)

    def create_check_run(self, repo: str, request: CheckRunRequest) -> int:
        self.calls.append(Call("create_check_run", (repo, request)))
        return DRY_RUN_COMMENT_ID

    def update_check_run(
        self, repo: str, check_run_id: int, request: CheckRunRequest, annotations: list[Annotation]
    ) -> None:
        self.calls.append(Call("update_check_run", (repo, check_run_id, len(annotations))))

    def add_labels(self, repo: str, number: int, labels: Iterable[str]) -> None:
        self.calls.append(Call("add_labels", (repo, number, tuple(labels))))

    def remove_label(self, repo: str, number: int, label: str) -> None:
        self.calls.append(Call("remove_label", (repo, number, label)))

    def latest_run(self, repo: str, workflow_file: str, head_sha: str) -> WorkflowRun | None:
        return self.port.latest_run(repo, workflow_file, head_sha)

    def rerun(self, repo: str, run_id: int) -> None:
        self.calls.append(Call("rerun", (repo, run_id)))

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self.calls.append(Call("add_reaction", (repo, comment_id, content)))
