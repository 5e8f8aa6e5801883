"""Markdown for the PR comment and the job summary. Every finding's text is untrusted."""

from __future__ import annotations

from itertools import groupby

from taxonbot.check.reporters.report import CheckReport
from taxonbot.markdown import code, inline, prose
from taxonbot.taxonomy.findings import Finding, Severity

HEADER = "| | Where | Problem | What to do |"
ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️"}


def render(report: CheckReport) -> str:
    status = "❌ Changes needed" if report.failed else "✅ All checks passed"
    lines = [f"### {status}", "", inline(report.summary()), ""]
    by_file = groupby(report.findings, key=lambda f: f.path)
    for path, findings in by_file:
        lines += [
            f"**{code(path)}**",
            "",
            "| | Where | Problem | What to do |",
            "|---|---|---|---|",
        ]
        lines += [row(f) for f in findings]
        lines.append("")
    return "\n".join(lines) + "\n"


def row(f: Finding) -> str:
    where = f"line {f.pos.line}, col {f.pos.col}"
    if f.yaml_path:
        where += f" {code(f.yaml_path)}"
    message = f"{prose(f.message)} {code(f.rule)}"
    return f"| {ICON[f.severity]} | {where} | {message} | {prose(f.hint)} |"
