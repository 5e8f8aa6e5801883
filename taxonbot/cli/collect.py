"""`taxonbot collect [--check F] [--diff F] [--gaps F] [--preview F] --head-sha SHA
--run-id N --run-attempt N [--out FILE]`: one run's outputs as result.json.

Any input may be left out (a step that failed or did not run); it is null in result.json. Each
one given must be the JSON its command writes (the right `format`, valid against
schemas/result.json), at most 5 MiB, and 12 MiB together. Exit 0 when result.json is written,
1 when an input is refused (every reason is printed), 2 on a usage error (a missing file).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass

from taxonbot.comment.result import (
    INPUT_FORMATS,
    MAX_INPUT_BYTES,
    CollectError,
    RunIdentity,
    collect,
    encode,
)
from taxonbot.exits import Exit

EXITS = {
    Exit.OK: "result.json written",
    Exit.NO: "an input is refused (every reason is printed)",
    Exit.CANNOT: "usage: an input file cannot be read",
}
PRODUCERS = {
    "check": "taxonbot check --format json",
    "diff": "taxonbot diff --format json",
    "gaps": "taxonbot gaps (gaps.json)",
    "preview": "taxonbot preview (preview.json)",
}


def configure(parser: argparse.ArgumentParser) -> None:
    for name in INPUT_FORMATS:
        parser.add_argument(f"--{name}", metavar="FILE", help=f"what {PRODUCERS[name]} wrote")
    parser.add_argument(
        "--head-sha", required=True, metavar="SHA", help="the pull request's head commit"
    )
    parser.add_argument("--run-id", required=True, type=int, metavar="N", help="$GITHUB_RUN_ID")
    parser.add_argument(
        "--run-attempt", required=True, type=int, metavar="N", help="$GITHUB_RUN_ATTEMPT"
    )
    parser.add_argument(
        "--pr-number",
        type=int,
        default=0,
        metavar="N",
        help="the pull request's number (a hint the comment job confirms); 0 for none",
    )
    parser.add_argument("--out", default="out/result.json", metavar="FILE", help="result.json")


@dataclass(frozen=True)
class CollectOptions:
    paths: dict[str, str]  # input name -> the file given for it
    identity: RunIdentity
    out: str


def options(args: argparse.Namespace) -> CollectOptions:
    paths = {n: getattr(args, n) for n in INPUT_FORMATS if getattr(args, n)}
    identity = RunIdentity(args.head_sha, args.run_id, args.run_attempt, args.pr_number or None)
    return CollectOptions(paths, identity, args.out)


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(options: CollectOptions) -> Exit:
    paths = options.paths
    try:
        read = {name: read_capped(path) for name, path in paths.items()}
    except OSError as exc:
        print(f"taxonbot collect: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return Exit.CANNOT
    inputs = {name: raw for name, (raw, _) in read.items()}
    try:
        result = collect(inputs, options.identity, {name: size for name, (_, size) in read.items()})
    except CollectError as exc:
        for problem in exc.problems:
            where = f"--{problem.source} {paths[problem.source]}: " if problem.source else ""
            print(f"taxonbot collect: {where}{problem.message}", file=sys.stderr)
        print(
            "taxonbot collect: result.json not written; each input must be the JSON file its "
            "command wrote (" + "; ".join(f"--{n}: {p}" for n, p in PRODUCERS.items()) + ")",
            file=sys.stderr,
        )
        return exc.exit
    os.makedirs(os.path.dirname(options.out) or ".", exist_ok=True)
    with open(options.out, "wb") as handle:
        handle.write(encode(result))
    given = ", ".join(paths) or "no inputs"
    print(f"taxonbot collect: wrote {options.out} ({given})", file=sys.stderr)
    return Exit.OK


def read_capped(path: str) -> tuple[bytes, int]:
    """At most one byte past the cap, and the file's size: enough to say how big a file too big
    is without reading it all."""
    if not os.path.isfile(path):
        # A FIFO or device would block or never end; only plain files are outputs.
        kind = "not a regular file" if os.path.exists(path) else "No such file"
        raise OSError(2, kind, path)
    with open(path, "rb") as handle:
        return handle.read(MAX_INPUT_BYTES + 1), os.fstat(handle.fileno()).st_size
