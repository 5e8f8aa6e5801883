"""How our comment is known again: the hidden marker, the run line it records, and whose it is.

Both jobs that write the sticky comment and the adapter that looks for a comment it may have
posted already (a POST answered 502) read these; nothing else decides what "ours" means.
"""

from __future__ import annotations

import json

MARKER = "<!-- taxonbot:comment -->"
RUN_PREFIX = "<!-- taxonbot:run "
RUN_KEYS = ("run_id", "run_attempt")


def owned(author: str, body: str, bot_login: str) -> bool:
    """Our comment: our login (case-insensitive, as GitHub's) and our marker; the marker alone
    could be typed by anyone."""
    return author.casefold() == bot_login.casefold() and MARKER in body


def recorded_run(body: str) -> tuple[int, int] | None:
    """(run_id, run_attempt) from the run line of a comment we wrote; None when unreadable."""
    for line in body.splitlines()[:5]:
        line = line.rstrip()
        if line.startswith(RUN_PREFIX) and line.endswith("-->"):
            try:
                run = json.loads(line[len(RUN_PREFIX) : -3])
            except ValueError:
                return None
            run_id, attempt = (
                (run.get(k) for k in RUN_KEYS) if isinstance(run, dict) else (None, None)
            )
            # type(...) is int: no bool; and no clamping, run ids pass 10**10 these days
            return (run_id, attempt) if type(run_id) is type(attempt) is int else None
    return None
