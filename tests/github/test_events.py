"""Reading GitHub's event files: the few values a job needs, or one sentence saying why not.

Stories: an event for another repository, a payload without the comment's id, a head that is not
a commit, a workflow_run event with a string where a number goes, a file that is not an object:
each is an EventError (Refused, exit 1) with a plain sentence, never a KeyError or a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxonbot.exits import Exit
from taxonbot.github.events import (
    CommentTarget,
    EventError,
    PullTarget,
    WorkflowRun,
    comment_target,
    pull_target,
    read_event,
    read_event_object,
    workflow_run,
)

REPO, SHA = "community/taxonomy", "c" * 40


def issue_comment(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "repository": {"full_name": REPO},
        "issue": {"number": 12},
        "comment": {"id": 77, "user": {"login": "maintainer-jo"}},
    }
    event.update(changes)
    return event


def test_an_issue_comment_names_the_pull_request_comment_and_commenter() -> None:
    assert comment_target(issue_comment(), "Community/Taxonomy") == CommentTarget(
        12, 77, "maintainer-jo"
    )


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"repository": {"full_name": "someone/else"}}, "the event is for someone/else, not"),
        ({"comment": {"id": 0, "user": {"login": "x"}}}, "lacks the pull request number"),
        ({"issue": {"number": "12"}}, "lacks the pull request number"),
        ({"comment": {"id": 77, "user": None}}, "lacks the pull request number"),
        ({"issue": None}, "lacks the pull request number"),
    ],
    ids=["other-repo", "zero-id", "number-as-text", "no-user", "no-issue"],
)
def test_an_unusable_issue_comment_is_refused_with_a_sentence(
    changes: dict[str, Any], says: str
) -> None:
    with pytest.raises(EventError, match=says) as caught:
        comment_target(issue_comment(**changes), REPO)
    assert caught.value.exit == Exit.NO


def pull_request(head_sha: Any = SHA) -> dict[str, Any]:
    return {
        "repository": {"full_name": REPO},
        "pull_request": {"number": 3, "head": {"sha": head_sha}},
    }


def test_a_pull_request_event_names_its_repository_number_and_head() -> None:
    assert pull_target(pull_request()) == PullTarget(REPO, 3, SHA)


@pytest.mark.parametrize(
    ("event", "says"),
    [
        ({"ref": "refs/heads/main"}, "not a pull_request event"),
        ([1, 2], "not a pull_request event"),
        (pull_request(head_sha=7), "not a pull_request event"),
        (pull_request(head_sha="main"), "the event's head is not a commit SHA"),
    ],
    ids=["push", "a-list", "sha-as-number", "branch-not-sha"],
)
def test_anything_else_is_not_a_pull_request_target(event: Any, says: str) -> None:
    with pytest.raises(EventError, match=says):
        pull_target(event)


def workflow_run_event(**run: Any) -> dict[str, Any]:
    base = {
        "id": 501, "run_attempt": 2, "event": "pull_request", "head_sha": SHA,
        "head_branch": "fix", "head_repository": {"full_name": "contributor/taxonomy"},
        "pull_requests": [{"number": 12}],
    }  # fmt: skip
    return {"repository": {"full_name": REPO}, "workflow_run": base | run}


def test_a_workflow_run_says_which_run_and_head_it_reports_on() -> None:
    assert workflow_run(workflow_run_event(), "e.json") == WorkflowRun(
        REPO, SHA, "contributor/taxonomy", "fix", 501, 2, "pull_request", (12,)
    )
    deleted_fork = workflow_run_event(head_repository=None, run_attempt=None, head_branch=None)
    run = workflow_run(deleted_fork, "e.json", repo="given/repo")
    assert (run.repo, run.head_repo, run.run_attempt, run.head_branch) == (
        "given/repo",
        None,
        1,
        "",
    )


@pytest.mark.parametrize(
    "event",
    [{}, workflow_run_event(id="x"), workflow_run_event(pull_requests=[{}]), []],
    ids=["empty", "id-as-text", "pr-without-number", "a-list"],
)
def test_a_broken_workflow_run_is_one_sentence(event: Any) -> None:
    with pytest.raises(EventError, match=r"^e\.json is not a workflow_run event \("):
        workflow_run(event, "e.json")


def test_an_event_file_too_big_or_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps([1, 2]), "utf-8")
    assert read_event(str(path), 100) == [1, 2]
    with pytest.raises(EventError, match=r"event\.json is not a JSON object\.$"):
        read_event_object(str(path), 100)
    with pytest.raises(EventError, match=r"; the limit is 3 bytes\.$"):
        read_event(str(path), 3)
    with pytest.raises(EventError, match=r"^cannot read .*absent\.json"):
        read_event(str(tmp_path / "absent.json"), 100)
