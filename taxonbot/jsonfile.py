"""Reading a JSON file someone else wrote (an artifact, an event) without trusting its size."""

from __future__ import annotations

import json
import os
from typing import Any

from taxonbot.errors import CannotRun


class UnreadableJson(CannotRun):
    """The file could not be read as JSON; the message is a plain sentence for a log line."""


def over_limit(size: int | None, limit: int) -> str:
    """**The** words of every size cap, after "x.json is": "29 bytes; the limit is 16 bytes".

    `size` is what the file system says; a pipe has none (or 0), and then "more than" the limit
    is all anyone knows.
    """
    shown = f"{size:,} bytes" if size and size > limit else f"more than {limit:,} bytes"
    return f"{shown}; the limit is {limit:,} bytes"


def read_capped_json(path: str, max_bytes: int) -> Any:
    """The parsed JSON; UnreadableJson says why not (missing, too large, not JSON, too deep).

    Never reads more than `max_bytes + 1` bytes, whatever the file claims to be.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
            size = os.fstat(handle.fileno()).st_size
    except OSError as exc:
        raise UnreadableJson(f"cannot read {path} ({exc.strerror}).") from exc
    if len(raw) > max_bytes:
        raise UnreadableJson(f"{path} is {over_limit(size, max_bytes)}.")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableJson(f"{path} is not JSON ({exc}).") from exc
    except RecursionError:
        # json's C scanner recurses per nesting level: `[[[[...` thousands deep ends here.
        raise UnreadableJson(
            f"{path} nests deeper than Python can read; no file we write nests like that."
        ) from None
