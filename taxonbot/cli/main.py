"""The `taxonbot` command line: parse arguments, import only the chosen command, run it.

Commands are modules with `configure(parser)` and `run(args) -> Exit` (the light ones:
`options(args)` → a frozen dataclass → `execute(options)`), and `EXITS`, what each exit code
means for that command (shown under its --help). Only the one being run is imported, so
`taxonbot check` never loads the SDG or training stack (see STYLE.md). A `TaxonbotError` a
command does not handle becomes one line, `taxonbot <command>: <message>`, and its exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from taxonbot import __version__
from taxonbot.errors import TaxonbotError
from taxonbot.exits import Exit

# name -> (module, one-line help). Heavy commands live in taxonbot/ and load only when chosen.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("taxonbot.cli.check", "lint and schema-check qna.yaml files"),
    "diff": ("taxonbot.cli.diff", "list leaves added, changed, renamed or deleted vs a base"),
    "preview": (
        "taxonbot.cli.preview",
        "show a few synthetic pairs per leaf (quantized model, CPU)",
    ),
    "generate": ("taxonbot.cli.generate", "generate the full training set (resumable)"),
    "gaps": ("taxonbot.cli.gaps", "coverage, overlap and novelty: where the tree is thin"),
    "collect": ("taxonbot.cli.collect", "bundle one PR run's JSON outputs into result.json"),
    "comment": ("taxonbot.cli.comment", "reconcile the one sticky PR comment and labels"),
    "command": ("taxonbot.cli.command", "answer a /taxonbot command in a PR comment"),
    "release": ("taxonbot.cli.release", "cut a release of a build: notes, tag, GitHub release"),
    "announce": ("taxonbot.cli.announce", "comment a build's scores on the PRs it trained"),
    "build": ("taxonbot.cli.build", "a community build: SDG, two-phase training, eval, export"),
    "model": ("taxonbot.cli.model", "the model catalogue: list, fetch (verified), path"),
    "preview-request": (
        "taxonbot.cli.preview_request",
        "the preview size a maintainer asked for (pr.yml; read-only)",
    ),
}


def build_parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taxonbot",
        description="Check, preview and build a community InstructLab taxonomy.",
    )
    parser.add_argument("--version", action="version", version=f"taxonbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=summary, description=summary)
        if name == chosen:
            command = importlib.import_module(module)
            command.configure(command_parser)
            command_parser.epilog = exits_epilog(getattr(command, "EXITS", {}))
    return parser


def exits_epilog(exits: dict[Exit, str]) -> str | None:
    """The exit codes a command documents, for the end of its --help."""
    if not exits:
        return None
    return "exit status: " + "; ".join(f"{int(code)} {text}" for code, text in exits.items())


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in args_list if not a.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 (Exit.CANNOT) on usage errors and 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return Exit.CANNOT
    module = importlib.import_module(COMMANDS[args.command][0])
    try:
        return int(module.run(args))
    except TaxonbotError as err:
        print(f"taxonbot {args.command}: {err}", file=sys.stderr)
        return err.exit
