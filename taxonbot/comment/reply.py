"""The reply section at the end of the sticky comment, and the preview request it can carry.

A maintainer's `/taxonbot` command is answered inside OUR ONE comment, in a section that starts
with `<!-- taxonbot:reply head=SHA -->` and ends with `<!-- /taxonbot:reply -->`. The head SHA
is the pull request's head when the command was answered: comment.yml keeps the section while
the head stays the same (so a reply is never lost to a result landing at the same moment) and
drops it after a new push, when it no longer applies.

`/taxonbot preview --pairs N` leaves `<!-- taxonbot:preview-pairs=N -->` in the section; the
pr.yml run that the command re-ran reads it back from our comment (`taxonbot preview-request`)
and makes a preview of that size. Only our login's comment is read, and rendered untrusted text
never contains `<!--` (taxonbot/comment/render.py), so nobody else can make such a request.

Pure: strings in, strings out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from taxonbot.comment.commands import PAIRS_MAX, PAIRS_MIN
from taxonbot.github.markers import owned

REPLY_PREFIX = "<!-- taxonbot:reply"
REPLY_CLOSE = "<!-- /taxonbot:reply -->"
MAX_SECTION = 4_000  # the help text is ~1,500; the comment keeps 5,500 spare under 65,536
_OPEN = re.compile(r"<!-- taxonbot:reply head=([0-9a-f]{40}) -->")
_REQUEST = re.compile(r"<!-- taxonbot:preview-pairs=([0-9]{1,3}) -->")


class _Comment(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def author(self) -> str: ...
    @property
    def body(self) -> str: ...


def section(head_sha: str, who: str, reply: str, pairs: int | None = None) -> str:
    """A reply section; `who` is already safe Markdown (inline code), `reply` ours."""
    request = f"<!-- taxonbot:preview-pairs={pairs} -->\n" if pairs is not None else ""
    text = (
        f"<!-- taxonbot:reply head={head_sha} -->\n{request}\n---\n\n"
        f"_In reply to {who}'s `/taxonbot` command:_\n\n{reply.rstrip()}\n{REPLY_CLOSE}"
    )
    if len(text) > MAX_SECTION:
        raise ValueError("a reply section over 4,000 characters")  # ours; bounded by design
    return text


def split(body: str) -> tuple[str, str]:
    """(the body without its reply section, the section or '')."""
    start = body.rfind(REPLY_PREFIX)
    if start < 0:
        return body, ""
    return body[:start].rstrip(), body[start:]


def with_reply(body: str, reply_section: str) -> str:
    """`body` with its reply section (ours is always last) replaced by `reply_section`."""
    kept, _ = split(body)
    return f"{kept}\n\n{reply_section}" if reply_section else kept


def kept_reply(body: str, head_sha: str) -> str:
    """The reply section of `body` when it was given at `head_sha` (and is well formed)."""
    _, reply = split(body)
    opened = _OPEN.match(reply)
    if not opened or opened.group(1) != head_sha or not reply.rstrip().endswith(REPLY_CLOSE):
        return ""
    return reply if len(reply) <= MAX_SECTION else ""


def preview_request(comments: Iterable[_Comment], bot_login: str, head_sha: str) -> int | None:
    """The preview size a maintainer asked for at this head, from our comment only."""
    ours = [c for c in comments if owned(c.author, c.body, bot_login)]
    if not ours:
        return None
    reply = kept_reply(min(ours, key=lambda c: c.id).body, head_sha)
    found = _REQUEST.search(reply)
    if found is None:
        return None
    pairs = int(found.group(1))
    return pairs if PAIRS_MIN <= pairs <= PAIRS_MAX else None
