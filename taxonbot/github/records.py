"""GitHub's REST resources the port hands back and takes, as plain values (no PyGithub objects
leak out): what finding the PR (locate.py), the merge gate (taxonbot/check/gate.py,
taxonbot/comment/checkrun.py) and the command job read and write. The sticky comment's own
terms (the PR's state and comments, the run, the planned writes) are values.py: two vocabularies
with different users, kept apart so one changes without the other.

The shapes follow GitHub's REST answers, reduced to what the bot decides on:
- `PullHead`: a pull request's head and base (docs: "Get a pull request"); `head_repo` is None
  when the fork was deleted, as GitHub then answers `"repo": null` under `head`.
- `PullFile`: one entry of "List pull requests files" (at most 3,000 per pull request).
- `RepoFile`: "Get repository content" for a file at a commit; files over 1 MB come back
  without their content (`encoding: "none"`), so `data` is None there and only `size` is known.
- `TreeEntry` / `GitTree`: "Get a tree" (docs.github.com/rest/git/trees): each entry's git mode
  (120000: a symbolic link, 160000: a submodule) is visible only here, since the contents API
  answers a link to a file with the file's content. `truncated`: with `recursive`, GitHub stops
  at 100,000 entries or 7 MB; the rest must be read one sub-tree at a time.
- `CheckRunRequest` / `Annotation` / `CheckRunState`: "Create a check run" and "List check runs
  for a Git reference"; at most 50 annotations go in one request.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PullHead:
    number: int
    state: str  # "open" | "closed"
    merged: bool
    head_sha: str
    head_repo: str | None  # owner/name; None: the fork was deleted
    head_ref: str
    base_repo: str
    changed_files: int


@dataclass(frozen=True)
class PullFile:
    path: str
    status: str  # GitHub's: added, removed, modified, renamed, copied, changed, unchanged
    old_path: str | None = None  # renamed only


@dataclass(frozen=True)
class RepoFile:
    path: str
    size: int
    data: bytes | None  # None: larger than the API returns inline (1 MB)


@dataclass(frozen=True)
class TreeEntry:
    path: str  # from the tree read: the whole path with `recursive`, else the name
    mode: str  # 100644/100755 a file, 120000 a symbolic link, 160000 a submodule, 040000 a folder
    sha: str  # the blob, the sub-tree (read it with `git_tree`), or the submodule's commit


@dataclass(frozen=True)
class GitTree:
    entries: tuple[TreeEntry, ...]
    truncated: bool  # GitHub left entries out: what is missing here may still exist


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    end_line: int
    level: str  # "notice" | "warning" | "failure"
    title: str
    message: str
    start_column: int | None = None  # only on a one-line annotation (GitHub's rule)
    end_column: int | None = None


@dataclass(frozen=True)
class CheckRunRequest:
    name: str
    head_sha: str
    conclusion: str  # "success" | "failure" | "neutral"
    title: str
    summary: str  # Markdown, at most 65,535 characters
    external_id: str  # "taxonbot:<digest of everything above and the annotations>"
    annotations: tuple[Annotation, ...]


@dataclass(frozen=True)
class CheckRunState:
    id: int
    name: str
    status: str
    conclusion: str | None
    external_id: str
    app_slug: str


@dataclass(frozen=True)
class WorkflowRun:
    """A workflow run as "List workflow runs" reports it; only a completed run can be re-run."""

    id: int
    status: str  # queued, in_progress, completed, ...

    @property
    def done(self) -> bool:
        return self.status == "completed"
