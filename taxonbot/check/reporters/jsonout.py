"""Machine-readable output; the shape is documented in docs/check-json.md and stays stable."""

from __future__ import annotations

import json
from typing import Any

from taxonbot import __version__
from taxonbot.check.reporters.report import CheckReport

FORMAT = "taxonbot-check/1"


def render(report: CheckReport) -> str:
    return screen_safe(json.dumps(as_dict(report), ensure_ascii=False)) + "\n"


def screen_safe(text: str) -> str:
    """JSON text with every character `str.isprintable()` refuses (as taxonbot.terminal does:
    C1 controls, DEL, bidi and zero-width characters, U+2028/U+2029) written as its `\\u`
    escape. json.dumps(ensure_ascii=False) leaves those raw, and a terminal that prints the JSON
    acts on them (U+009B starts an escape sequence on some). Such characters only occur inside
    JSON strings, so the text parses to the very same values; other non-ASCII stays readable.
    """
    if text.isprintable():  # one C-level pass; nearly every report stops here
        return text
    return "".join(ch if ch.isprintable() else json.dumps(ch)[1:-1] for ch in text)


def as_dict(report: CheckReport) -> dict[str, Any]:
    """The document `render` prints, as Python values (the comment job renders it directly)."""
    return {
        "format": FORMAT,
        "taxonbot": __version__,
        "mode": report.mode,
        "files": list(report.files),
        "summary": {
            "files": len(report.files),
            "errors": report.errors,
            "warnings": report.warnings,
        },
        "findings": [
            {
                "rule": f.rule,
                "severity": str(f.severity),
                "path": f.path,
                "line": f.pos.line,
                "col": f.pos.col,
                "yaml_path": f.yaml_path,
                "message": f.message,
                "hint": f.hint,
            }
            for f in report.findings
        ],
    }
