"""`taxonbot comment`: the privileged side. Reconciles ONE sticky comment and the labels.

Runs in comment.yml (workflow_run, pull-requests: write) on data only: result.json from the
unprivileged pr.yml run. Everything that decides where to post comes from the API and the
event, never from the artifact: the PR is found by head SHA and head repository, and the
artifact must name that same head SHA. Shows the plan; writes only with --post.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bot.collect import MAX_RESULT_BYTES
from bot.comment.plan import Action, Desired, PrState, RunInfo, desired_state, plan
from bot.github.converge import SETTLE, converge
from bot.github.port import DryRun, GitHubError, GitHubPort, RecordingGitHub
from bot.github.pygithub import PyGithubAdapter
from bot.jsonfile import read_capped_json
from bot.schemas import validator

RESULT_SCHEMA = "https://taxonbot.dev/schemas/result.json"
ACTIONS_BOT = "github-actions[bot]"  # who GITHUB_TOKEN comments as
REFUSED, USAGE = 1, 2
MAX_EVENT_BYTES = 4 * 1024 * 1024


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--result", required=True, help="result.json from the pr workflow")
    parser.add_argument(
        "--event",
        metavar="PATH",
        help="the workflow_run event ($GITHUB_EVENT_PATH): supplies the five "
        "values below, which then need not be given",
    )
    parser.add_argument("--repo", help="owner/name of the base repository")
    parser.add_argument("--head-sha", help="the run's head SHA (from the event)")
    parser.add_argument("--head-repo", help="owner/name the head SHA lives in")
    parser.add_argument("--run-id", type=int, help="the pr run's id (event)")
    parser.add_argument("--run-attempt", type=int, help="its attempt (event)")
    parser.add_argument("--bot-login", default=ACTIONS_BOT, help="the login our comments have")
    parser.add_argument(
        "--pr-number",
        type=int,
        default=0,
        help="the PR number the workflow_run event names (same-repo PRs only; "
        "saves the lookup; its head is still checked against --head-sha)",
    )
    parser.add_argument("--post", action="store_true", help="write; without it, only show")
    parser.add_argument(
        "--settle",
        type=float,
        default=float(os.environ.get("TAXONBOT_SETTLE_SECONDS", SETTLE)),
        help="seconds to wait after writing before checking that no other job undid it "
        f"(default {SETTLE:g}; bot/github/converge.py)",
    )
    parser.add_argument(
        "--local",
        metavar="OUT.md",
        help="no GitHub: plan against an in-memory open PR with this head, apply "
        "there, and write the comment it ends up with to OUT.md (demos)",
    )


def run(args: argparse.Namespace) -> int:
    problem = from_event(args) if args.event else None
    missing = [
        f"--{n.replace('_', '-')}"
        for n in ("repo", "head_sha", "head_repo", "run_id", "run_attempt")
        if getattr(args, n) is None
    ]
    if problem or missing:
        print(
            f"taxonbot comment: {problem or 'missing ' + ', '.join(missing)}; nothing posted.",
            file=sys.stderr,
        )
        return USAGE
    result = read_result(args.result, args.head_sha, (args.run_id, args.run_attempt))
    if isinstance(result, str):
        print(f"taxonbot comment: nothing posted: {result}", file=sys.stderr)
        return REFUSED
    if args.local:
        return local(args, result)
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print("taxonbot comment: GITHUB_TOKEN is not set; nothing posted.", file=sys.stderr)
        return USAGE
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    with PyGithubAdapter(token, api, login=args.bot_login) as adapter:
        return reconcile(args, result, adapter if args.post else DryRun(adapter))


def reconcile(args: argparse.Namespace, result: dict[str, Any], port: GitHubPort) -> int:
    try:
        # The event names same-repo PRs (not forks'); plan() still refuses if that PR's head is
        # not this run's head, so the shortcut cannot post to the wrong PR.
        numbers = (
            [args.pr_number]
            if getattr(args, "pr_number", 0)
            else port.pulls_for_head(args.repo, args.head_sha, args.head_repo)
        )
        if not numbers:
            print(
                f"taxonbot comment: no open pull request has head {args.head_sha}; nothing to do."
            )
            return 0
        for number in numbers:
            # The run's identity comes from the event (the artifact's copy was checked equal).
            run_info = RunInfo(args.head_sha, args.run_id, args.run_attempt, args.repo, number)
            desired = desired_state(result, run_info)

            def decide(
                state: PrState, run_info: RunInfo = run_info, desired: Desired = desired
            ) -> list[Action]:
                return plan(desired, state, run_info, args.bot_login)

            def show(actions: list[Action], number: int = number) -> None:
                report(number, actions, args.post)

            lines = converge(port, run_info, decide, settle=args.settle, on_plan=show)
            for line in lines:
                print(f"  {line}")
    except GitHubError as exc:
        print(f"taxonbot comment: {exc}", file=sys.stderr)
        return REFUSED
    return 0


def from_event(args: argparse.Namespace) -> str | None:
    """Fill the run's identity from a workflow_run event; None when it could, else why not."""
    event = read_capped_json(args.event, MAX_EVENT_BYTES)
    if isinstance(event, str):
        return event
    try:
        run = event["workflow_run"]
        args.repo = args.repo or event["repository"]["full_name"]
        args.head_sha = args.head_sha or run["head_sha"]
        args.head_repo = args.head_repo or run["head_repository"]["full_name"]
        args.run_id = args.run_id or int(run["id"])
        args.run_attempt = args.run_attempt or int(run.get("run_attempt") or 1)
        numbers = [p["number"] for p in run.get("pull_requests") or []]
        args.pr_number = args.pr_number or (numbers[0] if len(numbers) == 1 else 0)
    except (ValueError, KeyError, TypeError) as exc:
        return f"{args.event} is not a workflow_run event ({exc!r})"
    return None


def local(args: argparse.Namespace, result: dict[str, Any]) -> int:
    github = RecordingGitHub(args.bot_login)
    github.add_pull(args.repo, 1, args.head_sha, head_repo=args.head_repo)
    args.post, args.settle = True, 0.0  # in memory: nobody else writes
    code = reconcile(args, result, github)
    (body,) = github.bodies(args.repo, 1)
    with open(args.local, "w", encoding="utf-8") as handle:
        handle.write(body)
    labels = sorted(github.pull(args.repo, 1).labels)
    print(f"taxonbot comment: the PR would show {args.local} with labels: {', '.join(labels)}")
    return code


def read_result(path: str, head_sha: str, run: tuple[int, int]) -> dict[str, Any] | str:
    """The validated result, or why it was refused (a plain sentence for the log)."""
    data = read_capped_json(path, MAX_RESULT_BYTES)
    if isinstance(data, str):
        return data
    errors = sorted(validator(RESULT_SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "top level"
        return f"{path} does not match schemas/result.json at {where}: {errors[0].message[:200]}"
    if data["head_sha"] != head_sha or (data["run_id"], data["run_attempt"]) != run:
        return (
            f"{path} names head {data['head_sha'][:12]} run {data['run_id']}/"
            f"{data['run_attempt']}, not this event's {head_sha[:12]} run {run[0]}/{run[1]}; "
            "an artifact from another run or pull request is never posted."
        )
    return data


def report(number: int, actions: list[Action], post: bool) -> None:
    verb = "applying" if post else "would apply (dry run; --post to write)"
    names = ", ".join(type(a).__name__ for a in actions) or "nothing: already up to date"
    print(f"taxonbot comment: PR #{number}: {verb}: {names}")
