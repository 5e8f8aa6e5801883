"""GitHub as a few dictionaries: a product feature, not only a test double.

`InMemoryGitHub` implements `GitHubPort` over pull requests, comments, check runs and workflow
runs kept in memory, and records each call (`calls`, `writes`). `taxonbot comment --local` and
the demo (scripts/demo.sh) run the whole comment job against it, so a person sees the comment,
labels and gate a result would get without a token; unit tests arrange a story with it and read
the state.
It behaves as GitHub does where the bot depends on it (tests/doubles/fake_github.py documents those
answers): commit -> pulls is empty for a fork's commit, a removed label that is not there is no
error, a comment in another repository is refused.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field

from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.port import Call, GitHubError
from taxonbot.github.records import (
    Annotation,
    CheckRunRequest,
    CheckRunState,
    GitTree,
    PullFile,
    PullHead,
    RepoFile,
    TreeEntry,
    WorkflowRun,
)
from taxonbot.github.values import Comment, PrState


@dataclass
class _Pull:
    head_sha: str
    head_repo: str | None  # None: the fork was deleted
    head_ref: str = "topic"
    state: str = "open"
    merged: bool = False
    labels: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)  # every head it had: GitHub still links them
    files: dict[str, bytes | None] = field(default_factory=dict)  # path -> bytes; None: removed


class InMemoryGitHub:
    """GitHub as a few dictionaries: arrange a PR, run the code, read `calls` and the state."""

    def __init__(self, login: str = BOT_LOGIN) -> None:
        self.login = login
        self.calls: list[Call] = []
        self.pulls: dict[tuple[str, int], _Pull] = {}
        self.comments: dict[int, tuple[str, int, Comment]] = {}  # id -> (repo, number, comment)
        self.runs: dict[tuple[str, str, str], list[int]] = {}  # (repo, file, head) -> run ids
        self.reruns: dict[tuple[str, int], int] = {}  # (repo, run id) -> times re-run
        self.reactions: list[tuple[str, int, str]] = []  # (repo, comment id, content)
        self.contents: dict[tuple[str, str, str], bytes] = {}  # (repo, sha, path) -> bytes
        # (repo, sha, path) -> git's mode where it is no plain file: 120000 a symbolic link (its
        # contents: the target), 160000 a submodule
        self.modes: dict[tuple[str, str, str], str] = {}
        self._trees: dict[str, tuple[str, str, str]] = {}  # sub-tree sha -> (repo, sha, folder)
        self.check_run_log: dict[int, tuple[str, CheckRunRequest, list[Annotation]]] = {}
        self._next_id = 1

    # ---- arranging a story --------------------------------------------------------------
    def add_pull(
        self,
        repo: str,
        number: int,
        head_sha: str,
        *,
        head_repo: str | None = None,
        labels: Iterable[str] = (),
        head_ref: str = "topic",
        files: dict[str, bytes | None] | None = None,
    ) -> None:
        pull = _Pull(head_sha, head_repo or repo, head_ref, labels=list(labels), shas=[head_sha])
        self.pulls[(repo, number)] = pull
        self.set_files(repo, number, files or {})

    def set_files(self, repo: str, number: int, files: dict[str, bytes | None]) -> None:
        """The PR's changed files at its current head (None: the PR removes the file)."""
        pull = self.pulls[(repo, number)]
        pull.files = dict(files)
        for path, data in files.items():
            if data is not None:
                self.contents[(repo, pull.head_sha, path)] = data

    def add_link(self, repo: str, sha: str, path: str, target: str, mode: str = "120000") -> None:
        """`path` at `sha` is a symbolic link to `target` (mode 160000: a submodule)."""
        self.contents[(repo, sha, path)] = target.encode()
        self.modes[(repo, sha, path)] = mode

    def add_comment(self, repo: str, number: int, author: str, body: str) -> int:
        comment_id, self._next_id = self._next_id, self._next_id + 1
        self.comments[comment_id] = (repo, number, Comment(comment_id, author, body))
        return comment_id

    def push(self, repo: str, number: int, head_sha: str) -> None:
        pull = self.pulls[(repo, number)]
        pull.head_sha = head_sha
        pull.shas.append(head_sha)

    def close(self, repo: str, number: int, *, merged: bool = False) -> None:
        pull = self.pulls[(repo, number)]
        pull.state, pull.merged = "closed", merged

    def add_run(self, repo: str, workflow_file: str, head_sha: str, run_id: int) -> None:
        self.runs.setdefault((repo, workflow_file, head_sha), []).append(run_id)

    @property
    def writes(self) -> list[Call]:
        return [call for call in self.calls if call.is_write]

    def bodies(self, repo: str, number: int) -> list[str]:
        return [c.body for r, n, c in self.comments.values() if (r, n) == (repo, number)]

    # ---- the port -----------------------------------------------------------------------
    def pull(self, repo: str, number: int) -> PrState:
        self.calls.append(Call("pull", (repo, number)))
        pull = self._pull(repo, number)
        comments = tuple(c for r, n, c in self.comments.values() if (r, n) == (repo, number))
        return PrState(
            number, pull.state, pull.merged, pull.head_sha, frozenset(pull.labels), comments
        )

    def pulls_for_head(self, repo: str, head_sha: str, head_repo: str) -> list[int]:
        """GitHub's commit -> pulls answers [] for a commit only in a fork
        (tests/doubles/fake_github.py says where that is documented); so does this stand-in."""
        self.calls.append(Call("pulls_for_head", (repo, head_sha, head_repo)))
        return sorted(
            number
            for (r, number), pull in self.pulls.items()
            if r == repo
            and head_sha in pull.shas
            and pull.head_repo is not None
            and pull.head_repo.casefold() == repo.casefold() == head_repo.casefold()
            and (pull.state == "open" or pull.merged)
        )

    def pull_head(self, repo: str, number: int) -> PullHead | None:
        self.calls.append(Call("pull_head", (repo, number)))
        pull = self.pulls.get((repo, number))
        return None if pull is None else self._head(repo, number, pull)

    def open_pulls(self, repo: str, head_label: str | None) -> list[PullHead]:
        self.calls.append(Call("open_pulls", (repo, head_label)))
        found = []
        for (r, number), pull in sorted(self.pulls.items()):
            owner = (pull.head_repo or "").split("/")[0]
            label = f"{owner}:{pull.head_ref}"
            if r == repo and pull.state == "open" and head_label in (None, label):
                found.append(self._head(repo, number, pull))
        return found

    def pull_files(self, repo: str, number: int) -> list[PullFile]:
        self.calls.append(Call("pull_files", (repo, number)))
        files = self._pull(repo, number).files
        return [PullFile(p, "removed" if d is None else "modified") for p, d in files.items()]

    def file_at(self, repo: str, path: str, ref: str) -> RepoFile | None:
        self.calls.append(Call("file_at", (repo, path, ref)))
        data = self.contents.get((repo, ref, path))
        mode = self.modes.get((repo, ref, path))
        if mode == "120000" and data is not None:
            # GitHub answers a link to a plain file with that file's content, anything else
            # with no file (docs.github.com/rest/repos/contents, "Get repository content").
            target = posixpath.normpath(posixpath.join(posixpath.dirname(path), data.decode()))
            plain = (repo, ref, target) not in self.modes
            data = self.contents.get((repo, ref, target)) if plain else None
        elif mode is not None:
            data = None
        return None if data is None else RepoFile(path, len(data), data)

    def git_tree(self, repo: str, tree_sha: str, recursive: bool) -> GitTree | None:
        """A commit's tree (or a sub-tree by the sha an entry gave), as "Get a tree" lists it;
        never truncated here."""
        self.calls.append(Call("git_tree", (repo, tree_sha, recursive)))
        repo, sha, folder = self._trees.get(tree_sha, (repo, tree_sha, ""))
        here = [p for r, s, p in self.contents if (r, s) == (repo, sha)]
        paths = {p: self.modes.get((repo, sha, p), "100644") for p in here}
        if not paths and not any(sha in pull.shas for pull in self.pulls.values()):
            return None
        prefix = f"{folder}/" if folder else ""
        entries: dict[str, TreeEntry] = {}
        for path, mode in sorted(paths.items()):
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            for depth in range(1, len(parts) + 1 if recursive else 2):
                name = "/".join(parts[:depth])
                if name not in entries:
                    entries[name] = self._entry(repo, sha, prefix + name, name, path, mode)
        return GitTree(tuple(entries.values()), truncated=False)

    def _entry(self, repo: str, sha: str, full: str, name: str, file: str, mode: str) -> TreeEntry:
        if full == file:
            return TreeEntry(name, mode, _sha(full))
        tree = _sha(f"{repo}:{sha}:{full}")
        self._trees[tree] = (repo, sha, full)
        return TreeEntry(name, "040000", tree)

    def check_runs(self, repo: str, head_sha: str, name: str) -> list[CheckRunState]:
        self.calls.append(Call("check_runs", (repo, head_sha, name)))
        return [
            CheckRunState(i, r.name, "completed", r.conclusion, r.external_id, "github-actions")
            for i, (rr, r, _) in sorted(self.check_run_log.items(), reverse=True)
            if rr == repo and r.head_sha == head_sha and r.name == name
        ]

    def create_check_run(self, repo: str, request: CheckRunRequest) -> int:
        self.calls.append(Call("create_check_run", (repo, request)))
        check_id, self._next_id = self._next_id, self._next_id + 1
        self.check_run_log[check_id] = (repo, request, list(request.annotations[:50]))
        return check_id

    def update_check_run(
        self, repo: str, check_run_id: int, request: CheckRunRequest, annotations: list[Annotation]
    ) -> None:
        self.calls.append(Call("update_check_run", (repo, check_run_id, len(annotations))))
        self.check_run_log[check_run_id][2].extend(annotations)

    def _head(self, repo: str, number: int, pull: _Pull) -> PullHead:
        return PullHead(
            number,
            pull.state,
            pull.merged,
            pull.head_sha,
            pull.head_repo,
            pull.head_ref,
            repo,
            len(pull.files),
        )

    def create_comment(self, repo: str, number: int, body: str) -> int:
        self.calls.append(Call("create_comment", (repo, number, body)))
        self._pull(repo, number)
        return self.add_comment(repo, number, self.login, body)

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        self.calls.append(Call("edit_comment", (repo, comment_id, body)))
        if comment_id not in self.comments or self.comments[comment_id][0] != repo:
            raise GitHubError(f"comment {comment_id} is not in {repo}")
        r, number, old = self.comments[comment_id]
        self.comments[comment_id] = (r, number, Comment(comment_id, old.author, body))

    def delete_comment(self, repo: str, comment_id: int) -> None:
        self.calls.append(Call("delete_comment", (repo, comment_id)))
        if comment_id not in self.comments or self.comments[comment_id][0] != repo:
            raise GitHubError(f"comment {comment_id} is not in {repo}")
        del self.comments[comment_id]

    def add_labels(self, repo: str, number: int, labels: Iterable[str]) -> None:
        wanted = tuple(labels)
        self.calls.append(Call("add_labels", (repo, number, wanted)))
        present = self._pull(repo, number).labels
        present.extend(label for label in wanted if label not in present)

    def remove_label(self, repo: str, number: int, label: str) -> None:
        self.calls.append(Call("remove_label", (repo, number, label)))
        present = self._pull(repo, number).labels
        if label in present:  # GitHub answers 404 here; the adapter treats that as done
            present.remove(label)

    def viewer_login(self) -> str:
        self.calls.append(Call("viewer_login", ()))
        return self.login

    def latest_run(self, repo: str, workflow_file: str, head_sha: str) -> WorkflowRun | None:
        self.calls.append(Call("latest_run", (repo, workflow_file, head_sha)))
        newest = max(self.runs.get((repo, workflow_file, head_sha), []), default=None)
        if newest is None:
            return None
        return WorkflowRun(newest, "queued" if self.reruns.get((repo, newest)) else "completed")

    def rerun(self, repo: str, run_id: int) -> None:
        self.calls.append(Call("rerun", (repo, run_id)))
        if not any(r == repo and run_id in ids for (r, _, _), ids in self.runs.items()):
            raise GitHubError(f"run {run_id} is not in {repo}")
        self.reruns[(repo, run_id)] = self.reruns.get((repo, run_id), 0) + 1

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self.calls.append(Call("add_reaction", (repo, comment_id, content)))
        self.reactions.append((repo, comment_id, content))

    def _pull(self, repo: str, number: int) -> _Pull:
        if (repo, number) not in self.pulls:
            raise GitHubError(f"{repo}#{number} is not a pull request")
        return self.pulls[(repo, number)]


def _sha(text: str) -> str:
    """An id in git's shape; only this stand-in resolves it."""
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
