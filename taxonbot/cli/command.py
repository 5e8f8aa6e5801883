"""`taxonbot command`: answer a `/taxonbot` comment on a pull request (command.yml).

Runs from the default branch's trusted code on the issue_comment event that GitHub wrote to
$GITHUB_EVENT_PATH; it never checks out or runs pull-request code. The comment's text decides
only which of a few fixed answers to give (taxonbot.comment.commands.parse_command, which also
refuses anyone the repository does not trust). The answer goes into OUR ONE sticky comment, in
the reply section at its end (taxonbot/comment/reply.py) that each command replaces; no second
comment is ever made. `recheck` and `preview` re-run the newest pr.yml run for the pull
request's current head, found through the API; `preview --pairs N` first leaves the request in
the reply section, where that run reads it (`taxonbot preview-request`). Writes converge with
comment.yml's (taxonbot/github/converge.py). Shows the plan; writes only with --post.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from taxonbot.comment.commands import CommandDecision, parse_command
from taxonbot.comment.reply import section, with_reply
from taxonbot.exits import Exit
from taxonbot.github.converge import SETTLE, converge
from taxonbot.github.dryrun import DryRun
from taxonbot.github.events import CommentTarget, EventError, comment_target, read_event_object
from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.markers import MARKER, owned
from taxonbot.github.port import GitHubError, GitHubPort
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.github.values import (
    Action,
    CreateComment,
    DeleteComment,
    EditComment,
    PrState,
    RunInfo,
)
from taxonbot.markdown import code

ACTIONS_BOT = BOT_LOGIN  # who GITHUB_TOKEN comments as (taxonbot/github/identity.py)
PR_WORKFLOW = "pr.yml"  # the workflow whose run a recheck repeats
MAX_EVENT_BYTES = 1 << 20  # GitHub caps a comment at 65,536 characters; events stay far below
# "-1" for a refusal: GitHub shows who reacted, and the help text says who may run commands.
REACTIONS = {"help": "eyes", "recheck": "eyes", "preview": "eyes", "refused": "-1"}
# anything else (an unknown command): confused
EXITS = {
    Exit.OK: "answered, refused with a reaction, or nothing to answer",
    Exit.NO: "the event is unusable or another repository's, or GitHub refused a write",
    Exit.CANNOT: "usage: GITHUB_TOKEN is not set",
}


@dataclass(frozen=True)
class CommandOptions:
    event: str  # the issue_comment event file
    repo: str
    bot_login: str
    post: bool
    settle: float


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event", required=True, help="the issue_comment event JSON file")
    parser.add_argument("--repo", required=True, help="owner/name of this repository")
    parser.add_argument("--bot-login", default=ACTIONS_BOT, help="the login our comments have")
    parser.add_argument("--post", action="store_true", help="write; without it, only show")
    parser.add_argument(
        "--settle",
        type=float,
        default=float(os.environ.get("TAXONBOT_SETTLE_SECONDS", SETTLE)),
        help=f"seconds to wait after writing before checking it held (default {SETTLE:g})",
    )


def options(args: argparse.Namespace) -> CommandOptions:
    return CommandOptions(args.event, args.repo, args.bot_login, args.post, args.settle)


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(options: CommandOptions) -> Exit:
    try:
        event = read_event_object(options.event, MAX_EVENT_BYTES)
        decision = parse_command(event)
        if decision.kind == "ignore":
            print(
                "taxonbot command: nothing to do: not a new `/taxonbot` comment by a person "
                "on a pull request."
            )
            return Exit.OK
        target = comment_target(event, options.repo)
    except EventError as exc:
        print(f"taxonbot command: nothing done: {exc}", file=sys.stderr)
        return exc.exit
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print("taxonbot command: GITHUB_TOKEN is not set; nothing done.", file=sys.stderr)
        return Exit.CANNOT
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    with PyGithubAdapter(token, api, login=options.bot_login) as adapter:
        port: GitHubPort = adapter if options.post else DryRun(adapter)
        exit_code = respond(options.repo, options.bot_login, decision, target, port, options.settle)
    if not options.post:
        print("taxonbot command: dry run; nothing was written (--post to write).")
    return exit_code


def respond(
    repo: str,
    bot_login: str,
    decision: CommandDecision,
    target: CommentTarget,
    port: GitHubPort,
    settle: float = SETTLE,
) -> Exit:
    verb = "would " if isinstance(port, DryRun) else ""
    if decision.kind == "refused":
        # Someone the repository does not trust: a reaction, and nothing else. Writing a reply
        # would replace a maintainer's pending one (and its preview request), and would let
        # anyone make this job edit our comment as often as they like.
        print(f"taxonbot command: {target.commenter!r} may not run commands; reacting only.")
        react(repo, target.comment_id, REACTIONS["refused"], port, verb)
        return Exit.OK
    try:
        state = port.pull(repo, target.number)
        who = code(target.commenter, 60)  # inline code: names the person, never pings
        if decision.kind not in ("recheck", "preview"):
            write_reply(
                repo,
                bot_login,
                target,
                port,
                section(state.head_sha, who, decision.reply_markdown),
                settle,
            )
        else:
            rerun_with_reply(repo, bot_login, decision, target, port, state, who, settle, verb)
    except GitHubError as exc:
        print(f"taxonbot command: {exc}", file=sys.stderr)
        return Exit.NO
    react(repo, target.comment_id, REACTIONS.get(decision.kind, "confused"), port, verb)
    return Exit.OK


def rerun_with_reply(
    repo: str,
    bot_login: str,
    decision: CommandDecision,
    target: CommentTarget,
    port: GitHubPort,
    state: PrState,
    who: str,
    settle: float,
    verb: str,
) -> None:
    """The reply (with a preview request, if any) is in place BEFORE the re-run starts, so the
    run finds it; a re-run GitHub refuses then replaces the reply with what happened."""
    pairs = decision.pairs if decision.kind == "preview" else None
    sha = f"`{state.head_sha[:12]}`"
    if state.state != "open" or state.merged:
        reply = "This pull request is closed, so nothing was re-run.\n"
        write_reply(repo, bot_login, target, port, section(state.head_sha, who, reply), settle)
        return
    run = port.latest_run(repo, PR_WORKFLOW, state.head_sha)
    if run is None:
        print(f"taxonbot command: no {PR_WORKFLOW} run for {state.head_sha}")
        reply = (
            f"No `{PR_WORKFLOW}` run was found for the latest commit ({sha}), so nothing was "
            "re-run. The checks start on the next push that changes files they cover.\n"
        )
        write_reply(repo, bot_login, target, port, section(state.head_sha, who, reply), settle)
        return
    run_id = run.id
    link = f"[run {run_id}](https://github.com/{repo}/actions/runs/{run_id})"
    if not run.done:
        # GitHub refuses to re-run a run that has not finished: say so in one write, instead of
        # writing "running again" and taking it back.
        reply = (
            f"The checks of commit {sha} are still running ({link}), so nothing was re-run. "
            "Ask again when they have finished; this comment updates then anyway.\n"
        )
        write_reply(repo, bot_login, target, port, section(state.head_sha, who, reply), settle)
        return
    what = f"a preview of {pairs} pairs per changed leaf" if pairs is not None else "the checks"
    reply = (
        f"Running {what} again on commit {sha}: {link}. "
        "This comment updates when the run finishes.\n"
    )
    if pairs is None:
        # A recheck needs nothing from the comment: start the run, then say so in one write.
        if not start_rerun(repo, run_id, port, verb):
            reply = _not_started(link, sha)
        write_reply(repo, bot_login, target, port, section(state.head_sha, who, reply), settle)
        return
    # A preview's size must be in the comment before the run starts and reads it back.
    write_reply(repo, bot_login, target, port, section(state.head_sha, who, reply, pairs), settle)
    if not start_rerun(repo, run_id, port, verb):
        reply = _not_started(link, sha)
        write_reply(repo, bot_login, target, port, section(state.head_sha, who, reply), settle)


def start_rerun(repo: str, run_id: int, port: GitHubPort, verb: str) -> bool:
    try:
        port.rerun(repo, run_id)
    except GitHubError as exc:
        print(f"taxonbot command: {exc}", file=sys.stderr)
        return False
    print(f"taxonbot command: {verb}re-run {PR_WORKFLOW} run {run_id}")
    return True


def _not_started(link: str, sha: str) -> str:
    return (
        f"GitHub did not start a re-run of {link} for commit {sha}; it may still be running. "
        "Try again when it has finished.\n"
    )


def write_reply(
    repo: str, bot_login: str, target: CommentTarget, port: GitHubPort, mine: str, settle: float
) -> None:
    """Put `mine` in our comment, and see that it stays there (taxonbot/github/converge.py)."""
    run = RunInfo("", 0, 0, repo, target.number)  # only where to write; no result is posted
    for line in converge(
        port, run, lambda state: reply_actions(state, bot_login, mine), settle=settle
    ):
        print(f"taxonbot command: {line}")
    print(mine)


def reply_actions(state: PrState, bot_login: str, mine: str) -> list[Action]:
    ours = sorted(
        (c for c in state.comments if owned(c.author, c.body, bot_login)), key=lambda c: c.id
    )
    if not ours:
        return [CreateComment(with_reply(MARKER, mine))]
    first = ours[0]  # the one comment.yml keeps editing; a same-instant duplicate goes
    body = with_reply(first.body, mine)
    actions: list[Action] = [EditComment(first.id, body)] if body != first.body else []
    return actions + [DeleteComment(c.id) for c in ours[1:]]


def react(repo: str, comment_id: int, content: str, port: GitHubPort, verb: str) -> None:
    """A reaction on the command comment; nice to have, so a failure is only logged."""
    try:
        port.add_reaction(repo, comment_id, content)
        print(f"taxonbot command: {verb}react {content} to comment {comment_id}")
    except GitHubError as exc:
        print(f"taxonbot command: no reaction: {exc}", file=sys.stderr)
