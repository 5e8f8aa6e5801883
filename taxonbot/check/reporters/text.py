"""Plain text for terminals and pre-commit: `path:line:col: severity [rule] message`."""

from __future__ import annotations

from taxonbot.check.reporters.report import CheckReport


def render(report: CheckReport) -> str:
    lines = []
    for f in report.findings:
        where = f" (at {f.yaml_path})" if f.yaml_path else ""
        lines.append(f"{f.location}: {f.severity} [{f.rule}] {f.message}{where}")
        lines.append(f"    fix: {f.hint}")
    lines.append(report.summary() + (" All good." if not report.findings else ""))
    return "\n".join(lines) + "\n"
