"""`taxonbot generate`: the full training set, resumable, for the whole tree or a diff.

Per leaf an append-only JSONL under OUT/leaves/ (the loop: taxonbot.sdg.generate); a killed run
resumes without redoing finished leaves or rounds. Then OUT/train.jsonl (chat `messages`) and
OUT/manifest.json (counts per leaf, input and output hashes, model, pipeline and template
versions), each written whole or not at all; a full disk or a file in the way of OUT is one
line naming the path (taxonbot.diskwrite).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taxonbot.cli.sdgoptions import add_sdg_arguments, sdg_options
from taxonbot.diskwrite import atomic_open, check_folder, write_atomic
from taxonbot.exits import Exit
from taxonbot.jsonl import dump_line
from taxonbot.runtime import BackendError, ModelBackend
from taxonbot.runtime.open import open_model, resolve
from taxonbot.sdg.generate import GenerationSettings, generate_leaf, leaf_inputs, pipeline_for
from taxonbot.sdg.leafjob import LeafError
from taxonbot.sdg.progress import ProgressReporter
from taxonbot.sdg.prompts import templates_hash
from taxonbot.sdg.report import counts
from taxonbot.sdg.session import SdgOptions, knowledge_pipeline, leaf_jobs, select_leaves
from taxonbot.taxonomy.changed import ChangedError


def configure(parser: argparse.ArgumentParser) -> None:
    add_sdg_arguments(parser)
    parser.add_argument("--pairs", type=int, default=50, help="candidate pairs per leaf")
    parser.add_argument(
        "--round-size",
        type=int,
        default=16,
        help="samples per round (and per resumable checkpoint)",
    )
    parser.add_argument("--out", default="out/generate", help="output folder")


def run(args: argparse.Namespace) -> int:
    options = sdg_options(args)
    settings = GenerationSettings(
        args.pairs,
        options.seed,
        options.max_new_tokens,
        args.round_size,
        knowledge_pipeline=knowledge_pipeline(options.knowledge_pipeline, options.teacher),
    )
    out = check_folder(args.out)  # a file in the way is said before the model loads
    try:
        paths = select_leaves(options.paths, options.base)
        # A named catalogue model that is not fetched stops the run (no silent fallback for a
        # whole training set); the default falls back to the bundled model, said below.
        teacher, choice = resolve(options.teacher, fallback=False)
        backend = open_model(teacher)
    except (ChangedError, BackendError) as exc:
        print(f"taxonbot generate: {exc}", file=sys.stderr)
        return Exit.CANNOT
    if choice.reason:
        print(f"running {choice.name}: {choice.reason}", file=sys.stderr)
    try:
        entries, failed = generate_all(paths, backend, options, settings, out, choice.judges)
        write_outputs(out, entries, backend, settings)
    finally:
        backend.close()
    print(
        f"taxonbot generate: wrote {out / 'train.jsonl'} and {out / 'manifest.json'}",
        file=sys.stderr,
    )
    return Exit.NO if failed else Exit.OK


def generate_all(
    paths: list[str],
    backend: ModelBackend,
    options: SdgOptions,
    settings: GenerationSettings,
    out: Path,
    judge_auc: Mapping[str, float] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Every leaf into its store under OUT/leaves/; a store made from other inputs (the leaf,
    pipeline, templates, code, model or settings changed) starts again. A teacher failure stops
    the run (BackendError): what was made so far is kept for the next run."""
    progress = ProgressReporter(len(paths))
    model = backend.describe()
    entries, failed = [], 0
    for path, job in leaf_jobs(paths, options.docs, progress):
        if isinstance(job, LeafError):
            failed += 1
            continue
        pipeline = pipeline_for(job, settings.knowledge_pipeline)
        leaf = {"leaf": job.leaf, "input_sha256": job.input_sha256}
        header = leaf_inputs(leaf, pipeline.sha256, model, settings, judge_auc)
        store = out / "leaves" / f"{job.leaf.replace('/', '__')}.jsonl"
        made = generate_leaf(job, pipeline, backend, settings, store, header, progress, judge_auc)
        entries.append(
            {
                "leaf": job.leaf,
                "path": path,
                "input_sha256": job.input_sha256,
                "pipeline": pipeline.name,
                "store": made.store,
            }
        )
    return entries, failed


def write_outputs(
    out: Path, entries: list[dict[str, Any]], backend: ModelBackend, settings: GenerationSettings
) -> None:
    train = out / "train.jsonl"
    with atomic_open(train) as handle:
        for entry in entries:
            for sample in entry["store"].samples():
                if sample.kept:
                    handle.write(dump_line({"messages": sample.messages(), "leaf": entry["leaf"]}))
    leaves = []
    for entry in entries:
        store = entry.pop("store")
        leaves.append({**entry, **counts(store.samples()), "output_sha256": sha256(store.path)})
    manifest = {
        "format": "taxonbot-data-manifest/1",
        "model": backend.describe(),
        "templates_sha256": templates_hash(),
        "seed": settings.seed,
        "pairs_per_leaf": settings.pairs,
        "leaves": leaves,
        "train": {
            "path": train.name,
            "sha256": sha256(train),
            "pairs": sum(leaf["kept"] for leaf in leaves),
        },
    }
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=1) + "\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
