"""`taxonbot comment`: the privileged side. The merge gate, ONE sticky comment and the labels.

Runs in comment.yml (workflow_run; default-branch code; pull-requests, issues and checks write).
Everything that decides where to write and what the verdict is comes from GitHub, never from
pr.yml's artifact (which PR code wrote):
1. the pull request is found from the event's head repository, branch and SHA and confirmed
   through the API (taxonbot/github/locate.py); the artifact's PR number is only a hint;
2. the PR's changed taxonomy files are read through the API as data at the head commit and
   checked here (taxonbot/check/gate.py): that verdict is the `taxonbot / check` check run, the
   `check:*` labels and the comment's verdict; where the artifact's own verdict differs, the
   comment says so;
3. result.json (validated, size- and depth-capped: taxonbot/comment/job.py) adds the PR run's
   preview, gaps and novelty, shown as that run's advisory data. A missing artifact, or one
   from another attempt, is a notice: the gate and the comment are still published, without
   those sections.
Shows the plan; writes only with --post.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from taxonbot.check.gate import Gate, combine, trusted_check, unrecognised_group
from taxonbot.check.reporters.jsonout import as_dict
from taxonbot.check.rules.context import DEFAULT_ALLOWED_HOSTS, CheckOptions
from taxonbot.comment.artifact import check_counts
from taxonbot.comment.checkrun import GATE_NAME, check_run_request, impostors, publish_check_run
from taxonbot.comment.job import (
    NO_ARTIFACT,
    Artifact,
    Job,
    JobError,
    JobFlags,
    hints,
    read_artifact,
    read_job,
)
from taxonbot.comment.plan import Desired, desired_state, plan
from taxonbot.exits import Exit
from taxonbot.github.converge import SETTLE, converge
from taxonbot.github.dryrun import DryRun
from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.locate import find_pulls
from taxonbot.github.memory import InMemoryGitHub
from taxonbot.github.port import GitHubError, GitHubPort
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.github.records import PullHead
from taxonbot.github.values import Action, PrState, RunInfo

ACTIONS_BOT = BOT_LOGIN  # who GITHUB_TOKEN comments as (taxonbot/github/identity.py)
EXITS = {
    Exit.OK: "the gate and the comment are published (or planned), or there is nothing to do",
    Exit.NO: "GitHub refused or failed a read or write",
    Exit.CANNOT: "usage: the run's identity is missing, or GITHUB_TOKEN is not set",
}
GATE_OPTIONS = CheckOptions(changed=True, allowed_hosts=tuple(DEFAULT_ALLOWED_HOSTS))
# A merge queue's branch, as GitHub names it (the payload's head_branch; `refs/heads/` in some).
QUEUE_BRANCH = re.compile(r"(?:refs/heads/)?gh-readonly-queue/.+/pr-([0-9]{1,9})-[0-9a-f]{40}")


@dataclass(frozen=True)
class CommentOptions:
    result: str | None  # result.json; None: the gate runs without it
    event: str | None  # the workflow_run event file; else `flags` say who ran
    flags: JobFlags
    bot_login: str
    post: bool
    settle: float
    local: str | None  # OUT.md: an in-memory PR instead of GitHub


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--result", help="result.json from the pr workflow (optional: the gate runs without it)"
    )
    parser.add_argument(
        "--event",
        metavar="PATH",
        help="the workflow_run event ($GITHUB_EVENT_PATH): supplies the values below, "
        "which then need not be given",
    )
    parser.add_argument("--repo", help="owner/name of the base repository")
    parser.add_argument("--head-sha", help="the run's head SHA (from the event)")
    parser.add_argument("--head-repo", help="owner/name the head SHA lives in")
    parser.add_argument("--head-branch", default="", help="the run's head branch (event)")
    parser.add_argument("--run-id", type=int, help="the pr run's id (event)")
    parser.add_argument("--run-attempt", type=int, help="its attempt (event)")
    parser.add_argument("--bot-login", default=ACTIONS_BOT, help="the login our comments have")
    parser.add_argument(
        "--pr-number",
        type=int,
        default=0,
        help="a PR number to try first; used only if the API confirms its head is this run's",
    )
    parser.add_argument("--post", action="store_true", help="write; without it, only show")
    parser.add_argument(
        "--settle",
        type=float,
        default=float(os.environ.get("TAXONBOT_SETTLE_SECONDS", SETTLE)),
        help="seconds to wait after writing before checking that no other job undid it "
        f"(default {SETTLE:g}; taxonbot/github/converge.py)",
    )
    parser.add_argument(
        "--local",
        metavar="OUT.md",
        help="no GitHub: an in-memory open PR with this head whose files are the checked "
        "files of the working tree; apply there and write the comment to OUT.md (demos)",
    )


def options(args: argparse.Namespace) -> CommentOptions:
    flags = JobFlags(
        args.repo, args.head_sha, args.head_repo, args.head_branch, args.run_id,
        args.run_attempt, args.pr_number,
    )  # fmt: skip
    return CommentOptions(
        args.result, args.event, flags, args.bot_login, args.post, args.settle, args.local
    )


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(options: CommentOptions) -> Exit:
    try:
        job = read_job(options.event, options.flags)
    except JobError as exc:
        print(f"taxonbot comment: {exc}; nothing posted.", file=sys.stderr)
        return exc.exit
    if job.event not in ("pull_request", "merge_group"):
        print(f"taxonbot comment: a {job.event} run has no pull request to comment on.")
        return Exit.OK
    artifact = read_artifact(options.result, job) if job.event == "pull_request" else NO_ARTIFACT
    if artifact.hint is not None:
        tried = hints(*job.facts.hints, artifact.hint)
        job = dataclasses.replace(job, facts=dataclasses.replace(job.facts, hints=tried))
    if artifact.notice:
        # ::notice:: shows on the run's summary page without turning the run red.
        print(f"::notice::taxonbot comment: {artifact.notice}")
    if options.local:
        return local(options.local, options.bot_login, job, artifact)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print("taxonbot comment: GITHUB_TOKEN is not set; nothing posted.", file=sys.stderr)
        return Exit.CANNOT
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    with PyGithubAdapter(token, api, login=options.bot_login) as adapter:
        port = adapter if options.post else DryRun(adapter)
        if job.event == "merge_group":
            return merge_group(job, port)
        return reconcile(job, artifact, port, options.bot_login, options.post, options.settle)


def merge_group(job: Job, port: GitHubPort) -> Exit:
    """A merge queue's group: the gate must report on the group's head commit too, or the
    queue waits forever. GitHub names the group's branch `gh-readonly-queue/<base>/pr-<N>-<sha>`
    (one pull request per group; batches are chains of groups), and only GitHub can create such
    a branch; the PR is confirmed open into this repository, and its changed files are checked
    as they are at the group's head. Anything unrecognised fails closed."""
    facts = job.facts
    found = QUEUE_BRANCH.fullmatch(facts.head_branch)
    try:
        pull = port.pull_head(facts.repo, int(found.group(1))) if found else None
        if (
            pull is None
            or pull.state != "open"
            or pull.base_repo.casefold() != facts.repo.casefold()
        ):
            gate = unrecognised_group(facts.head_branch)
        else:
            gate = gate_of(port, facts.repo, [dataclasses.replace(pull, head_sha=facts.head_sha)])
        request = check_run_request(facts.head_sha, gate.report, gate.too_large)
        existing = port.check_runs(facts.repo, facts.head_sha, GATE_NAME)
        for line in publish_check_run(port, facts.repo, request, existing):
            print(f"taxonbot comment: merge group: {line}")
    except GitHubError as exc:
        print(f"taxonbot comment: {exc}", file=sys.stderr)
        return Exit.NO
    return Exit.OK


