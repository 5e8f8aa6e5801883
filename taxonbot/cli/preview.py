"""`taxonbot preview`: a few synthetic pairs per changed leaf, on the CI runner's CPU.

Writes preview.json (schemas/preview.json) with every candidate pair, its scores and which
filters it passed, and the kept pairs as chat JSONL. Budgets: pairs per leaf, max new tokens and
a wall-clock limit; when time runs out, what was made so far is kept and the report says so.
"""

from __future__ import annotations

import argparse
import sys

from taxonbot.cli.sdgoptions import add_sdg_arguments, sdg_options
from taxonbot.diskwrite import check_folder
from taxonbot.exits import Exit
from taxonbot.runtime import BackendError
from taxonbot.runtime.open import open_model, resolve
from taxonbot.sdg.pipeline import Budget
from taxonbot.sdg.progress import ProgressReporter
from taxonbot.sdg.report import write_preview
from taxonbot.sdg.session import budget_deadline, run_leaves, select_leaves
from taxonbot.taxonomy.changed import ChangedError


def configure(parser: argparse.ArgumentParser) -> None:
    add_sdg_arguments(parser)
    parser.add_argument("--pairs", type=int, default=10, help="candidate pairs per leaf")
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="wall-clock limit for the whole preview",
    )
    parser.add_argument(
        "--round-size",
        type=int,
        default=10,
        help="samples that go through all blocks together, decoded side by side (default "
        "10: a leaf's whole preview, which batches best); smaller rounds keep more "
        "finished pairs when the time budget runs out",
    )
    parser.add_argument("--out", default="out/preview", help="output folder")


def run(args: argparse.Namespace) -> int:
    # The budget is the whole preview's: its clock starts before leaves, model or documents.
    deadline = budget_deadline(args.time_budget)
    options = sdg_options(args)
    try:
        paths = select_leaves(options.paths, options.base)
    except ChangedError as exc:
        print(f"taxonbot preview: {exc}", file=sys.stderr)
        return Exit.CANNOT
    if not paths:
        print("taxonbot preview: no qna.yaml to preview (nothing changed?)", file=sys.stderr)
    out = check_folder(args.out)  # a file in the way is said before the model loads
    try:
        # A catalogue model that is not fetched falls back to the default; the preview says why.
        teacher, choice = resolve(options.teacher)
        backend = open_model(teacher)
    except BackendError as exc:
        print(f"taxonbot preview: {exc}", file=sys.stderr)
        return Exit.CANNOT
    if choice.reason:
        print(f"running {choice.name}: {choice.reason}", file=sys.stderr)
    budget = Budget(args.pairs, options.max_new_tokens, args.time_budget, args.round_size)
    progress = ProgressReporter(len(paths))
    try:
        outcomes = list(
            run_leaves(paths, backend, budget, options, progress, deadline, choice.judges)
        )
        write_preview(out, outcomes, backend, budget, options.seed, choice=choice.record())
    finally:
        backend.close()
    print(
        f"taxonbot preview: wrote {out / 'preview.json'} and {out / 'pairs.jsonl'}", file=sys.stderr
    )
    return Exit.OK
