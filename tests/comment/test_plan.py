"""Reconciling one sticky comment and the managed labels, told as runs arriving at a PR."""

from __future__ import annotations

import dataclasses
from typing import Any

from taxonbot.comment.plan import MANAGED_LABELS, Desired, desired_state, plan
from taxonbot.comment.reply import section, with_reply
from taxonbot.github.markers import MARKER
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
from tests.comment import RUN, SHA, demo_result

BOT = "taxonbot[bot]"
DEMO_LABELS = ("check:failed", "gap:confirmed", "kind:skill")


def open_pr(*, labels: tuple[str, ...] = (), comments: tuple[Comment, ...] = ()) -> PrState:
    return PrState(7, "open", False, SHA, frozenset(labels), comments)


def applied(pr: PrState, actions: list[Action], author: str = BOT) -> PrState:
    """What GitHub would hold after the adapter carried the actions out."""
    comments, labels = list(pr.comments), set(pr.labels)
    for action in actions:
        if isinstance(action, CreateComment):
            comments.append(Comment(1000 + len(comments), author, action.body))
        elif isinstance(action, EditComment):
            comments = [
                dataclasses.replace(c, body=action.body) if c.id == action.comment_id else c
                for c in comments
            ]
        elif isinstance(action, AddLabels):
            labels.update(action.labels)
        elif isinstance(action, RemoveLabel):
            labels.discard(action.label)
    return dataclasses.replace(pr, comments=tuple(comments), labels=frozenset(labels))


def run_number(run_id: int, attempt: int = 1) -> RunInfo:
    return dataclasses.replace(RUN, run_id=run_id, run_attempt=attempt)


def desired(result: dict[str, Any] | None = None, run: RunInfo = RUN) -> Desired:
    return desired_state(result or demo_result(), run)


# ---- what the result asks for --------------------------------------------------------------


def test_the_demo_result_asks_for_failure_and_its_labels() -> None:
    want = desired()
    assert want.labels == frozenset(DEMO_LABELS)
    assert want.conclusion == "failure"
    assert want.body.startswith(MARKER + "\n")


def test_a_clean_check_passes() -> None:
    result = demo_result()
    result["check"]["findings"] = []
    result["check"]["summary"] |= {"errors": 0, "warnings": 0}
    want = desired(result)
    assert want.conclusion == "success"
    assert "check:passed" in want.labels and "check:failed" not in want.labels


def test_an_error_finding_fails_even_when_the_summary_says_zero() -> None:
    result = demo_result()
    result["check"]["summary"]["errors"] = 0
    assert desired(result).conclusion == "failure"


def test_no_check_result_is_no_pass_and_no_check_label() -> None:
    want = desired(demo_result() | {"check": None})
    assert want.conclusion == "failure"
    assert not {"check:passed", "check:failed"} & want.labels


def test_kind_labels_come_from_the_diff_roots() -> None:
    result = demo_result()
    result["diff"]["leaves"] += [
        {"status": "deleted", "path": "taxonomy/knowledge/history/rome/qna.yaml", "root": None},
        {"status": "added", "path": "foundational_skills/reasoning/x/qna.yaml"},
    ]
    kinds = {label for label in desired(result).labels if label.startswith("kind:")}
    assert kinds == {"kind:skill", "kind:knowledge", "kind:foundational"}


def test_without_a_diff_the_checked_files_give_the_kind() -> None:
    result = demo_result() | {"diff": None}
    result["check"]["files"].append("taxonomy/knowledge/science/water/qna.yaml")
    kinds = {label for label in desired(result).labels if label.startswith("kind:")}
    assert kinds == {"kind:skill", "kind:knowledge"}


def test_only_known_gap_labels_are_taken_from_the_artifact() -> None:
    result = demo_result()
    result["gaps"]["labels"] = ["overlap", "gap:known", "lgtm", "merge-now", 3, "gap:confirmed "]
    want = desired(result)
    assert {"overlap", "gap:known"} <= want.labels
    assert want.labels <= MANAGED_LABELS


# ---- the first run and the ones after it -----------------------------------------------------


def test_first_run_creates_the_comment_and_adds_the_labels() -> None:
    want = desired()
    actions = plan(want, open_pr(labels=("help wanted",)), RUN, BOT)
    assert actions == [CreateComment(want.body), AddLabels(DEMO_LABELS)]


def test_an_unchanged_rerun_does_nothing() -> None:
    want = desired()
    pr = applied(open_pr(), plan(want, open_pr(), RUN, BOT))
    assert plan(want, pr, RUN, BOT) == []
    assert plan(desired(), pr, RUN, BOT) == []  # computed again from scratch: same bytes


def test_a_new_attempt_with_the_same_result_only_records_itself() -> None:
    """The run line must name the newest run, or a late older run could overwrite it."""
    pr = applied(open_pr(), plan(desired(), open_pr(), RUN, BOT))
    rerun = run_number(RUN.run_id, 2)  # "Re-run jobs": same commit, same result
    actions = plan(desired(run=rerun), pr, rerun, BOT)
    assert [type(a) for a in actions] == [EditComment]  # labels already right
    before, after = pr.comments[0].body.splitlines(), desired(run=rerun).body.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [1, len(after) - 1]  # the run line and the footer's attempt
    pr = applied(pr, actions)
    assert plan(desired(run=rerun), pr, rerun, BOT) == []


def test_a_changed_result_edits_the_one_comment() -> None:
    pr = applied(open_pr(), plan(desired(), open_pr(), RUN, BOT))
    result = demo_result()
    result["check"]["findings"][0]["message"] = "Something else."
    newer = run_number(RUN.run_id + 1)
    want = desired(result, newer)
    assert plan(want, pr, newer, BOT) == [EditComment(1000, want.body)]


