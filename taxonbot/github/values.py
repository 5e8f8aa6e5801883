"""The sticky comment's vocabulary: what the planner reads and the actions it asks for.

A pull request's state with its comments (`PrState`, `Comment`), the run a result came from
(`RunInfo`), and the writes a plan asks for (`Action`). `taxonbot.comment` plans with them and
`taxonbot.github` (apply.py, converge.py) carries them out, so they live below both. Plain frozen
dataclasses.

Why not one module with records.py: these are the reconcile loop's terms (read, plan, write the
difference), shared with the announcement's comment; records.py holds GitHub's other REST
resources, which only the adapter, the PR locator and the merge gate use (heads, files, file
contents, check runs, workflow runs). A change to one vocabulary never touches the other's users.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunInfo:
    """The workflow run that produced the result, as the API (not the artifact) reports it."""

    head_sha: str
    run_id: int
    run_attempt: int
    repo: str  # owner/name
    pr_number: int


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str


@dataclass(frozen=True)
class PrState:
    number: int
    state: str  # "open" | "closed"
    merged: bool
    head_sha: str
    labels: frozenset[str]
    comments: tuple[Comment, ...]  # in the order the API lists them (oldest first)


@dataclass(frozen=True)
class CreateComment:
    body: str


@dataclass(frozen=True)
class EditComment:
    comment_id: int
    body: str


@dataclass(frozen=True)
class DeleteComment:
    comment_id: int


@dataclass(frozen=True)
class AddLabels:
    labels: tuple[str, ...]  # sorted


@dataclass(frozen=True)
class RemoveLabel:
    label: str


Action = CreateComment | EditComment | DeleteComment | AddLabels | RemoveLabel
