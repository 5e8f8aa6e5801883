"""`taxonbot gaps`: coverage of the whole tree; overlap and novelty of the changed leaves.

Each analysis runs alone (`--coverage`, `--overlap`, `--novelty`) or all together (default).
Writes OUT/gaps.json (schemas/gaps.json), OUT/gaps.md and OUT/coverage.png; the analyses
themselves are taxonbot/gaps/run.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from taxonbot.cli.renamed import renamed
from taxonbot.diskwrite import check_folder, make_folder
from taxonbot.exits import Exit
from taxonbot.gaps.policy import Policy, PolicyError, load_policy, policy_path
from taxonbot.gaps.run import GapsOptions, analyse, write
from taxonbot.runtime.open import ModelSpec
from taxonbot.taxonomy.diff import DiffError, changed_leaves


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="changed leaves (qna.yaml)")
    parser.add_argument("--base", help="the changed leaves are those changed since REF")
    parser.add_argument("--taxonomy", default="taxonomy", help="the tree's root folder")
    for name in ("coverage", "overlap", "novelty"):
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} analysis")
    parser.add_argument("--threshold", type=float, help="near-duplicate cosine (overlap)")
    parser.add_argument("--cache", default=".cache/embeddings", help="embedding index cache")
    parser.add_argument(
        "--novelty-model",
        default="llama.cpp",
        help="the model novelty asks: llama.cpp (bundled), a .gguf, or a URL",
    )
    parser.add_argument("--novelty-model-name", help="model name for an HTTP novelty model")
    renamed(parser, "--backend", "--novelty-model", "novelty_model")
    renamed(parser, "--model", "--novelty-model-name", "novelty_model_name")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="out/gaps", help="output folder")


def gaps_options(args: argparse.Namespace) -> GapsOptions:
    every = not (args.coverage or args.overlap or args.novelty)
    model = ModelSpec(args.novelty_model, args.novelty_model_name, threads=args.threads)
    return GapsOptions(
        out=Path(args.out),
        taxonomy=args.taxonomy,
        coverage=every or args.coverage,
        overlap=every or args.overlap,
        novelty=every or args.novelty,
        threshold=args.threshold,
        cache=args.cache,
        threads=args.threads,
        novelty_model=model,
    )


def run(args: argparse.Namespace) -> int:
    options = gaps_options(args)
    try:
        changed = changed_paths(args.paths, args.base)
    except DiffError as exc:
        print(f"taxonbot gaps: {exc}", file=sys.stderr)
        return Exit.CANNOT
    make_folder(options.out)  # a file in the way is said before any model loads
    if changed and options.overlap:
        check_folder(options.cache)
    policy: Policy | None = None
    if options.coverage:
        loaded = load_policy(policy_path(options.taxonomy))
        if isinstance(loaded, PolicyError):
            print(loaded.render(), file=sys.stderr)
            return Exit.CANNOT
        policy = loaded
    result, markdown = analyse(options, changed, policy)
    write(options.out, result, markdown)
    out = options.out
    print(
        f"taxonbot gaps: wrote {out / 'gaps.json'}, {out / 'gaps.md'}"
        + (f" and {out / 'coverage.png'}" if result["coverage"] else ""),
        file=sys.stderr,
    )
    if result["labels"]:
        print(f"labels: {', '.join(result['labels'])}", file=sys.stderr)
    return Exit.OK


def changed_paths(paths: list[str], base: str | None) -> list[str]:
    if paths:
        return [os.path.normpath(p) for p in paths]
    if base:
        return changed_leaves(base).paths()
    return []
