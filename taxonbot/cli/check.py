"""`taxonbot check [PATH...] [--changed-since REF] [--format FMT]`."""

from __future__ import annotations

import argparse
import os
import sys

from taxonbot.check.reporters import REPORTERS, CheckReport
from taxonbot.check.rules.context import DEFAULT_ALLOWED_HOSTS, CheckOptions
from taxonbot.check.run import check_files, discover
from taxonbot.taxonomy.changed import ChangedError, changed_files

FINDINGS = 1
USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files or folders to check (default: taxonomy/ or .)",
    )
    parser.add_argument(
        "--changed-since",
        metavar="REF",
        help="check only files changed since the merge base with REF, "
        "with the pull-request policy (newest version required)",
    )
    parser.add_argument("--format", choices=sorted(REPORTERS), default="text")
    parser.add_argument(
        "--allowed-host",
        action="append",
        metavar="HOST",
        help="allowed knowledge document host (repeatable; default github.com)",
    )
    parser.add_argument("--max-kib", type=int, default=256, help="file size cap in KiB")
    parser.add_argument("--verbose", action="store_true", help="show every schema problem")


def run(args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not os.path.lexists(p)]
    if missing:
        print(f"taxonbot check: no such file or folder: {missing[0]}", file=sys.stderr)
        return USAGE
    try:
        files = select_files(args)
    except ChangedError as exc:
        print(f"taxonbot check: {exc}", file=sys.stderr)
        return USAGE
    options = CheckOptions(
        changed=args.changed_since is not None,
        allowed_hosts=tuple(args.allowed_host or DEFAULT_ALLOWED_HOSTS),
        max_bytes=args.max_kib * 1024,
        verbose=args.verbose,
    )
    report = CheckReport(
        tuple(files), tuple(check_files(files, options)), "changed" if options.changed else "audit"
    )
    sys.stdout.write(REPORTERS[args.format](report))
    if args.format == "github":
        write_step_summary(report)
    return FINDINGS if report.failed else 0


def select_files(args: argparse.Namespace) -> list[str]:
    if args.changed_since is None:
        default = ["taxonomy"] if os.path.isdir("taxonomy") else ["."]
        return list(discover(args.paths or default))
    files = changed_files(args.changed_since)
    if args.paths:
        prefixes = tuple(os.path.normpath(p) for p in args.paths)
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
