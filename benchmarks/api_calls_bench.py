#!/usr/bin/env python3
"""GitHub API requests per comment-job run, before and after the trusted gate (issue 17).

Runs on the faithful loopback fake of tests/doubles/fake_github.py (no network) with comment.yml's
permissions, for a PR that changes one leaf (qna.yaml + attribution.txt) and already has N
comments from reviewers. Two kinds of PR: a fork's (most contributors) and a same-repository
branch's. Three runs each: the first (post everything), the same run again (nothing to write),
and a new result (the check now fails: edit the comment, swap labels, a new gate).

  before  the comment job as shipped before issue 17 (commit 2f47df6): commit -> pulls to find
          the PR, then converge (pull, plan, apply; one more pull after a write). On a fork's
          PR, GitHub answers commit -> pulls with [], so it posts nothing.
  after   `taxonbot comment` now (taxonbot/cli/comment.py `reconcile`): the PR found by head
          branch and confirmed, its files read through the API and checked here, the
          `taxonbot / check` check run, then the same converge.

Printed: reads/writes per run, whether a comment exists afterwards, and the ratio of requests
after/before where both post. Counts come from the adapter's own counter, checked against the
fake's request log; nothing is timed.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from taxonbot.cli.comment import Artifact, Job, reconcile  # noqa: E402
from taxonbot.comment.plan import desired_state, plan  # noqa: E402
from taxonbot.github.converge import converge  # noqa: E402
from taxonbot.github.locate import RunFacts  # noqa: E402
from taxonbot.github.pygithub import PyGithubAdapter  # noqa: E402
from taxonbot.github.values import RunInfo  # noqa: E402
from tests.doubles.fake_github import APP_TOKEN, COMMENT_JOB, FakeGitHub, serve  # noqa: E402

REPO, FORK, NUMBER, SHA = "instructlab/taxonomy", "contributor/taxonomy", 7, "a" * 40
LEAF = "taxonomy/compositional_skills/writing/freeform/email/reschedule_meeting"
EXAMPLE = REPO_ROOT / "examples/pull_request/compositional_skills/writing/freeform/email"
COMMENT_COUNTS = (0, 40, 250)
BOT = "github-actions[bot]"


def files(errors: int) -> dict[str, bytes | None]:
    lines = (EXAMPLE / "reschedule_meeting/qna.yaml").read_text("utf-8").splitlines()
    text = "\n".join(f"{t} " if i < errors else t for i, t in enumerate(lines)) + "\n"
    attribution = (EXAMPLE / "reschedule_meeting/attribution.txt").read_bytes()
    return {f"{LEAF}/qna.yaml": text.encode(), f"{LEAF}/attribution.txt": attribution}


def result(run_id: int, errors: int) -> dict[str, Any]:
    check = {
        "format": "taxonbot-check/1",
        "files": [f"{LEAF}/qna.yaml"],
        "summary": {"files": 1, "errors": errors, "warnings": 0},
        "findings": [],
    }
    return {
        "format": "taxonbot-result/1",
        "head_sha": SHA,
        "run_id": run_id,
        "run_attempt": 1,
        "check": check,
        "diff": None,
        "gaps": None,
        "preview": None,
    }


def adapter(fake: FakeGitHub) -> PyGithubAdapter:
    return PyGithubAdapter(
        APP_TOKEN, fake.url, seconds_between_requests=None, seconds_between_writes=None
    )


def before(fake: FakeGitHub, head_repo: str, run_id: int, errors: int) -> tuple[int, int]:
    with adapter(fake) as github:
        for number in github.pulls_for_head(REPO, SHA, head_repo):
            run = RunInfo(SHA, run_id, 1, REPO, number)
            desired, login = desired_state(result(run_id, errors), run), github.viewer_login()
            converge(
                github,
                run,
                lambda s, d=desired, r=run, who=login: plan(d, s, r, who),  # type: ignore[misc]
                settle=0,
            )
        return github.api_calls.reads, github.api_calls.writes


def after(fake: FakeGitHub, head_repo: str, run_id: int, errors: int) -> tuple[int, int]:
    facts = RunFacts(REPO, SHA, head_repo, "topic")
    job = Job(facts, run_id, 1, "pull_request")
    with adapter(fake) as github:
        with contextlib.redirect_stdout(io.StringIO()):  # the job's log lines
            code = reconcile(job, Artifact(result(run_id, errors), None), github, BOT, True, 0.0)
        assert code == 0
        return github.api_calls.reads, github.api_calls.writes


def story(flow: Any, head_repo: str, comments: int) -> tuple[list[tuple[int, int]], bool]:
    with serve(permissions={APP_TOKEN: COMMENT_JOB}) as fake:
        fake.add_pull(REPO, NUMBER, SHA, head_repo=head_repo)
        fake.set_files(REPO, NUMBER, files(0))
        for index in range(comments):
            fake.add_comment(REPO, NUMBER, "reviewer", f"comment {index}")
        counts = [flow(fake, head_repo, 41, 0), flow(fake, head_repo, 41, 0)]
        fake.set_files(REPO, NUMBER, files(2))
        counts.append(flow(fake, head_repo, 42, 2))
        total = sum(r + w for r, w in counts)
        assert total == len(fake.requests), (total, len(fake.requests))
        posted = any(c.author == "github-actions[bot]" for c in fake.comments_on(REPO, NUMBER))
        return counts, posted


def main() -> int:
    print("PR       comments  flow    first run  unchanged  new result  comment?  after/before")
    for label, head in (("fork", FORK), ("same-repo", REPO)):
        for count in COMMENT_COUNTS:
            rows = {
                name: story(flow, head, count)
                for name, flow in (("before", before), ("after", after))
            }
            totals = {name: sum(r + w for r, w in counts) for name, (counts, _) in rows.items()}
            for name, (counts, posted) in rows.items():
                cells = [f"{r}r/{w}w" for r, w in counts]
                ratio = ""
                if name == "after" and rows["before"][1]:
                    ratio = f"{totals['after'] / totals['before']:.2f}x"
                print(
                    f"{label:<9}{count:>8}  {name:<6}  {cells[0]:>9}  {cells[1]:>9}  "
                    f"{cells[2]:>10}  {'yes' if posted else 'NO':>8}  {ratio:>12}"
                )
    print("r = GET requests, w = POST/PATCH/DELETE (retries included; none happen here).")
    print("after/before = all requests of the three runs; '' where before posted nothing.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
