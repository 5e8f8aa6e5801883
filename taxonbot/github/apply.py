"""Carry out a plan's actions through a port, in order, and say what was done.

`plan` (taxonbot/comment/plan.py) decides; this only executes. With a `DryRun` port nothing is
written and the lines describe what would have been.
"""

from __future__ import annotations

from collections.abc import Iterable

from taxonbot.github.port import GitHubPort
from taxonbot.github.values import (
    Action,
    AddLabels,
    CreateComment,
    DeleteComment,
    EditComment,
    RemoveLabel,
    RunInfo,
)


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
