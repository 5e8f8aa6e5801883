"""Write, wait, look again: how the two jobs that edit our one comment converge.

comment.yml (results) and command.yml (replies to maintainers) both read the sticky comment,
change their part and write it back. GitHub has no conditional edit of a comment, and a shared
concurrency group is not an answer either: GitHub keeps one pending job per group and cancels
the older pending one, which would silently drop a maintainer's command or a result.

So each writer follows two rules:
1. A plan older than `MAX_READ_AGE` seconds is never written: it is read and planned again.
   A write therefore lands at most MAX_READ_AGE after the read it was based on.
2. After writing, it waits `settle` seconds (more than MAX_READ_AGE), reads again, and repairs
   what another job's write undid, up to `ROUNDS` times.
A write based on a stale read (the other job's changes missing) can only land within
MAX_READ_AGE of that read, so it lands before the other job's check `settle` seconds after its
own write, which then sees the damage and repairs it. Each job's planner keeps the other's part
(plan.py keeps a reply given at the same head; a reply keeps the result around it), never goes
back to an older run, and deletes a duplicate created in the same instant, so repairs converge.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from taxonbot.github.apply import apply
from taxonbot.github.dryrun import DryRun
from taxonbot.github.port import GitHubPort
from taxonbot.github.values import Action, PrState, RunInfo

MAX_READ_AGE = 5.0  # seconds between reading the PR and the first write planned from it
SETTLE = 10.0  # seconds to wait before looking again; must exceed MAX_READ_AGE
ROUNDS = 3  # writes (first + repairs) before leaving it to the next run


def converge(
    port: GitHubPort,
    run: RunInfo,
    decide: Callable[[PrState], list[Action]],
    *,
    settle: float = SETTLE,
    on_plan: Callable[[list[Action]], None] = lambda actions: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Apply `decide`'s actions until a fresh read needs none; one log line per action."""
    lines: list[str] = []
    writes = 0
    while writes < ROUNDS:
        read_at = clock()
        state = port.pull(run.repo, run.pr_number)
        actions = decide(state)
        if writes == 0:
            on_plan(actions)
        if not actions:
            return lines
        if clock() - read_at > MAX_READ_AGE:
            lines.append("the read took too long to plan from; reading again")
            writes += 1  # bounded all the same
            continue
        if writes:
            lines.append("another job changed the comment meanwhile; repairing")
        lines.extend(apply(actions, port, run))
        writes += 1
        if isinstance(port, DryRun):
            return lines  # nothing was written, so looking again would only repeat the plan
        sleep(settle)
    lines.append(f"still changing after {ROUNDS} writes; the next run reconciles it")
    return lines
