"""Reconcile, don't append: the comment, labels and conclusion a result calls for, and the
smallest set of actions that brings the pull request there.

Pure: no network, clock or environment. `plan` decides from the PR's state as the API reported
it (taxonbot/github/port.py); the adapter carries the actions out (taxonbot/github/apply.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from taxonbot.comment.artifact import check_counts
from taxonbot.comment.render import render_comment
from taxonbot.comment.reply import kept_reply, with_reply
from taxonbot.github.labels import (
    CHECK_FAILED,
    CHECK_PASSED,
    GAP_LABELS,
    KIND_LABELS,
    MANAGED_LABELS,
)
from taxonbot.github.markers import owned, recorded_run
from taxonbot.github.values import (
    Action,
    AddLabels,
    Comment,
    CreateComment,
    DeleteComment,
    EditComment,
    PrState,
    RemoveLabel,
    RunInfo,
)
from taxonbot.taxonomy.leaf import leaf_path


@dataclass(frozen=True)
class Desired:
    body: str
    labels: frozenset[str]  # managed labels only
    conclusion: str  # "success" | "failure"


def desired_state(result: dict[str, Any], run: RunInfo) -> Desired:
    counts = check_counts(result.get("check"))
    failed = counts is None or counts[0] > 0  # no check result is no pass
    labels = set(_kind_labels(result))
    if counts is not None:
        labels.add(CHECK_FAILED if failed else CHECK_PASSED)
    gaps = result.get("gaps")
    found = gaps.get("labels") if isinstance(gaps, dict) else None
    labels.update(label for label in found or () if isinstance(label, str) and label in GAP_LABELS)
    body = render_comment(result, run)
    return Desired(body, frozenset(labels), "failure" if failed else "success")


def _kind_labels(result: dict[str, Any]) -> set[str]:
    """From the changed leaves' roots; when diff did not run or saw none, the checked files."""
    diff, check = result.get("diff"), result.get("check")
    leaves = diff.get("leaves") if isinstance(diff, dict) else None
    roots = {_root(leaf) for leaf in leaves or () if isinstance(leaf, dict)}
    if not roots - {None} and isinstance(check, dict):
        files = check.get("files")
        roots = {leaf_path(f).root for f in files or () if isinstance(f, str)}
    return {KIND_LABELS[root] for root in roots if root in KIND_LABELS}


def _root(leaf: dict[str, Any]) -> str | None:
    root, path = leaf.get("root"), leaf.get("path")
    if isinstance(root, str):
        return root
    return leaf_path(path).root if isinstance(path, str) else None


def plan(desired: Desired, current: PrState, run: RunInfo, bot_login: str) -> list[Action]:
    """The actions that turn `current` into `desired`; [] when this run must not write at all."""
    if current.state != "open" or current.merged or current.head_sha != run.head_sha:
        return []  # closed, merged, or new commits: a newer run owns the PR now
    ours = sorted((c for c in current.comments if owned(c.author, c.body, bot_login)), key=_id)
    actions: list[Action] = []
    if not ours:
        actions.append(CreateComment(desired.body))
    else:
        # Two of ours exist only when two jobs created one at the same moment: keep the first,
        # with the newest reply given at this head, and delete the others.
        first = ours[0]
        recorded = recorded_run(first.body)
        if recorded is not None and recorded > (run.run_id, run.run_attempt):
            return []  # an older run finishing late never overwrites a newer one
        replies = [kept_reply(c.body, run.head_sha) for c in ours]
        reply = next((r for r in reversed(replies) if r), "")
        body = with_reply(desired.body, reply)
        if first.body != body:
            actions.append(EditComment(first.id, body))
        actions.extend(DeleteComment(c.id) for c in ours[1:])
    return actions + _label_actions(desired.labels, current.labels)


def _id(comment: Comment) -> int:
    return comment.id


def _label_actions(wanted: frozenset[str], present: frozenset[str]) -> list[Action]:
    """Only managed labels move; GitHub matches label names case-insensitively."""
    wanted_keys = {label.casefold() for label in wanted & MANAGED_LABELS}
    managed_keys = {label.casefold() for label in MANAGED_LABELS}
    present_keys = {label.casefold() for label in present}
    add = sorted(label for label in wanted & MANAGED_LABELS if label.casefold() not in present_keys)
    remove = sorted(
        label
        for label in present
        if label.casefold() in managed_keys and label.casefold() not in wanted_keys
    )
    actions: list[Action] = [AddLabels(tuple(add))] if add else []
    return actions + [RemoveLabel(label) for label in remove]
