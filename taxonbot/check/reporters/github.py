"""GitHub Actions workflow commands: one annotation per finding, on the file and line."""

from __future__ import annotations

from taxonbot.check.reporters.report import CheckReport


def _data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts escapeData
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: CheckReport) -> str:
    lines = []
    for f in report.findings:
        props = f"file={_prop(f.path)},line={f.pos.line},col={f.pos.col},title={_prop(f.rule)}"
        lines.append(f"::{f.severity} {props}::{_data(f.message + ' Fix: ' + f.hint)}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"
