"""GitHub Actions workflow commands: one annotation per finding, on the file and line."""

from __future__ import annotations

from taxonbot.check.reporters.report import CheckReport
from taxonbot.terminal import printable


def _data(text: str) -> str:
    # The toolkit's escapeData (actions/toolkit packages/core/src/command.ts) encodes %, CR and
    # LF; `printable` has already shown CR, LF and every other control (an ESC sequence would
    # colour or hide lines of the log) as a visible escape, so only % is left to encode.
    return printable(text).replace("%", "%25")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: CheckReport) -> str:
    lines = []
    for f in report.findings:
        props = f"file={_prop(f.path)},line={f.pos.line},col={f.pos.col},title={_prop(f.rule)}"
        lines.append(f"::{f.severity} {props}::{_data(f.message + ' Fix: ' + f.hint)}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"
