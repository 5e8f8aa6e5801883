"""Machine-readable output; the shape is documented in docs/check-json.md and stays stable."""

from __future__ import annotations

import json
from typing import Any

from taxonbot import __version__
from taxonbot.check.reporters.report import CheckReport

FORMAT = "taxonbot-check/1"


def render(report: CheckReport) -> str:
    return json.dumps(as_dict(report), ensure_ascii=False) + "\n"


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
