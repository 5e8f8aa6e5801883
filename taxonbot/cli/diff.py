"""`taxonbot diff [--base REF] [--format text|json]`: leaves changed since the merge base.

Text: one line per leaf (`added|changed|renamed|deleted  path [<- old path]`) and a summary.
JSON, a stable shape (`taxonbot-diff/1`; new keys may be added, none removed or renamed):

    {"format": "taxonbot-diff/1", "base": sha, "merge_base": sha, "head": sha,
     "leaves": [{"status": "renamed", "path": "...", "old_path": "..." | null,
                 "blob": sha | null, "root": "knowledge" | ...}]}

Exit 0 when git answered (changed leaves or none), 2 when it could not (bad ref, shallow clone
missing the base, not a repository); the message says what to do.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass

from taxonbot import jsontext
from taxonbot.exits import Exit
from taxonbot.taxonomy.diff import ChangedLeaves, changed_leaves

# A DiffError (git could not answer) reaches taxonbot.cli.main: one line, Exit.CANNOT.
EXITS = {
    Exit.OK: "git answered (changed leaves or none)",
    Exit.CANNOT: "git could not answer: a bad ref, a shallow clone missing the base",
}
FORMAT_ID = "taxonbot-diff/1"
STATUS_ORDER = ("added", "changed", "renamed", "deleted")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base",
        default="origin/main",
        metavar="REF",
        help="compare with the merge base of REF and HEAD (default: origin/main)",
    )
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")


@dataclass(frozen=True)
class DiffOptions:
    base: str
    format: str


def options(args: argparse.Namespace) -> DiffOptions:
    return DiffOptions(args.base, args.format)


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(options: DiffOptions) -> Exit:
    leaves = changed_leaves(options.base)
    sys.stdout.write(RENDERERS[options.format](leaves, options.base))
    return Exit.OK


def render_text(leaves: ChangedLeaves, ref: str) -> str:
    lines = []
    for change in leaves.changes:
        line = f"{change.status:<8}  {_shown(change.path)}"
        if change.old_path is not None:
            line += f" <- {_shown(change.old_path)}"
        lines.append(line)
    counts = [sum(c.status == s for c in leaves.changes) for s in STATUS_ORDER]
    since = f"since the merge base {leaves.merge_base[:12]} of `{_shown(ref)}` and HEAD"
    if not leaves.changes:
        lines.append(f"no taxonomy leaves changed {since}")
    else:
        parts = ", ".join(f"{n} {s}" for n, s in zip(counts, STATUS_ORDER, strict=True))
        noun = "leaf" if len(leaves.changes) == 1 else "leaves"
        lines.append(f"{len(leaves.changes)} {noun} {since}: {parts}")
    return "\n".join(lines) + "\n"


def render_json(leaves: ChangedLeaves, ref: str) -> str:
    body = {
        "format": FORMAT_ID,
        "base": leaves.base,
        "merge_base": leaves.merge_base,
        "head": leaves.head,
        "leaves": [
            {
                "status": c.status,
                "path": c.path,
                "old_path": c.old_path,
                "blob": c.blob,
                "root": c.root,
            }
            for c in leaves.changes
        ],
    }
    return jsontext.dumps(body, indent=2) + "\n"


def _shown(path: str) -> str:
    """A path with a character `str.isprintable()` refuses (the policy of taxonbot.terminal: a
    newline, C1, DEL, bidi, zero-width, U+2028) is quoted as a JSON string with those characters
    escaped, as git quotes odd names: one line, nothing a terminal acts on, and unambiguous."""
    return path if path.isprintable() else jsontext.dumps(path)


RENDERERS: dict[str, Callable[[ChangedLeaves, str], str]] = {
    "text": render_text,
    "json": render_json,
}
