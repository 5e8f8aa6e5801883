"""Reading a JSON file someone else wrote (an artifact, an event) without trusting its size."""

from __future__ import annotations

import json
from typing import Any


def read_capped_json(path: str, max_bytes: int) -> Any | str:
    """The parsed JSON, or why it could not be read (a plain sentence for a log line).

    Never reads more than `max_bytes + 1` bytes, whatever the file claims to be.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        return f"cannot read {path} ({exc.strerror})."
    if len(raw) > max_bytes:
        return f"{path} is larger than {max_bytes} bytes."
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"{path} is not JSON ({exc})."
    except RecursionError:
        # json's C scanner recurses per nesting level: `[[[[...` thousands deep ends here.
        return f"{path} nests deeper than Python can read; no file we write nests like that."
