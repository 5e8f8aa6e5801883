#!/usr/bin/env python3
"""Time of `taxonbot check` against file size for the worst shapes we know, ours vs yamllint.

Issue 20: check must be linear in its input. For each shape (many keys, many seed examples,
questions alike, one long line, a long flow list, deep lists) and size (16, 64, 256 KiB by
default) we write one qna.yaml at a valid leaf path and time, in this process, the best of
--runs checks of it (`check_file`: load, text, schema and content rules), and yamllint's
`linter.run` on the same bytes in a child process (the same timing loop there). Printed: ms for
each, ms per KiB, and the ratio ours / yamllint. Linear means ms per KiB stays flat as size
grows.

yamllint is not a dependency: give its Python with --yamllint-python or TAXONBOT_YAMLLINT_PYTHON
(e.g. `python3 -m venv /tmp/yl && /tmp/yl/bin/pip install yamllint`, then /tmp/yl/bin/python);
without it the yamllint column is skipped with a line saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taxonbot.check.rules.context import CheckOptions  # noqa: E402
from taxonbot.check.run import check_file  # noqa: E402

SKILL = (
    REPO / "tests/data/check/valid/limerick_skill/compositional_skills/writing/freeform/limerick"
)
HEAD = "version: 3\ncreated_by: jdoe\ntask_description: Write a limerick.\nseed_examples:\n"
WORDS = "what why how when where which who whose whom is are was".split()
YAMLLINT = """\
import sys, time
from yamllint import linter
from yamllint.config import YamlLintConfig
conf = YamlLintConfig("{extends: relaxed, rules: {line-length: disable}}")
data = open(sys.argv[1], encoding="utf-8").read()
best = min(
    (lambda t: (list(linter.run(data, conf)), time.perf_counter() - t)[1])(time.perf_counter())
    for _ in range(int(sys.argv[2]))
)
print(best)
"""


def fill(size: int, head: str, unit: Callable[[int], str], tail: str = "") -> str:
    out, used, index = [head], len(head) + len(tail), 0
    while used + len(piece := unit(index)) <= size:
        out.append(piece)
        used += len(piece)
        index += 1
    return "".join(out) + tail


SHAPES: dict[str, Callable[[int], str]] = {
    "keys": lambda n: fill(n, (SKILL / "qna.yaml").read_text("utf-8"), lambda i: f"k{i:07d}: v\n"),
    "seeds": lambda n: fill(
        n, HEAD, lambda i: f"  - question: Write limerick number {i} about a cat.\n    answer: A.\n"
    ),
    "alike-questions": lambda n: fill(
        n,
        HEAD,
        lambda i: (
            f"  - question: {' '.join(WORDS[i % 12 :] + WORDS[: i % 12])} {i}\n    answer: A.\n"
        ),
    ),
    "long-line": lambda n: fill(n, HEAD + "  - question: Q?\n    answer:", lambda i: " word", "\n"),
    "flow-list": lambda n: fill(n, "version: 3\ncreated_by: [", lambda i: "a, ", "a]\n"),
    "deep-lists": lambda n: fill(n, HEAD, lambda i: "  - " + "- " * 60 + "x\n"),
}


def ours(path: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        check_file(str(path), CheckOptions())
        best = min(best, time.perf_counter() - start)
    return best


def theirs(python: str | None, path: Path, runs: int) -> float | None:
    if not python:
        return None
    done = subprocess.run(
        [python, "-c", YAMLLINT, str(path), str(runs)], capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="16,64,256", help="KiB, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="best of this many per file")
    parser.add_argument("--json", action="store_true", help="one JSON line per row as well")
    parser.add_argument(
        "--yamllint-python",
        default=os.environ.get("TAXONBOT_YAMLLINT_PYTHON"),
        help="a Python with yamllint installed (env TAXONBOT_YAMLLINT_PYTHON)",
    )
    args = parser.parse_args()
    python = args.yamllint_python
    if python and subprocess.run([python, "-c", "import yamllint"], check=False).returncode:
        print(f"{python} cannot import yamllint: the yamllint column is skipped.")
        python = None
    elif not python:
        print("No --yamllint-python (or TAXONBOT_YAMLLINT_PYTHON): the yamllint column is skipped.")
    check_file(str(SKILL / "qna.yaml"), CheckOptions())  # imports and schema compilation
    head = ("shape", "KiB", "ours ms", "ms/KiB", "yamllint ms", "ms/KiB", "ratio")
    print("{:16} {:>4} {:>9} {:>7} {:>12} {:>7} {:>6}".format(*head))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "compositional_skills/writing/freeform/limerick"
        folder.mkdir(parents=True)
        (folder / "attribution.txt").write_bytes((SKILL / "attribution.txt").read_bytes())
        for shape, make in SHAPES.items():
            for kib in (int(k) for k in args.sizes.split(",")):
                path = folder / "qna.yaml"
                path.write_text(make(kib * 1024 - 64), "utf-8")
                mine, other = ours(path, args.runs), theirs(python, path, args.runs)
                row = f"{shape:16} {kib:>4} {mine * 1e3:>9.1f} {mine * 1e3 / kib:>7.2f}"
                if other is not None:
                    row += f" {other * 1e3:>12.1f} {other * 1e3 / kib:>7.2f} {mine / other:>6.2f}"
                print(row, flush=True)
                if args.json:
                    print(
                        json.dumps(
                            {"shape": shape, "kib": kib, "ours_s": mine, "yamllint_s": other}
                        )
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
