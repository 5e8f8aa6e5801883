"""Old option spellings, accepted for one more release and saying so.

One name per concept on the command line (`--base`, `--teacher`); a renamed option keeps its
old spelling, hidden from `--help`, until `UNTIL`, and each use prints one line on stderr that
names the new spelling, so scripts keep working and their authors learn the new name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

UNTIL = "taxonbot 0.3"


class _Renamed(argparse.Action):
    def __init__(self, option_strings: Sequence[str], dest: str, new: str, **kwargs: Any) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"taxonbot: {option_string} is now {self.new}; the old spelling works until {UNTIL}",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


def renamed(parser: argparse.ArgumentParser, old: str, new: str, dest: str) -> None:
    """Accept `old` as a hidden synonym of the option `new` (same `dest`, same value)."""
    parser.add_argument(old, dest=dest, action=_Renamed, new=new, help=argparse.SUPPRESS,
                        default=argparse.SUPPRESS)  # fmt: skip
