"""Layout rules equivalent to upstream's yamllint run (`extends: relaxed`, line-length off).

Computed in-process from the text and the composed tree: no second parser, no subprocess.
Severities follow relaxed: trailing spaces, line endings and the final newline are errors (they
fail upstream CI); blank lines, indentation, hyphens and colons are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.findings import Finding, Position, error, warning
from bot.yamlnode import Node, walk

MAX_BLANK_LINES = 2
_KEY_COLON = re.compile(
    r"^(\s*(?:-\s+)?)([A-Za-z_][\w-]*)( +):|^(\s*(?:-\s+)?)[A-Za-z_][\w-]*:( {2,})[^\s#]"
)
_HYPHEN = re.compile(r"^(\s*)-( {2,})\S")


def text_findings(path: str, text: str, root: Node | None) -> list[Finding]:
    lines = text.split("\n")
    literal = scalar_body_lines(root) if root is not None else set()
    found = list(line_endings(path, text, lines))
    found += blank_lines(path, lines, literal)
    for number, line in enumerate(lines, start=1):
        found += line_rules(path, number, line, number in literal)
    if root is not None:
        found += indentation(path, root)
    return found


def scalar_body_lines(root: Node) -> set[int]:
    """Lines that belong to the inside of multi-line scalars, where layout rules do not apply."""
    inside: set[int] = set()
    for node in walk(root):
        if node.kind == "scalar" and node.end_line > node.pos.line:
            inside.update(range(node.pos.line + 1, node.end_line + 1))
    return inside


def line_endings(path: str, text: str, lines: list[str]) -> Iterator[Finding]:
    crlf = text.find("\r\n")
    if crlf >= 0:
        line = text.count("\n", 0, crlf) + 1
        yield error(
            "text.crlf",
            path,
            Position(line, len(lines[line - 1])),
            "The file uses Windows line endings (CR LF).",
            "Save the file with Unix line endings (LF); e.g. `git config core.autocrlf input`.",
        )
    if text and not text.endswith("\n"):
        yield error(
            "text.final-newline",
            path,
            Position(len(lines), len(lines[-1]) + 1),
            "The last line does not end with a line break.",
            "Add a newline at the end of the file.",
        )


def blank_lines(path: str, lines: list[str], literal: set[int]) -> list[Finding]:
    found: list[Finding] = []
    body = lines[:-1] if lines and lines[-1] == "" else lines
    run = 0
    for number, line in enumerate(body, start=1):
        if line.strip() or number in literal:
            run = 0
            continue
        run += 1
        if run == MAX_BLANK_LINES + 1:
            found.append(
                warning(
                    "text.blank-lines",
                    path,
                    Position(number, 1),
                    f"More than {MAX_BLANK_LINES} blank lines in a row.",
                    "Remove the extra blank lines.",
                )
            )
    trailing = 0
    for line in reversed(body):
        if line.strip():
            break
        trailing += 1
    if trailing and body and any(line.strip() for line in body):
        found.append(
            warning(
                "text.blank-lines",
                path,
                Position(len(body) - trailing + 1, 1),
                "The file ends with blank lines.",
                "Remove the blank lines at the end of the file.",
            )
        )
    return found


def line_rules(path: str, number: int, line: str, in_scalar: bool) -> list[Finding]:
    found: list[Finding] = []
    stripped = line.rstrip("\r")
    if stripped != stripped.rstrip(" \t"):
        col = len(stripped.rstrip(" \t")) + 1
        found.append(
            error(
                "text.trailing-spaces",
                path,
                Position(number, col),
                "This line ends with spaces or tabs.",
                "Delete the whitespace at the end of the line (many editors can trim it on save).",
            )
        )
    indent = len(line) - len(line.lstrip(" \t"))
    if "\t" in line[:indent]:
        found.append(
            error(
                "text.tab-indent",
                path,
                Position(number, line.index("\t") + 1),
                "A tab is used for indentation; YAML only allows spaces.",
                "Replace the tab with spaces (2 per level).",
            )
        )
    if in_scalar:
        return found
    return found + punctuation(path, number, line)


def punctuation(path: str, number: int, line: str) -> list[Finding]:
    found: list[Finding] = []
    hyphen = _HYPHEN.match(line)
    if hyphen:
        found.append(
            warning(
                "text.hyphen-spacing",
                path,
                Position(number, len(hyphen.group(1)) + 2),
                "More than one space after the list dash.",
                "Write list items as `- question: ...` with a single space after the dash.",
            )
        )
    colon = _KEY_COLON.match(line)
    if colon and colon.group(3):
        found.append(
            warning(
                "text.colon-spacing",
                path,
                Position(number, len(colon.group(1)) + len(colon.group(2)) + 1),
                "There is a space before the colon after a key.",
                "Write keys as `key: value` with no space before the colon.",
            )
        )
    elif colon and colon.group(5):
        found.append(
            warning(
                "text.colon-spacing",
                path,
                Position(number, line.index(":") + 2),
                "More than one space after the colon.",
                "Write keys as `key: value` with a single space after the colon.",
            )
        )
    return found


def indentation(path: str, root: Node) -> list[Finding]:
    """One indent width and one sequence style per file, like yamllint's `consistent`."""
    found: list[Finding] = []
    width: int | None = None
    seq_indented: bool | None = None
    for node in walk(root):
        if node.kind != "map" or node.flow:
            continue
        for key, child in zip(node.keys, node.items, strict=True):
            if child.kind == "scalar" or child.flow or child.pos.line == key.pos.line:
                continue
            step = child.pos.col - key.pos.col
            if child.kind == "seq":
                if seq_indented is None:
                    seq_indented = step > 0
                elif seq_indented != (step > 0):
                    found.append(
                        _indent_warning(
                            path,
                            child,
                            "this list is indented differently from the other lists in the file",
                        )
                    )
                    continue
                if step == 0:
                    continue
            if width is None:
                width = step
            elif step != width:
                found.append(
                    _indent_warning(
                        path, child, f"expected {width} spaces of indentation, found {step}"
                    )
                )
    return found


def _indent_warning(path: str, node: Node, detail: str) -> Finding:
    return warning(
        "text.indentation",
        path,
        node.pos,
        f"Inconsistent indentation: {detail}.",
        "Indent every level by the same number of spaces (2 is usual), lists the same way.",
    )
