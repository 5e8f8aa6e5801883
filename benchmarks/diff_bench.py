#!/usr/bin/env python3
"""Benchmark `taxonbot diff`: its cost must not grow with the number of commits on a branch.

Builds, in a temp folder and with one `git fast-import`, a taxonomy whose `main` has 200 leaves
(and 50 more commits after the branches forked), plus branches of 1, 100 and 1,000 commits; each
branch commit edits one of five leaves, so every branch ends with about the same diff. On each
branch, in the same run:

  ours, in-process  taxonbot.taxonomy.diff.changed_leaves("main"): rev-parse + diff, through
  GitPython
  ours, CLI         `taxonbot diff --base main --format json` as a child process
  baseline          `git log --name-only --format= main..HEAD` through GitPython, the names
                    reduced to leaves: what walking the branch commit by commit costs

The diff itself is one tree comparison; what still grows, slowly, is git finding the merge base
(it walks the branch's commits, as `git merge-base` does); --commit-graph shows that cost with
the commit-graph file `git gc` writes. Each figure is the median of --runs runs after one
untimed warm-up; the runs are interleaved across branches and contenders (one worktree per
branch), so a change in machine load affects every figure alike. Printed: the three numbers
per contender, the slope from the shortest to the longest branch (ms per commit; ours must be
flat) and the baseline-to-ours ratio on the longest branch. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from taxonbot.taxonomy.diff import changed_leaves, is_leaf  # noqa: E402

BASE_LEAVES = 200
MAIN_AFTER_FORK = 50
EDITED_LEAVES = 5
WHEN = 1714564800  # 2024-05-01T12:00:00Z, pinned so the build is reproducible
IDENTITY = "Jane Doe <jdoe@example.invalid>"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Jane Doe",
    "GIT_AUTHOR_EMAIL": "jdoe@example.invalid",
    "GIT_AUTHOR_DATE": f"{WHEN} +0000",
    "GIT_COMMITTER_NAME": "Jane Doe",
    "GIT_COMMITTER_EMAIL": "jdoe@example.invalid",
    "GIT_COMMITTER_DATE": f"{WHEN} +0000",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def leaf_folder(number: int) -> str:
    root = "knowledge" if number % 4 == 0 else "compositional_skills"
    return f"{root}/area_{number % 10}/topic_{number:04d}"


def qna(number: int, revision: int) -> str:
    seeds = "".join(
        f"  - question: What is item {n} of topic {number}?\n"
        f"    answer: Item {n}, revision {revision}.\n"
        for n in range(5)
    )
    return (
        f"version: 3\ncreated_by: jdoe\ntask_description: topic {number}\nseed_examples:\n{seeds}"
    )


class FastImport:
    """A `git fast-import` stream: every commit and file of the test repository in one process."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.marks = 0

    def commit(self, branch: str, message: str, files: dict[str, str], parent: int | None) -> int:
        self.marks += 1
        self.parts.append(f"commit refs/heads/{branch}\nmark :{self.marks}\n".encode())
        for role in ("author", "committer"):
            self.parts.append(f"{role} {IDENTITY} {WHEN} +0000\n".encode())
        self._data(message)
        if parent is not None:
            self.parts.append(f"from :{parent}\n".encode())
        for path, text in files.items():
            self.parts.append(f"M 100644 inline {path}\n".encode())
            self._data(text)
        return self.marks

    def _data(self, text: str) -> None:
        body = text.encode()
        self.parts.append(b"data %d\n%s\n" % (len(body), body))

    def run(self, repo: Path) -> None:
        stream = b"".join(self.parts)
        subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, check=True)


def build(repo: Path, lengths: list[int]) -> None:
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(repo)], check=True)
    stream = FastImport()
    files = {f"{leaf_folder(n)}/qna.yaml": qna(n, 0) for n in range(BASE_LEAVES)}
    files |= {f"{leaf_folder(n)}/attribution.txt": f"Title: {n}\n" for n in range(BASE_LEAVES)}
    files["README.md"] = "# Benchmark taxonomy\n"
    fork = stream.commit("main", "base taxonomy", files, None)
    tip = fork
    for number in range(MAIN_AFTER_FORK):  # main moves on after the branches fork
        tip = stream.commit("main", f"main {number}", {"CHANGELOG.md": f"{number}\n"}, tip)
    for length in lengths:
        tip = fork
        for number in range(length):
            leaf = number % EDITED_LEAVES
            edit = {f"{leaf_folder(leaf)}/qna.yaml": qna(leaf, number + 1)}
            tip = stream.commit(f"branch_{length}", f"edit {number}", edit, tip)
    stream.run(repo)


def timed_ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def ours_in_process(repo: Path) -> int:
    return len(changed_leaves("main", str(repo)).changes)


