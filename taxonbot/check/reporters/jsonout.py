"""Machine-readable output; the shape is documented in docs/check-json.md and stays stable."""

from __future__ import annotations

from typing import Any

from taxonbot import __version__, jsontext
from taxonbot.check.reporters.report import CheckReport

FORMAT = "taxonbot-check/1"


def render(report: CheckReport) -> str:
    """One line of JSON; what a terminal would act on (C1, DEL, bidi, U+2028) is `\\u`-escaped
    (taxonbot.jsontext), readable non-ASCII is kept."""
    return jsontext.dumps(as_dict(report)) + "\n"


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
