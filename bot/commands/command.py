"""`taxonbot command`: answer a `/taxonbot` comment on a pull request (command.yml).

Runs from the default branch's trusted code on the issue_comment event that GitHub wrote to
$GITHUB_EVENT_PATH; it never checks out or runs pull-request code. The comment's text decides
only which of a few fixed answers to give (bot.comment.commands.parse_command, which also
refuses anyone the repository does not trust). The answer goes into OUR ONE sticky comment, in a
section between `<!-- taxonbot:reply -->` and `<!-- /taxonbot:reply -->` at its end that each
command replaces; no second comment is ever made. `recheck` (and `preview`, see below) re-runs
the newest pr.yml run for the pull request's current head, found through the API.

`/taxonbot preview --pairs N` cannot change the preview budget yet: pr.yml runs on
pull_request only and takes no inputs, so the honest answer is to say so and re-run the normal
preview. Shows the plan; writes only with --post.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TypeGuard

from bot.comment.commands import CommandDecision, parse_command
from bot.comment.plan import Comment, PrState
from bot.comment.render import MARKER, name
from bot.github.port import DryRun, GitHubError, GitHubPort
from bot.github.pygithub import PyGithubAdapter
from bot.jsonfile import read_capped_json

ACTIONS_BOT = "github-actions[bot]"  # who GITHUB_TOKEN comments as
PR_WORKFLOW = "pr.yml"  # the workflow whose run a recheck repeats
MAX_EVENT_BYTES = 1 << 20  # GitHub caps a comment at 65,536 characters; events stay far below
REPLY_OPEN, REPLY_CLOSE = "<!-- taxonbot:reply -->", "<!-- /taxonbot:reply -->"
REACTIONS = {"help": "eyes", "recheck": "eyes", "preview": "eyes"}  # anything else: confused
REFUSED, USAGE = 1, 2


class Target:
    """Where the command was given: from GitHub's event, never from the comment's text."""

    def __init__(self, number: int, comment_id: int, commenter: str) -> None:
        self.number, self.comment_id, self.commenter = number, comment_id, commenter


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event", required=True, help="the issue_comment event JSON file")
    parser.add_argument("--repo", required=True, help="owner/name of this repository")
    parser.add_argument("--bot-login", default=ACTIONS_BOT, help="the login our comments have")
    parser.add_argument("--post", action="store_true", help="write; without it, only show")


def run(args: argparse.Namespace) -> int:
    event = read_event(args.event)
    if isinstance(event, str):
        print(f"taxonbot command: nothing done: {event}", file=sys.stderr)
        return REFUSED
    decision = parse_command(event)
    if decision.kind == "ignore":
        print(
            "taxonbot command: nothing to do: not a new `/taxonbot` comment by a person "
            "on a pull request."
        )
        return 0
    target = read_target(event, args.repo)
    if isinstance(target, str):
        print(f"taxonbot command: nothing done: {target}", file=sys.stderr)
        return REFUSED
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        print("taxonbot command: GITHUB_TOKEN is not set; nothing done.", file=sys.stderr)
        return USAGE
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    with PyGithubAdapter(token, api, login=args.bot_login) as adapter:
        port: GitHubPort = adapter if args.post else DryRun(adapter)
        code = respond(args.repo, args.bot_login, decision, target, port)
    if not args.post:
        print("taxonbot command: dry run; nothing was written (--post to write).")
    return code


def read_event(path: str) -> dict[str, Any] | str:
    """The event as a dict, or why not (a plain sentence for the log)."""
    data = read_capped_json(path, MAX_EVENT_BYTES)
    if isinstance(data, str):
        return data
    return data if isinstance(data, dict) else f"{path} is not a JSON object."


def read_target(event: dict[str, Any], repo: str) -> Target | str:
    issue, comment = event.get("issue"), event.get("comment")
    assert isinstance(issue, dict) and isinstance(comment, dict)  # parse_command checked
    repository = event.get("repository")
    full_name = repository.get("full_name") if isinstance(repository, dict) else None
    if isinstance(full_name, str) and full_name.casefold() != repo.casefold():
        return f"the event is for {full_name}, not {repo}."
    number, comment_id = issue.get("number"), comment.get("id")
    user = comment.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    if not (_positive(number) and _positive(comment_id) and isinstance(login, str)):
        return "the event lacks the pull request number, comment id or commenter."
    return Target(number, comment_id, login)


def _positive(value: object) -> TypeGuard[int]:
    return type(value) is int and value > 0


def respond(
    repo: str, bot_login: str, decision: CommandDecision, target: Target, port: GitHubPort
) -> int:
    verb = "would " if isinstance(port, DryRun) else ""
    try:
        state = port.pull(repo, target.number)
        reply = decision.reply_markdown
        if decision.kind in ("recheck", "preview"):
            reply = rerun_reply(repo, state, decision, port, verb)
        section = reply_section(target.commenter, reply)
        ours = [c for c in state.comments if is_ours(c, bot_login)]
        if ours:
            first = min(ours, key=lambda c: c.id)  # the one comment.yml keeps editing
            port.edit_comment(repo, first.id, with_reply(first.body, section))
            print(f"taxonbot command: PR #{target.number}: {verb}edit comment {first.id}")
        else:
            port.create_comment(repo, target.number, f"{MARKER}\n{section}")
            print(f"taxonbot command: PR #{target.number}: {verb}create the taxonbot comment")
        print(section)
    except GitHubError as exc:
        print(f"taxonbot command: {exc}", file=sys.stderr)
        return REFUSED
    react(repo, target.comment_id, REACTIONS.get(decision.kind, "confused"), port, verb)
    return 0


def rerun_reply(
    repo: str, state: PrState, decision: CommandDecision, port: GitHubPort, verb: str
) -> str:
    """Re-run the newest pr.yml run of the current head; the reply says what happened."""
    intro = ""
    if decision.kind == "preview":
        intro = (
            f"A preview with a chosen number of pairs ({decision.pairs} per leaf) is not "
            f"available from a command yet: `{PR_WORKFLOW}` makes its preview with its usual "
            "settings. "
        )
    if state.state != "open" or state.merged:
        return intro + "This pull request is closed, so nothing was re-run.\n"
    run_id = port.latest_run(repo, PR_WORKFLOW, state.head_sha)
    sha = f"`{state.head_sha[:12]}`"
    if run_id is None:
        print(f"taxonbot command: no {PR_WORKFLOW} run for {state.head_sha}")
        return intro + (
            f"No `{PR_WORKFLOW}` run was found for the latest commit ({sha}), so nothing was "
            "re-run. The checks start on the next push that changes files they cover.\n"
        )
    link = f"[run {run_id}](https://github.com/{repo}/actions/runs/{run_id})"
    try:
        port.rerun(repo, run_id)
    except GitHubError as exc:
        print(f"taxonbot command: {exc}", file=sys.stderr)
        return intro + (
            f"GitHub did not start a re-run of {link} for the latest commit ({sha}); it may "
            "still be running. Try again when it has finished.\n"
        )
    print(f"taxonbot command: {verb}re-run {PR_WORKFLOW} run {run_id} ({state.head_sha})")
    return intro + (
        f"Running the checks again on the latest commit ({sha}): {link}. "
        "The taxonbot comment will update when they finish.\n"
    )


def reply_section(commenter: str, reply: str) -> str:
    # The login as inline code (bot.comment.render.name): it names the person, never pings.
    who = name(commenter, 60)
    return (
        f"{REPLY_OPEN}\n\n---\n\n_In reply to {who}'s `/taxonbot` command:_\n\n"
        f"{reply.rstrip()}\n{REPLY_CLOSE}"
    )


def with_reply(body: str, section: str) -> str:
    """`body` with its reply section (ours is always last) replaced by `section`."""
    start = body.rfind(REPLY_OPEN)  # rendered untrusted text never holds `<!--` (render.py)
    kept = body if start < 0 else body[:start]
    return f"{kept.rstrip()}\n\n{section}"


def is_ours(comment: Comment, bot_login: str) -> bool:
    # The same rule as bot.comment.plan: our login and our marker; the marker alone is typeable.
    return comment.author.casefold() == bot_login.casefold() and MARKER in comment.body


def react(repo: str, comment_id: int, content: str, port: GitHubPort, verb: str) -> None:
    """A reaction on the command comment; nice to have, so a failure is only logged."""
    try:
        port.add_reaction(repo, comment_id, content)
        print(f"taxonbot command: {verb}react {content} to comment {comment_id}")
    except GitHubError as exc:
        print(f"taxonbot command: no reaction: {exc}", file=sys.stderr)