def ours_cli(repo: Path) -> int:
    done = subprocess.run(
        taxonbot_command(), cwd=repo, capture_output=True, check=True, env=cli_env()
    )
    return len(json.loads(done.stdout)["leaves"])


def baseline_log_walk(repo: Path) -> int:
    """The per-commit way: every commit's names from `git log`, then keep the leaves."""
    import git

    names = git.Git(str(repo)).log("--name-only", "--format=", "-z", "main..HEAD")
    return len({n.strip("\n") for n in names.split("\0") if is_leaf(n.strip("\n"))})


def taxonbot_command() -> list[str]:
    script = Path(sys.executable).parent / "taxonbot"
    prefix = [str(script)] if script.exists() else [sys.executable, "-m", "taxonbot"]
    return [*prefix, "diff", "--base", "main", "--format", "json"]


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


CONTENDERS: dict[str, Callable[[Path], int]] = {
    "ours, in-process": ours_in_process,
    "ours, CLI": ours_cli,
    "baseline: git log walk": baseline_log_walk,
}


def checkouts(repo: Path, lengths: list[int]) -> dict[int, Path]:
    """One worktree per branch, so that runs can be interleaved (fair under varying load)."""
    trees = {n: repo.parent / f"branch_{n}" for n in lengths}
    for length, tree in trees.items():
        subprocess.run(["git", "worktree", "add", "-q", str(tree), f"branch_{length}"], cwd=repo)
    # Files written in the same second as their index are "racily clean": git re-reads them on
    # every diff until the index is rewritten later. Settle that, as any older checkout is.
    time.sleep(1.1)
    for tree in trees.values():
        subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=tree, check=False)
    return trees


def measure(trees: dict[int, Path], runs: int) -> dict[str, dict[int, float]]:
    times: dict[str, dict[int, list[float]]] = {name: {n: [] for n in trees} for name in CONTENDERS}
    for length, tree in trees.items():  # warm-up, and check that all agree on the leaves
        found = {name: run(tree) for name, run in CONTENDERS.items()}
        if len(set(found.values())) != 1:
            raise SystemExit(f"contenders disagree on branch_{length}: {found}")
    for _ in range(runs):
        for length, tree in trees.items():
            for name, run in CONTENDERS.items():
                times[name][length].append(timed_ms(partial(run, tree)))
    return {
        name: {n: statistics.median(values) for n, values in by_length.items()}
        for name, by_length in times.items()
    }


def report(results: dict[str, dict[int, float]], lengths: list[int]) -> dict[str, Any]:
    first, last = lengths[0], lengths[-1]
    header = " | ".join(f"{n:>6} commits" for n in lengths)
    print(f"{'contender':<24} | {header} | slope ms/commit")
    summary: dict[str, Any] = {"lengths": lengths, "contenders": {}}
    for name, by_length in results.items():
        slope = (by_length[last] - by_length[first]) / (last - first)
        cells = " | ".join(f"{by_length[n]:>10.2f} ms" for n in lengths)
        print(f"{name:<24} | {cells} | {slope:+.4f}")
        summary["contenders"][name] = {"median_ms": by_length, "slope_ms_per_commit": slope}
    ours = results["ours, in-process"][last]
    baseline = results["baseline: git log walk"][last]
    print(f"at {last} commits the git log walk takes {baseline / ours:.1f}x ours (in-process)")
    summary["baseline_over_ours_at_longest"] = baseline / ours
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per figure (median)")
    parser.add_argument("--lengths", default="1,100,1000", help="branch lengths, in commits")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument(
        "--commit-graph",
        action="store_true",
        help="write a commit-graph first (what `git gc` and `git maintenance` keep)",
    )
    args = parser.parse_args(argv)
    lengths = sorted(int(n) for n in args.lengths.split(","))
    os.environ.update(GIT_ENV)
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    print(f"# {platform.machine()} {platform.python_version()}, {git_version.strip()}, ", end="")
    print(f"{BASE_LEAVES} leaves, median of {args.runs} runs")
    with tempfile.TemporaryDirectory(prefix="diff-bench-") as temp:
        repo = Path(temp) / "taxonomy"
        start = time.perf_counter()
        build(repo, lengths)
        if args.commit_graph:
            subprocess.run(["git", "commit-graph", "write", "--reachable"], cwd=repo, check=True)
        print(f"# built {sum(lengths) + MAIN_AFTER_FORK + 1} commits in ", end="")
        print(f"{time.perf_counter() - start:.2f} s with git fast-import", end="")
        print(", commit-graph written" if args.commit_graph else ", no commit-graph")
        summary = report(measure(checkouts(repo, lengths), args.runs), lengths)
    if args.json:
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
