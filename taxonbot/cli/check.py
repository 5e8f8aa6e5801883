"""`taxonbot check [PATH...] [--base REF] [--format FMT]`."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from taxonbot.check.reporters import REPORTERS, CheckReport
from taxonbot.check.rules.context import DEFAULT_ALLOWED_HOSTS, CheckOptions
from taxonbot.check.run import check_files, discover
from taxonbot.cli.renamed import renamed
from taxonbot.exits import Exit
from taxonbot.taxonomy.changed import ChangedError, changed_files

# pr.yml reads these: 1 is findings (the JSON is complete), anything above is a broken check.
EXITS = {
    Exit.OK: "no errors found",
    Exit.NO: "errors found",
    Exit.CANNOT: "usage: a missing path, or a --base git cannot resolve",
}


@dataclass(frozen=True)
class CheckCommand:
    paths: tuple[str, ...]
    base: str | None  # None: audit the paths; else only files changed since the merge base
    format: str
    allowed_hosts: tuple[str, ...]
    max_kib: int
    verbose: bool


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to check (default: taxonomy/ or .)",
    )
    parser.add_argument(
        "--base",
        metavar="REF",
        help="check only files changed since the merge base with REF, "
        "with the pull-request policy (newest version required)",
    )
    renamed(parser, "--changed-since", "--base", dest="base")
    parser.add_argument("--format", choices=sorted(REPORTERS), default="text")
    parser.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST",
        help="allowed knowledge document host (repeatable; default github.com)",
    )
    parser.add_argument("--max-kib", type=int, default=256, help="file size cap in KiB")
    parser.add_argument("--verbose", action="store_true", help="show every schema problem")


def options(args: argparse.Namespace) -> CheckCommand:
    return CheckCommand(
        paths=tuple(args.paths),
        base=args.base,
        format=args.format,
        allowed_hosts=tuple(args.allowed_host or DEFAULT_ALLOWED_HOSTS),
        max_kib=args.max_kib,
        verbose=args.verbose,
    )


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(command: CheckCommand) -> Exit:
    missing = [p for p in command.paths if not os.path.lexists(p)]
    if missing:
        print(f"taxonbot check: no such file or folder: {missing[0]}", file=sys.stderr)
        return Exit.CANNOT
    try:
        files = select_files(command.paths, command.base)
    except ChangedError as exc:
        print(f"taxonbot check: {exc}", file=sys.stderr)
        return Exit.CANNOT
    options = CheckOptions(
        changed=command.base is not None,
        allowed_hosts=command.allowed_hosts,
        max_bytes=command.max_kib * 1024,
        verbose=command.verbose,
    )
    report = CheckReport(
        tuple(files), tuple(check_files(files, options)), "changed" if options.changed else "audit"
    )
    sys.stdout.write(REPORTERS[command.format](report))
    if command.format == "github":
        write_step_summary(report)
    return Exit.NO if report.failed else Exit.OK


def select_files(paths: tuple[str, ...], base: str | None) -> list[str]:
    if base is None:
        default = ["taxonomy"] if os.path.isdir("taxonomy") else ["."]
        return list(discover(paths or default))
    files = changed_files(base)
    if paths:
        prefixes = tuple(os.path.normpath(p) for p in paths)
        files = [f for f in files if _under(os.path.normpath(f), prefixes)]
    return files


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(
        path == p or path.startswith(p.rstrip(os.sep) + os.sep) or p == "." for p in prefixes
    )


def write_step_summary(report: CheckReport) -> None:
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(REPORTERS["markdown"](report))
