"""`/taxonbot` commands in pull request comments: one issue_comment payload -> one decision.

Pure: the workflow reads the event file, calls `parse_command`, then posts the reply and starts
what the decision asks for. Only people the repository trusts (OWNER, MEMBER, COLLABORATOR by
`author_association`) start work, since a preview or a re-run spends CI time; anyone else's
command is "refused": the job reacts to it and writes nothing else (taxonbot/cli/command.py).
Replies echo the commenter's words only through taxonbot.markdown's escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from taxonbot.markdown import code

TRUSTED = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
PREFIX = "/taxonbot"
PAIRS_MIN, PAIRS_MAX, PAIRS_DEFAULT = 1, 50, 10
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

Kind = Literal["ignore", "help", "preview", "recheck", "refused", "unknown"]

HELP = f"""\
**taxonbot commands** (maintainers and collaborators; one command per comment, on its own line):

| Command | What it does |
|---|---|
| `/taxonbot help` | Shows this list. |
| `/taxonbot recheck` | Runs the checks again on the latest commit; the comment updates. |
| `/taxonbot preview` | Makes the sample training pairs again ({PAIRS_DEFAULT} per changed leaf). |
| `/taxonbot preview --pairs N` | The same, N pairs per changed leaf ({PAIRS_MIN}-{PAIRS_MAX}). |

Every push to the pull request runs the checks anyway; no command is needed for that.
"""
REFUSAL = """\
Thanks for trying a taxonbot command! Only maintainers and collaborators of this repository can \
run `/taxonbot` commands, because they use shared CI time. The checks already run again on every \
push to this pull request. If you need a preview or a re-run, ask a reviewer in a comment.
"""


@dataclass(frozen=True)
class CommandDecision:
    kind: Kind
    pairs: int | None  # preview only: candidate pairs per changed leaf
    reply_markdown: str  # what to post in reply; "" when kind is "ignore"


IGNORE = CommandDecision("ignore", None, "")


def parse_command(payload: dict[str, Any]) -> CommandDecision:
    comment = payload.get("comment")
    issue = payload.get("issue")
    if payload.get("action") != "created" or not isinstance(comment, dict):
        return IGNORE
    if not isinstance(issue, dict) or not issue.get("pull_request"):
        return IGNORE  # a comment on a plain issue: there is nothing to check
    user = comment.get("user")
    if isinstance(user, dict) and user.get("type") == "Bot":
        return IGNORE  # never answer a bot, ourselves included: no reply loops
    body = comment.get("body")
    words = command_words(body) if isinstance(body, str) else None
    if words is None:
        return IGNORE
    if comment.get("author_association") not in TRUSTED:
        return CommandDecision("refused", None, REFUSAL)
    return _decide(words)


def command_words(body: str) -> list[str] | None:
    """The words after `/taxonbot` on the first line that starts with it, outside code blocks
    and quotes (quoting someone's command must not run it again); None when there is none."""
    fence = ""
    for line in body.splitlines():
        match = _FENCE.match(line)
        if fence and match and match[1].startswith(fence) and not line.strip().strip(fence[0]):
            fence = ""  # a closing fence: the opening's character, at least as long, nothing else
            continue
        if not fence and match:
            fence = match[1]
            continue
        words = line.split()
        if not fence and words and words[0].casefold() == PREFIX:
            return words[1:10]
    return None


def _decide(words: list[str]) -> CommandDecision:
    command, options = (words[0].casefold(), words[1:]) if words else ("help", [])
    if command == "help" and not options:
        return CommandDecision("help", None, HELP)
    if command == "recheck" and not options:
        reply = (
            "Running the checks again on the latest commit of this pull request. "
            "The taxonbot comment will update when they finish.\n"
        )
        return CommandDecision("recheck", None, reply)
    if command == "preview":
        return _preview(options)
    said = " ".join(words)
    return _unknown(f"I don't know the command {code(PREFIX + ' ' + said, 80)}.")


def _preview(options: list[str]) -> CommandDecision:
    if not options:
        pairs: int | None = PAIRS_DEFAULT
    elif len(options) == 2 and options[0] == "--pairs":
        pairs = _bounded(options[1])
    elif len(options) == 1 and options[0].startswith("--pairs="):
        pairs = _bounded(options[0].removeprefix("--pairs="))
    else:
        return _unknown(
            f"`/taxonbot preview` takes only `--pairs N`, not {code(' '.join(options), 60)}."
        )
    if pairs is None:
        return _unknown(f"`--pairs` takes a whole number from {PAIRS_MIN} to {PAIRS_MAX}.")
    reply = (
        f"Making the preview again with {pairs} pairs per changed leaf. This comment shows "
        "the results when the run finishes (a few minutes; longer for more pairs).\n"
    )
    return CommandDecision("preview", pairs, reply)


def _bounded(value: str) -> int | None:
    if not re.fullmatch(r"[0-9]{1,3}", value):  # ASCII digits only; no "٣" or "1e9"
        return None
    number = int(value)
    return number if PAIRS_MIN <= number <= PAIRS_MAX else None


def _unknown(problem: str) -> CommandDecision:
    return CommandDecision("unknown", None, f"{problem}\n\n{HELP}")
