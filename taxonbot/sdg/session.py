"""What preview and generate share: choosing leaves, opening the model, running leaves."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from taxonbot.check.run import discover
from taxonbot.runtime import ModelBackend, open_backend
from taxonbot.sdg.blocks import RunContext
from taxonbot.sdg.leafjob import DocumentSource, LeafError, leaf_job
from taxonbot.sdg.pipeline import Budget, LeafRun, Pipeline, load_pipeline, run_leaf
from taxonbot.sdg.progress import ProgressReporter
from taxonbot.sdg.sample import LeafJob
from taxonbot.taxonomy.changed import changed_files


@dataclass
class LeafOutcome:
    path: str
    run: LeafRun | None = None
    error: str = ""  # why this leaf produced nothing (bad leaf, documents unavailable, ...)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="qna.yaml files or folders")
    parser.add_argument("--changed-since", metavar="REF", help="only leaves changed since REF")
    parser.add_argument(
        "--backend",
        default="llama.cpp",
        help="llama.cpp (default model), a .gguf path, or an http(s):// "
        "OpenAI-compatible server URL",
    )
    parser.add_argument("--model", help="model name for an HTTP backend")
    parser.add_argument("--concurrency", type=int, default=4, help="HTTP requests in flight")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp CPU threads")
    parser.add_argument("--seed", type=int, default=0, help="for reproducible sampling")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="cap per generation")
    parser.add_argument(
        "--knowledge-pipeline",
        default="auto",
        choices=("auto", "knowledge", "knowledge_extractive"),
        help="knowledge (LAB: the model writes and judges pairs), knowledge_extractive "
        "(answers are the document's sentences; for small models), or auto (default: LAB for "
        "an http(s) backend, extractive for a local GGUF)",
    )
    parser.add_argument(
        "--docs-cache",
        default=".cache/documents",
        help="where fetched knowledge documents are kept",
    )
    parser.add_argument("--docs-mirror", help=argparse.SUPPRESS)  # offline demos and tests


def select_leaves(args: argparse.Namespace) -> list[str]:
    if args.changed_since:
        files = changed_files(args.changed_since)
    else:
        files = list(discover(args.paths or ["taxonomy"]))
    return [f for f in files if f.endswith("qna.yaml")]


def open_model(args: argparse.Namespace) -> ModelBackend:
    options: dict[str, object] = {}
    if args.backend.startswith(("http://", "https://")):
        options = {"model": args.model, "concurrency": args.concurrency} if args.model else {}
    else:
        options = {"n_threads": args.threads, "seed": args.seed}
    return open_backend(args.backend, **options)


def document_source(args: argparse.Namespace) -> DocumentSource:
    mirror = Path(args.docs_mirror) if args.docs_mirror else None
    # Absolute: taxonbot.documents runs git from inside the cache, where a relative path (such as
    # the
    # default .cache/documents) would point somewhere else.
    return DocumentSource(Path(args.docs_cache).resolve(), mirror)


def run_leaves(
    paths: list[str],
    backend: ModelBackend,
    budget: Budget,
    args: argparse.Namespace,
    progress: ProgressReporter,
) -> Iterator[LeafOutcome]:
    deadline = None if budget.seconds is None else time.monotonic() + budget.seconds
    docs = document_source(args)
    for path in paths:
        progress.start_leaf(path)
        try:
            job = leaf_job(path, docs)
        except LeafError as exc:
            progress.skip_leaf(str(exc))
            yield LeafOutcome(path, error=str(exc))
            continue
        run = run_leaf(
            pipeline_for(job, knowledge_pipeline(args.knowledge_pipeline, args.backend)),
            RunContext(job, backend, args.seed, budget.max_new_tokens),
            budget,
            deadline,
            progress,
        )
        progress.finish_leaf(run)
        yield LeafOutcome(path, run)


def pipeline_for(job: LeafJob, knowledge: str = "knowledge") -> Pipeline:
    return load_pipeline(knowledge if job.kind == "knowledge" else job.kind)


def knowledge_pipeline(name: str, backend: str) -> str:
    """`auto`: a model behind an OpenAI-compatible server is taken to be strong enough to write
    and judge knowledge pairs (LAB's pipeline); a local GGUF on the CPU, such as the bundled
    135M model, is not (its judges rejected 30 of 30 pairs), and gets the extractive pipeline
    (answers are the document's own sentences, the model writes only the questions)."""
    if name != "auto":
        return name
    remote = backend.startswith(("http://", "https://"))
    return "knowledge" if remote else "knowledge_extractive"
