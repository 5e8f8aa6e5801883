"""The webhook events GitHub writes to $GITHUB_EVENT_PATH, read as the few values a job needs.

Each reader takes the decoded event (or its file), checks the shape it relies on, and returns a
small value; anything else is an EventError whose message is a plain sentence for the log. The
event is GitHub's, but a job still reads it defensively: size-capped, typed field by field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

from taxonbot.errors import Refused
from taxonbot.jsonfile import UnreadableJson, read_capped_json

_SHA = re.compile(r"[0-9a-f]{40}")


class EventError(Refused):
    """The event file cannot be used: unreadable, not the event expected, or another repo's."""


def read_event(path: str, max_bytes: int) -> Any:
    """The decoded event file (any JSON value), at most `max_bytes` of it."""
    try:
        return read_capped_json(path, max_bytes)
    except UnreadableJson as exc:
        raise EventError(str(exc)) from exc


def read_event_object(path: str, max_bytes: int) -> dict[str, Any]:
    """The decoded event file, which must be a JSON object."""
    data = read_event(path, max_bytes)
    if not isinstance(data, dict):
        raise EventError(f"{path} is not a JSON object.")
    return data


@dataclass(frozen=True)
class CommentTarget:
    """Where an issue comment was made: from GitHub's event, never from the comment's text."""

    number: int
    comment_id: int
    commenter: str


def comment_target(event: dict[str, Any], repo: str) -> CommentTarget:
    """The pull request, comment and commenter of an issue_comment event on `repo`."""
    issue, comment = event.get("issue"), event.get("comment")
    if not (isinstance(issue, dict) and isinstance(comment, dict)):
        raise EventError("the event lacks the pull request number, comment id or commenter.")
    repository = event.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    if isinstance(full_name, str) and full_name.casefold() != repo.casefold():
        raise EventError(f"the event is for {full_name}, not {repo}.")
    number, comment_id = issue.get("number"), comment.get("id")
    user = comment.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    if not (_positive(number) and _positive(comment_id) and isinstance(login, str)):
        raise EventError("the event lacks the pull request number, comment id or commenter.")
    return CommentTarget(number, comment_id, login)


@dataclass(frozen=True)
class PullTarget:
    """The base repository, number and head commit of a pull_request event."""

    repo: str
    number: int
    head_sha: str


def pull_target(event: Any) -> PullTarget:
    pull: Any = event.get("pull_request") if isinstance(event, dict) else None
    repository: Any = event.get("repository") if isinstance(event, dict) else None
    try:
        repo, number = repository["full_name"], pull["number"]
        head_sha = pull["head"]["sha"]
    except (KeyError, TypeError):
        raise EventError("not a pull_request event") from None
    if not (isinstance(repo, str) and type(number) is int and isinstance(head_sha, str)):
        raise EventError("not a pull_request event")
    if not _SHA.fullmatch(head_sha):
        raise EventError("the event's head is not a commit SHA")
    return PullTarget(repo, number, head_sha)


@dataclass(frozen=True)
class WorkflowRun:
    """A finished run, from a workflow_run event: whose head it checked, and which run it was."""

    repo: str  # the base repository
    head_sha: str
    head_repo: str | None  # None: the fork was deleted
    head_branch: str
    run_id: int
    run_attempt: int
    event: str  # what started the run: pull_request, merge_group, push
    pull_requests: tuple[int, ...]  # GitHub's list (empty for forks): hints, never trusted


def workflow_run(event: Any, path: str, repo: str | None = None) -> WorkflowRun:
    """The run a workflow_run event reports on; `repo`, when known, overrides the event's."""
    try:
        run = event["workflow_run"]
        head = run.get("head_repository")
        hints = tuple(int(p["number"]) for p in run.get("pull_requests") or [])
        return WorkflowRun(
            repo=repo or str(event["repository"]["full_name"]),
            head_sha=str(run["head_sha"]),
            head_repo=str(head["full_name"]) if isinstance(head, dict) else None,
            head_branch=str(run.get("head_branch") or ""),
            run_id=int(run["id"]),
            run_attempt=int(run.get("run_attempt") or 1),
            event=str(run["event"]),
            pull_requests=hints,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EventError(f"{path} is not a workflow_run event ({exc!r})") from exc


def _positive(value: object) -> TypeGuard[int]:
    return type(value) is int and value > 0