def reconcile(
    job: Job, artifact: Artifact, port: GitHubPort, bot_login: str, post: bool, settle: float
) -> Exit:
    facts = job.facts
    try:
        pulls = find_pulls(port, facts)
        if not pulls:
            where = f"{facts.head_repo or '(deleted fork)'}:{facts.head_branch}"
            print(
                f"taxonbot comment: no open pull request into {facts.repo} has head "
                f"{facts.head_sha[:12]} from {where} (closed, or pushed to since); nothing to do."
            )
            return Exit.OK
        gate = gate_of(port, facts.repo, pulls)
        request = check_run_request(facts.head_sha, gate.report, gate.too_large)
        existing = port.check_runs(facts.repo, facts.head_sha, GATE_NAME)
        for line in publish_check_run(port, facts.repo, request, existing):
            print(f"taxonbot comment: {line}")
        shown = shown_result(artifact, gate, impostors(existing))
        for pull in pulls:
            run_info = RunInfo(facts.head_sha, job.run_id, job.run_attempt, facts.repo, pull.number)
            comment_on(port, run_info, desired_state(shown, run_info), bot_login, post, settle)
    except GitHubError as exc:
        print(f"taxonbot comment: {exc}", file=sys.stderr)
        return Exit.NO
    return Exit.OK


