"""`taxonbot preview-request`: the preview size a maintainer asked for, for pr.yml.

`/taxonbot preview --pairs N` (command.yml) leaves the request in the reply section of OUR
sticky comment, for the pull request's head at that time (taxonbot/comment/reply.py), then re-runs
pr.yml. This reads it back with pr.yml's read-only token: only a comment by our login with our
marker counts, only for the head being checked, only a number in range. It prints the number
and writes `pairs=N` to $GITHUB_OUTPUT (an integer we validated: never text from the PR). When
there is no request, or GitHub cannot be read, the answer is the default, and the run goes on.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

from taxonbot.comment.commands import PAIRS_DEFAULT
from taxonbot.comment.reply import preview_request
from taxonbot.exits import Exit
from taxonbot.github.events import EventError, pull_target, read_event
from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.port import GitHubError
from taxonbot.github.pygithub import PyGithubAdapter

ACTIONS_BOT = BOT_LOGIN  # who GITHUB_TOKEN comments as (taxonbot/github/identity.py)
MAX_EVENT_BYTES = 4 * 1024 * 1024
# Read-only and advisory: whatever goes wrong, the answer is the default and the run goes on.
EXITS = {Exit.OK: "printed the size (the default when there is no request, or on any trouble)"}


@dataclass(frozen=True)
class PreviewRequestOptions:
    event: str  # the pull_request event file
    default: int
    bot_login: str


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event", required=True, help="the pull_request event file")
    parser.add_argument("--default", type=int, default=PAIRS_DEFAULT, help="without a request")
    parser.add_argument("--bot-login", default=ACTIONS_BOT, help="the login our comments have")


def options(args: argparse.Namespace) -> PreviewRequestOptions:
    return PreviewRequestOptions(args.event, args.default, args.bot_login)


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(options: PreviewRequestOptions) -> Exit:
    pairs, why = find(options)
    print(f"taxonbot preview-request: {pairs} pairs per changed leaf ({why})", file=sys.stderr)
    print(pairs)
    set_output("pairs", str(pairs))
    return Exit.OK


def find(options: PreviewRequestOptions) -> tuple[int, str]:
    try:
        target = pull_target(read_event(options.event, MAX_EVENT_BYTES))
    except EventError as exc:
        return options.default, f"the default: {exc}"
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        return options.default, "the default: GITHUB_TOKEN is not set"
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    try:
        with PyGithubAdapter(token, api, login=options.bot_login) as adapter:
            state = adapter.pull(target.repo, target.number)
    except GitHubError as exc:
        return options.default, f"the default: {exc}"
    asked = preview_request(state.comments, options.bot_login, target.head_sha)
    if asked is None:
        return options.default, "the default: no maintainer asked for another size at this commit"
    return asked, "a maintainer's /taxonbot preview --pairs request"


def set_output(name: str, value: str) -> None:
    """One `name=value` line in $GITHUB_OUTPUT when Actions provides it; values are ours."""
    if "\n" in value or "\r" in value or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ValueError(f"not a safe step output: {name}")
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")