def test_fixing_the_errors_edits_the_comment_and_swaps_the_check_label() -> None:
    pr = applied(open_pr(), plan(desired(), open_pr(), RUN, BOT))
    result = demo_result()
    result["check"]["findings"] = []
    result["check"]["summary"] |= {"errors": 0, "warnings": 0}
    newer = run_number(RUN.run_id + 1)
    want = desired(result, newer)
    assert plan(want, pr, newer, BOT) == [
        EditComment(1000, want.body),
        AddLabels(("check:passed",)),
        RemoveLabel("check:failed"),
    ]


def test_an_older_run_arriving_after_a_newer_one_changes_nothing() -> None:
    newer = run_number(RUN.run_id + 5)
    pr = applied(open_pr(), plan(desired(run=newer), open_pr(), newer, BOT))
    stale = demo_result() | {"gaps": None}  # would drop the gap label and change the body
    assert plan(desired(stale, RUN), pr, RUN, BOT) == []
    second = run_number(RUN.run_id, 2)  # an earlier attempt of the same run counts as older
    pr = applied(open_pr(), plan(desired(run=second), open_pr(), second, BOT))
    assert plan(desired(stale, RUN), pr, RUN, BOT) == []


def test_a_run_for_a_commit_that_is_no_longer_the_head_changes_nothing() -> None:
    moved = dataclasses.replace(open_pr(), head_sha="f" * 40)  # force-push or a new commit
    assert plan(desired(), moved, RUN, BOT) == []


def test_a_closed_or_merged_pull_request_is_left_alone() -> None:
    closed = dataclasses.replace(open_pr(), state="closed")
    merged = dataclasses.replace(open_pr(), state="closed", merged=True)
    assert plan(desired(), closed, RUN, BOT) == []
    assert plan(desired(), merged, RUN, BOT) == []


def test_labels_people_added_are_never_touched() -> None:
    human = ("needs-review", "kind:skill-ish", "Documentation", "good first issue")
    pr = open_pr(labels=(*human, "kind:knowledge", "overlap"))
    actions = plan(desired(), pr, RUN, BOT)
    assert actions[1:] == [
        AddLabels(DEMO_LABELS),
        RemoveLabel("kind:knowledge"),
        RemoveLabel("overlap"),
    ]
    after = applied(pr, actions)
    assert set(human) <= after.labels


def test_a_label_differing_only_in_case_counts_as_present() -> None:
    pr = open_pr(labels=("Check:Failed", "GAP:confirmed", "kind:skill"))
    assert plan(desired(), pr, RUN, BOT) == [CreateComment(desired().body)]


def test_a_marker_in_someone_elses_comment_is_ignored() -> None:
    fake_run = '<!-- taxonbot:run {"run_id": 99999999999, "run_attempt": 9} -->'
    mallory = Comment(1, "mallory", f"{MARKER}\n{fake_run}\nAll good, merge it!")
    want = desired()
    actions = plan(want, open_pr(comments=(mallory,)), RUN, BOT)
    assert actions[0] == CreateComment(want.body)


def test_our_other_comments_without_the_marker_are_not_the_sticky_one() -> None:
    reply = Comment(3, BOT, "Running the checks again on the latest commit.")
    actions = plan(desired(), open_pr(comments=(reply,)), RUN, BOT)
    assert isinstance(actions[0], CreateComment)


def test_with_several_of_our_comments_the_first_is_edited_and_the_others_deleted() -> None:
    old = f"{MARKER}\nan old body"
    ours = (Comment(12, BOT, old), Comment(10, "Taxonbot[Bot]", old), Comment(11, "dana", "hi"))
    want = desired()
    actions = plan(want, open_pr(comments=ours, labels=DEMO_LABELS), RUN, BOT)
    assert actions == [EditComment(10, want.body), DeleteComment(12)]


def test_a_reply_given_at_this_head_is_kept_and_one_from_an_older_head_dropped() -> None:
    want = desired()
    here = section(RUN.head_sha, "`jo`", "Running the checks again.", 20)
    before = section("f" * 40, "`jo`", "Running the checks again.")
    for reply, kept in ((here, True), (before, False)):
        sticky = Comment(10, BOT, with_reply(f"{MARKER}\nan old body", reply))
        (action,) = plan(want, open_pr(comments=(sticky,), labels=DEMO_LABELS), RUN, BOT)
        assert isinstance(action, EditComment)
        assert action.body == (with_reply(want.body, here) if kept else want.body)


def test_a_reply_in_a_duplicate_is_moved_into_the_kept_comment() -> None:
    want = desired()
    reply = section(RUN.head_sha, "`jo`", "Help text.")
    ours = (Comment(10, BOT, f"{MARKER}\nold"), Comment(11, BOT, with_reply(MARKER, reply)))
    actions = plan(want, open_pr(comments=ours, labels=DEMO_LABELS), RUN, BOT)
    assert actions == [EditComment(10, with_reply(want.body, reply)), DeleteComment(11)]


def test_an_unreadable_run_line_is_treated_as_older() -> None:
    ours = Comment(10, BOT, f"{MARKER}\n<!-- taxonbot:run not json -->\n")
    want = desired()
    assert plan(want, open_pr(comments=(ours,), labels=DEMO_LABELS), RUN, BOT) == [
        EditComment(10, want.body)
    ]


def test_planning_is_pure() -> None:
    want, pr = desired(), open_pr(labels=("x",))
    assert plan(want, pr, RUN, BOT) == plan(want, pr, RUN, BOT)
    assert pr == open_pr(labels=("x",))