def gate_of(port: GitHubPort, repo: str, pulls: Sequence[PullHead]) -> Gate:
    gates = []
    for pull in pulls:
        with tempfile.TemporaryDirectory(prefix="taxonbot-gate-") as workdir:
            gates.append(trusted_check(port, repo, pull, workdir, GATE_OPTIONS))
    return combine(gates)


def shown_result(artifact: Artifact, gate: Gate, impostor_runs: int) -> dict[str, Any]:
    """What the comment shows: the trusted check, and the PR run's data marked as its own."""
    base = artifact.result or {"diff": None, "gaps": None, "preview": None}
    trusted = as_dict(gate.report)
    theirs = check_counts(base.get("check")) if artifact.result else None
    ours = (gate.report.errors, gate.report.warnings)
    return base | {
        "check": trusted,
        "gate": {
            "pr_counts": list(theirs) if theirs is not None else None,
            "differs": theirs is not None and theirs != ours,
            "artifact_missing": artifact.notice if artifact.result is None else None,
            "too_large": gate.too_large,
            "impostors": impostor_runs,
        },
    }


def comment_on(
    port: GitHubPort, run_info: RunInfo, desired: Desired, bot_login: str, post: bool, settle: float
) -> None:
    def decide(state: PrState) -> list[Action]:
        return plan(desired, state, run_info, bot_login)

    def show(actions: list[Action]) -> None:
        report(run_info.pr_number, actions, post)

    for line in converge(port, run_info, decide, settle=settle, on_plan=show):
        print(f"  {line}")


def local(out: str, bot_login: str, job: Job, artifact: Artifact) -> Exit:
    """The demo's PR: in memory, its changed files those the PR run checked, read from here."""
    github = InMemoryGitHub(bot_login)
    checked = (artifact.result or {}).get("check") or {}
    files: dict[str, bytes | None] = {
        p: _read(p) for p in checked.get("files") or [] if os.path.isfile(p)
    }
    facts = job.facts
    github.add_pull(
        facts.repo,
        1,
        facts.head_sha,
        head_repo=facts.head_repo,
        head_ref=facts.head_branch,
        files=files,
    )
    for path in files:
        side = os.path.join(os.path.dirname(path), "attribution.txt")
        if os.path.isfile(side):
            github.contents[(facts.repo, facts.head_sha, side)] = _read(side)
    local_job = dataclasses.replace(job, facts=dataclasses.replace(facts, hints=(1,)))
    code = reconcile(local_job, artifact, github, bot_login, True, 0.0)
    (body,) = github.bodies(facts.repo, 1)
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(body)
    labels = sorted(github.pull(facts.repo, 1).labels)
    print(f"taxonbot comment: the PR would show {out} with labels: {', '.join(labels)}")
    return code


def _read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def report(number: int, actions: list[Action], post: bool) -> None:
    verb = "applying" if post else "would apply (dry run; --post to write)"
    names = ", ".join(type(a).__name__ for a in actions) or "nothing: already up to date"
    print(f"taxonbot comment: PR #{number}: {verb}: {names}")
