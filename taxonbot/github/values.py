"""The values the GitHub port speaks in: a pull request's state, our comment, the run a result
came from, and the actions a plan asks for. Plain frozen dataclasses; `taxonbot.comment` plans
with them and `taxonbot.github` carries them out, so they live below both."""

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
