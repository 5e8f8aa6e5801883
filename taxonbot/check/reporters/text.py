"""Plain text for terminals and pre-commit: `path:line:col: severity [rule] message`."""

from __future__ import annotations

from taxonbot.check.reporters.report import CheckReport
from taxonbot.terminal import printable


def render(report: CheckReport) -> str:
    """Everything a finding quotes from a file goes through `printable`: no raw control or
    escape sequence reaches the terminal."""
    lines = []
    for f in report.findings:
        where = f" (at {f.yaml_path})" if f.yaml_path else ""
        line = f"{f.location}: {f.severity} [{f.rule}] {f.message}{where}"
        lines.append(printable(line))
        lines.append(f"    fix: {printable(f.hint)}")
    lines.append(report.summary() + (" All good." if not report.findings else ""))
    return "\n".join(lines) + "\n"
