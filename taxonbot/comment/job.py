"""What the comment job reads before it decides anything: which run it reports on, and the
artifact that run uploaded.

The run's identity comes from the workflow_run event GitHub wrote (or, for a local run, from
flags), never from the artifact; the artifact (result.json, which pull-request code wrote) is
validated, size- and depth-capped, and must name this very run. A missing or refused artifact
is a notice, never a reason to go red: the gate is checked from the API all the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from taxonbot.comment.result import MAX_RESULT_BYTES, SCHEMA_URI
from taxonbot.errors import Refused, UsageError
from taxonbot.github.events import EventError, read_event, workflow_run
from taxonbot.github.locate import RunFacts
from taxonbot.jsonfile import UnreadableJson, read_capped_json
from taxonbot.schemas import validator

MAX_EVENT_BYTES = 4 * 1024 * 1024


class JobError(UsageError):
    """The run's identity cannot be had: the event file is unusable or flags are missing."""


class ArtifactRefused(Refused):
    """result.json was read and is not shown: unreadable, invalid, or from another run."""


@dataclass(frozen=True)
class JobFlags:
    """The run's identity as flags (a local run); with an event, repo and pr_number still count."""

    repo: str | None = None
    head_sha: str | None = None
    head_repo: str | None = None
    head_branch: str = ""
    run_id: int | None = None
    run_attempt: int | None = None
    pr_number: int = 0  # a PR to try first; 0 for none


@dataclass(frozen=True)
class Job:
    """Who ran, from the event GitHub wrote (or the flags): never from the artifact."""

    facts: RunFacts
    run_id: int
    run_attempt: int
    event: str  # the pr.yml run's event: pull_request, merge_group, push


@dataclass(frozen=True)
class Artifact:
    result: dict[str, Any] | None  # None: nothing usable; `notice` says why
    notice: str | None
    hint: int | None = None  # the PR number PR code wrote: tried first, confirmed by the API


NO_ARTIFACT = Artifact(None, None)


def read_job(event_path: str | None, flags: JobFlags) -> Job:
    """The run's identity from the event GitHub wrote, else from the flags; JobError if not."""
    if event_path:
        return from_event(event_path, flags)
    needed = ("repo", "head_sha", "head_repo", "run_id", "run_attempt")
    missing = [f"--{n.replace('_', '-')}" for n in needed if getattr(flags, n) is None]
    if missing:
        raise JobError("missing " + ", ".join(missing))
    assert flags.repo is not None and flags.head_sha is not None  # checked above; for mypy
    assert flags.run_id is not None and flags.run_attempt is not None
    facts = RunFacts(
        flags.repo,
        flags.head_sha,
        flags.head_repo or None,
        flags.head_branch,
        hints(flags.pr_number),
    )
    return Job(facts, flags.run_id, flags.run_attempt, "pull_request")


def from_event(path: str, flags: JobFlags) -> Job:
    try:
        run = workflow_run(read_event(path, MAX_EVENT_BYTES), path, flags.repo)
    except EventError as exc:
        raise JobError(str(exc)) from exc
    facts = RunFacts(
        repo=run.repo,
        head_sha=run.head_sha,
        head_repo=run.head_repo,
        head_branch=run.head_branch,
        hints=hints(flags.pr_number, *run.pull_requests),
    )
    return Job(facts, run.run_id, run.run_attempt, run.event)


def hints(*numbers: int) -> tuple[int, ...]:
    """PR numbers to try first, in order, once each; 0 and negatives are no hint."""
    return tuple(dict.fromkeys(n for n in numbers if n and n > 0))


def read_artifact(path: str | None, job: Job) -> Artifact:
    """The validated result and the PR number it hints at; or a notice saying why there is
    none (no artifact, another attempt's, not valid): never a reason to go red."""
    if not path or not os.path.exists(path):
        return Artifact(
            None,
            f"pr.yml run {job.run_id} attempt {job.run_attempt} uploaded no result.json; the "
            "gate is checked here all the same, and the comment shows no preview or gaps.",
        )
    try:
        data = read_result(path, job.facts.head_sha, (job.run_id, job.run_attempt))
    except ArtifactRefused as exc:
        return Artifact(None, str(exc))
    hint = data.get("pull_request")
    return Artifact(data, None, hint if isinstance(hint, int) else None)


def read_result(path: str, head_sha: str, run: tuple[int, int]) -> dict[str, Any]:
    """The validated result of this very run; ArtifactRefused says why not (for the log)."""
    try:
        data = read_capped_json(path, MAX_RESULT_BYTES)
    except UnreadableJson as exc:
        raise ArtifactRefused(str(exc)) from exc
    errors = sorted(validator(SCHEMA_URI).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "top level"
        raise ArtifactRefused(
            f"{path} does not match schemas/result.json at {where}: {errors[0].message[:200]}"
        )
    if data["head_sha"] != head_sha or (data["run_id"], data["run_attempt"]) != run:
        raise ArtifactRefused(
            f"{path} names head {data['head_sha'][:12]} run {data['run_id']}/"
            f"{data['run_attempt']}, not this event's {head_sha[:12]} run {run[0]}/{run[1]}; "
            "an artifact from another run, attempt or pull request is never shown."
        )
    return dict(data)
