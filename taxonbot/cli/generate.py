"""`taxonbot generate`: the full training set, resumable, for the whole tree or a diff.

Per leaf an append-only JSONL under OUT/leaves/ (see taxonbot.sdg.store); a killed run resumes
without
redoing finished leaves or rounds. Then OUT/train.jsonl (chat `messages`) and OUT/manifest.json
(counts per leaf, input and output hashes, model, pipeline and template versions).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from taxonbot.runtime import BackendError, ModelBackend
from taxonbot.sdg.blocks import RunContext
from taxonbot.sdg.codehash import generation_code_hash
from taxonbot.sdg.leafjob import LeafError, leaf_job
from taxonbot.sdg.pipeline import Budget, LeafRun, run_leaf
from taxonbot.sdg.progress import ProgressReporter
from taxonbot.sdg.prompts import templates_hash
from taxonbot.sdg.report import counts
from taxonbot.sdg.session import (
    add_common_arguments,
    document_source,
    knowledge_pipeline,
    open_model,
    pipeline_for,
    select_leaves,
)
from taxonbot.sdg.store import LeafStore
from taxonbot.taxonomy.changed import ChangedError

USAGE, PARTIAL = 2, 1


def configure(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument("--pairs", type=int, default=50, help="candidate pairs per leaf")
    parser.add_argument(
        "--round-size",
        type=int,
        default=16,
        help="samples per round (and per resumable checkpoint)",
    )
    parser.add_argument("--out", default="out/generate", help="output folder")


def run(args: argparse.Namespace) -> int:
    try:
        paths = select_leaves(args)
        backend = open_model(args)
    except (ChangedError, BackendError) as exc:
        print(f"taxonbot generate: {exc}", file=sys.stderr)
        return USAGE
    out = Path(args.out)
    try:
        entries, failed = generate_all(paths, backend, args, out)
        write_outputs(out, entries, backend, args)
    finally:
        backend.close()
    print(
        f"taxonbot generate: wrote {out / 'train.jsonl'} and {out / 'manifest.json'}",
        file=sys.stderr,
    )
    return PARTIAL if failed else 0


def generate_all(
    paths: list[str], backend: ModelBackend, args: argparse.Namespace, out: Path
) -> tuple[list[dict[str, Any]], int]:
    budget = Budget(args.pairs, args.max_new_tokens, None, args.round_size)
    progress = ProgressReporter(len(paths))
    docs = document_source(args)
    entries, failed = [], 0
    for path in paths:
        progress.start_leaf(path)
        try:
            job = leaf_job(path, docs)
        except LeafError as exc:
            progress.skip_leaf(str(exc))
            failed += 1
            continue
        pipeline = pipeline_for(job, knowledge_pipeline(args.knowledge_pipeline, args.backend))
        header = {
            "leaf": job.leaf,
            "input_sha256": job.input_sha256,
            "pipeline": pipeline.sha256,
            "templates": templates_hash(),
            "code": generation_code_hash(),
            "model": backend.describe(),
            "seed": args.seed,
            "pairs": args.pairs,
            "max_new_tokens": args.max_new_tokens,
        }
        store = LeafStore.open(out / "leaves" / f"{job.leaf.replace('/', '__')}.jsonl", header)
        if not store.done:
            ctx = RunContext(job, backend, args.seed, args.max_new_tokens, store.kept_questions())
            written = {"n": 0}

            def checkpoint(
                run: LeafRun,
                target: int,
                store: LeafStore = store,
                written: dict[str, int] = written,
            ) -> None:
                store.append(run.samples[written["n"] :])
                written["n"] = len(run.samples)
                progress(run, target)

            run_leaf(pipeline, ctx, budget, None, checkpoint, store.next_number())
            store.finish()
        entries.append(
            {
                "leaf": job.leaf,
                "path": path,
                "input_sha256": job.input_sha256,
                "pipeline": pipeline.name,
                "store": store,
            }
        )
    return entries, failed


def write_outputs(
    out: Path, entries: list[dict[str, Any]], backend: ModelBackend, args: argparse.Namespace
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    train = out / "train.jsonl"
    with open(train, "w", encoding="utf-8") as handle:
        for entry in entries:
            for sample in entry["store"].samples():
                if sample.kept:
                    line = {"messages": sample.messages(), "leaf": entry["leaf"]}
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    leaves = []
    for entry in entries:
        store = entry.pop("store")
        leaves.append({**entry, **counts(store.samples()), "output_sha256": sha256(store.path)})
    manifest = {
        "format": "taxonbot-data-manifest/1",
        "model": backend.describe(),
        "templates_sha256": templates_hash(),
        "seed": args.seed,
        "pairs_per_leaf": args.pairs,
        "leaves": leaves,
        "train": {
            "path": train.name,
            "sha256": sha256(train),
            "pairs": sum(leaf["kept"] for leaf in leaves),
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
