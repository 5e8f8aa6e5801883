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
from typing import Any

from taxonbot.comment.commands import PAIRS_DEFAULT
from taxonbot.comment.reply import preview_request
from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.port import GitHubError
from taxonbot.github.pygithub import PyGithubAdapter
from taxonbot.jsonfile import read_capped_json

ACTIONS_BOT = BOT_LOGIN  # who GITHUB_TOKEN comments as (taxonbot/github/identity.py)
MAX_EVENT_BYTES = 4 * 1024 * 1024
_SHA = re.compile(r"[0-9a-f]{40}")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event", required=True, help="the pull_request event file")
    parser.add_argument("--default", type=int, default=PAIRS_DEFAULT, help="without a request")
    parser.add_argument("--bot-login", default=ACTIONS_BOT, help="the login our comments have")


def run(args: argparse.Namespace) -> int:
    pairs, why = find(args)
    print(f"taxonbot preview-request: {pairs} pairs per changed leaf ({why})", file=sys.stderr)
    print(pairs)
    set_output("pairs", str(pairs))
    return 0


def find(args: argparse.Namespace) -> tuple[int, str]:
    target = read_target(args.event)
    if isinstance(target, str):
        return args.default, f"the default: {target}"
    repo, number, head_sha = target
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token:
        return args.default, "the default: GITHUB_TOKEN is not set"
    api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
    try:
        with PyGithubAdapter(token, api, login=args.bot_login) as adapter:
            state = adapter.pull(repo, number)
    except GitHubError as exc:
        return args.default, f"the default: {exc}"
    asked = preview_request(state.comments, args.bot_login, head_sha)
    if asked is None:
        return args.default, "the default: no maintainer asked for another size at this commit"
    return asked, "a maintainer's /taxonbot preview --pairs request"


def read_target(path: str) -> tuple[str, int, str] | str:
    """(base repository, PR number, head SHA) from a pull_request event, or why not."""
    event = read_capped_json(path, MAX_EVENT_BYTES)
    if isinstance(event, str):
        return event
    pull: Any = event.get("pull_request") if isinstance(event, dict) else None
    repository: Any = event.get("repository") if isinstance(event, dict) else None
    try:
        repo, number = repository["full_name"], pull["number"]
        head_sha = pull["head"]["sha"]
    except (KeyError, TypeError):
        return "not a pull_request event"
    if not (isinstance(repo, str) and type(number) is int and isinstance(head_sha, str)):
        return "not a pull_request event"
    if not _SHA.fullmatch(head_sha):
        return "the event's head is not a commit SHA"
    return repo, number, head_sha


def set_output(name: str, value: str) -> None:
    """One `name=value` line in $GITHUB_OUTPUT when Actions provides it; values are ours."""
    if "\n" in value or "\r" in value or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ValueError(f"not a safe step output: {name}")
    target = os.environ.get("GITHUB_OUTPUT")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")
