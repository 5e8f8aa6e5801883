"""Layout rules equivalent to upstream's yamllint run (`extends: relaxed`, line-length off).

Computed in-process from the text and the composed tree: no second parser, no subprocess.
Severities follow relaxed: trailing spaces, line endings and the final newline are errors (they
fail upstream CI); blank lines, indentation, hyphens and colons are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from taxonbot.taxonomy.findings import Finding, Position, error, warning
from taxonbot.taxonomy.loader import Loaded
from taxonbot.taxonomy.textlines import LineIndex, position_of_offset
from taxonbot.taxonomy.yamlnode import Node

MAX_BLANK_LINES = 2
# Whole-text scans: one C-level regex pass per rule instead of a Python loop per line.
_TRAILING = re.compile(r"[ \t]+\r?$", re.MULTILINE)
_TAB_INDENT = re.compile(r"^ *\t", re.MULTILINE)
_HYPHEN = re.compile(r"^( *)-( {2,})\S", re.MULTILINE)
_KEY_COLON = re.compile(
    r"^( *(?:- +)?)([A-Za-z_][\w-]*)( +):"  # space before the colon
    r"|^( *(?:- +)?)[A-Za-z_][\w-]*:( {2,})[^\s#]",  # several spaces after it
    re.MULTILINE,
)


def text_findings(path: str, loaded: Loaded) -> list[Finding]:
    text = loaded.text or ""
    lines = text.split("\n")
    literal = loaded.scalar_lines
    found = list(line_endings(path, text, lines))
    found += blank_lines(path, lines, literal)
    found += regex_rules(path, text, literal)
    found += indentation(path, loaded.block_maps)
    return found


def line_endings(path: str, text: str, lines: list[str]) -> Iterator[Finding]:
    crlf = text.find("\r")  # CR LF (Windows) or a bare CR (old Mac)
    if crlf >= 0:
        yield error(
            "text.crlf",
            path,
            position_of_offset(text, crlf),
            "The file uses Windows line endings (CR LF)."
            if text.startswith("\r\n", crlf)
            else "The file uses old Mac line endings (a bare CR).",
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


def regex_rules(path: str, text: str, literal: set[int]) -> list[Finding]:
    found: list[Finding] = []
    starts = LineIndex(text)
    # Each regex runs only when a cheap substring test says it can match: clean files (most of
    # them) then cost four `in` scans instead of four regex passes.
    trailing = " \n" in text or "\t\n" in text or " \r" in text or text.endswith((" ", "\t"))
    for match in _TRAILING.finditer(text) if trailing else ():
        found.append(
            error(
                "text.trailing-spaces",
                path,
                starts.position(match.start()),
                "This line ends with spaces or tabs.",
                "Delete the whitespace at the end of the line (many editors can trim it on save).",
            )
        )
    for match in _TAB_INDENT.finditer(text) if "\t" in text else ():
        found.append(
            error(
                "text.tab-indent",
                path,
                starts.position(match.end() - 1),
                "A tab is used for indentation; YAML only allows spaces.",
                "Replace the tab with spaces (2 per level).",
            )
        )
    for match in _HYPHEN.finditer(text) if "-  " in text else ():
        pos = starts.position(match.start())
        if pos.line not in literal:
            found.append(
                warning(
                    "text.hyphen-spacing",
                    path,
                    Position(pos.line, len(match.group(1)) + 2),
                    "More than one space after the list dash.",
                    "Write list items as `- question: ...` with a single space after the dash.",
                )
            )
    for match in _KEY_COLON.finditer(text) if " :" in text or ":  " in text else ():
        pos = starts.position(match.start())
        if pos.line not in literal:
            found.append(colon_finding(path, pos.line, match))
    return found


def colon_finding(path: str, line: int, match: re.Match[str]) -> Finding:
    if match.group(3):
        col = len(match.group(1)) + len(match.group(2)) + 1
        message = "There is a space before the colon after a key."
        hint = "Write keys as `key: value` with no space before the colon."
    else:
        col = match.group(0).index(":") + 2
        message = "More than one space after the colon."
        hint = "Write keys as `key: value` with a single space after the colon."
    return warning("text.colon-spacing", path, Position(line, col), message, hint)


def indentation(path: str, block_maps: list[Node]) -> list[Finding]:
    """One indent width and one sequence style per file, like yamllint's `consistent`."""
    found: list[Finding] = []
    width: int | None = None
    seq_indented: bool | None = None
    for node in block_maps:
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
