#!/usr/bin/env python3
"""Count the GitHub API requests one comment-job run makes, against PyGithub used plainly.

Runs on the loopback fake of tests/fake_github.py (no network), for a PR that already has N
comments from reviewers, with a GITHUB_TOKEN-style token (`ghs_…`). Scenarios:

  first run     the PR has no comment of ours: post it and the labels
  unchanged     the same run again: nothing to write
  new result    a later run whose check failed: edit the comment, swap check:* labels

  ours      PyGithubAdapter: pulls_for_head + viewer_login, then converge (pull, plan, apply;
            after a write, one more pull to see that it held: bot/github/converge.py)
  baseline  reading the same state with PyGithub's defaults, the obvious way: get_repo,
            get_pull, iterate pr.get_issue_comments() (30 a page); labels from the PR object

Printed: reads/writes per scenario, and for the unchanged re-run the baseline-to-ours ratio of
requests (only reads happen there). Counts come from the fake's request log, not from timing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "tests")]

from fake_github import APP_TOKEN, FakeGitHub, serve  # noqa: E402
from github import Auth, Github  # noqa: E402

from bot.comment.plan import RunInfo, desired_state, plan  # noqa: E402
from bot.github.converge import converge  # noqa: E402
from bot.github.pygithub import PyGithubAdapter  # noqa: E402

REPO, FORK, NUMBER, SHA = "instructlab/taxonomy", "contributor/taxonomy", 7, "a" * 40
COMMENT_COUNTS = (0, 40, 250)


def result(run: RunInfo, errors: int) -> dict[str, Any]:
    check = {
        "format": "taxonbot-check/1",
        "files": ["knowledge/science/physics/qna.yaml"],
        "summary": {"files": 1, "errors": errors, "warnings": 0},
        "findings": [],
    }
    return {
        "format": "taxonbot-result/1",
        "head_sha": SHA,
        "run_id": run.run_id,
        "run_attempt": 1,
        "check": check,
        "diff": None,
        "gaps": None,
        "preview": None,
    }


def ours(fake: FakeGitHub, run_id: int, errors: int) -> tuple[int, int]:
    run = RunInfo(SHA, run_id, 1, REPO, NUMBER)
    adapter = PyGithubAdapter(
        APP_TOKEN, fake.url, seconds_between_requests=None, seconds_between_writes=None
    )
    with adapter:
        [number] = adapter.pulls_for_head(REPO, SHA, FORK)
        assert number == run.pr_number
        desired, login = desired_state(result(run, errors), run), adapter.viewer_login()
        converge(adapter, run, lambda state: plan(desired, state, run, login), settle=0)
        return adapter.api_calls.reads, adapter.api_calls.writes


def ours_state(fake: FakeGitHub) -> int:
    adapter = PyGithubAdapter(
        APP_TOKEN, fake.url, seconds_between_requests=None, seconds_between_writes=None
    )
    with adapter:
        adapter.pull(REPO, NUMBER)
        return adapter.api_calls.reads


def baseline_state(fake: FakeGitHub) -> int:
    before = len(fake.requests)
    with Github(
        auth=Auth.Token(APP_TOKEN),
        base_url=fake.url,
        seconds_between_requests=None,
        seconds_between_writes=None,
    ) as gh:
        pr = gh.get_repo(REPO).get_pull(NUMBER)
        _ = [label.name for label in pr.labels], [c.body for c in pr.get_issue_comments()]
    return len(fake.requests) - before


def main() -> int:
    print("         whole run (ours)                  reading the PR state")
    print("comments  first run  unchanged  new result  ours  baseline  ratio")
    for count in COMMENT_COUNTS:
        with serve() as fake:
            fake.add_pull(REPO, NUMBER, SHA, head_repo=FORK)
            for index in range(count):
                fake.add_comment(REPO, NUMBER, "reviewer", f"comment {index}")
            first, unchanged, changed = ours(fake, 41, 0), ours(fake, 41, 0), ours(fake, 42, 2)
            state, plain = ours_state(fake), baseline_state(fake)
        cells = [f"{r}r/{w}w" for r, w in (first, unchanged, changed)]
        print(
            f"{count:>8}  {cells[0]:>9}  {cells[1]:>9}  {cells[2]:>10}  "
            f"{state:>4}  {plain:>8}  {plain / state:>4.2f}x"
        )
    print("r = GET requests, w = POST/PATCH/DELETE; a whole run also finds the PR by its head.")
    print("ratio = baseline requests / ours, for the same state (PR, labels, every comment).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
