"""Carry out a plan's actions through a port, in order, and say what was done.

`plan` (bot/comment/plan.py) decides; this only executes. With a `DryRun` port nothing is
written and the lines describe what would have been.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.comment.checkrun import already_published, batches
from bot.comment.plan import (
    Action,
    AddLabels,
    CreateComment,
    DeleteComment,
    EditComment,
    RemoveLabel,
    RunInfo,
)
from bot.github.port import GitHubPort
from bot.github.records import CheckRunRequest, CheckRunState


def apply(actions: Iterable[Action], port: GitHubPort, run: RunInfo) -> list[str]:
    """One log line per action; the first GitHubError stops the rest (the next run reconciles)."""
    return [_do(action, port, run) for action in actions]


def _do(action: Action, port: GitHubPort, run: RunInfo) -> str:
    repo, number = run.repo, run.pr_number
    where = f"{repo}#{number}"
    match action:
        case CreateComment(body=body):
            comment_id = port.create_comment(repo, number, body)
            return f"create comment on {where} ({len(body):,} characters): comment {comment_id}"
        case EditComment(comment_id=comment_id, body=body):
            port.edit_comment(repo, comment_id, body)
            return f"edit comment {comment_id} on {where} ({len(body):,} characters)"
        case DeleteComment(comment_id=comment_id):
            port.delete_comment(repo, comment_id)
            return f"delete duplicate comment {comment_id} on {where}"
        case AddLabels(labels=labels):
            port.add_labels(repo, number, labels)
            return f"add labels to {where}: {', '.join(labels)}"
        case RemoveLabel(label=label):
            port.remove_label(repo, number, label)
            return f"remove label from {where}: {label}"
    raise TypeError(f"not an action: {action!r}")


def publish_check_run(
    port: GitHubPort, repo: str, request: CheckRunRequest, existing: list[CheckRunState]
) -> list[str]:
    """Create the check run with its first 50 annotations, then add the rest 50 at a time;
    nothing when the commit's newest run of ours already says the same."""
    where = f"{request.name} on {request.head_sha[:12]}"
    if already_published(existing, request):
        return [f"{where}: already {request.conclusion}, unchanged"]
    check_id = port.create_check_run(repo, request)
    lines = [f"{where}: {request.conclusion} ({request.title}), check run {check_id}"]
    for batch in batches(request.annotations):
        port.update_check_run(repo, check_id, request, batch)
        lines.append(f"{where}: {len(batch)} more annotations")
    return lines
