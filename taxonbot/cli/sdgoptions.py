"""The options preview and generate share, and the `SdgOptions` value they become."""

from __future__ import annotations

import argparse
from pathlib import Path

from taxonbot.cli.renamed import renamed
from taxonbot.runtime.open import ModelSpec
from taxonbot.sdg.leafjob import DocumentSource
from taxonbot.sdg.session import SdgOptions


def add_sdg_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="qna.yaml files or folders")
    parser.add_argument("--base", metavar="REF", help="only leaves changed since REF")
    parser.add_argument(
        "--teacher",
        default="llama.cpp",
        help="the model that writes the pairs: a name from `taxonbot model list` (fetched with "
        "`taxonbot model fetch NAME`), a .gguf path, an http(s):// OpenAI-compatible server "
        "URL, or llama.cpp (default: the catalogue's offline default if installed, else the "
        "bundled SmolLM2-135M)",
    )
    parser.add_argument("--teacher-model", help="model name for an HTTP teacher")
    renamed(parser, "--changed-since", "--base", "base")
    renamed(parser, "--backend", "--teacher", "teacher")
    renamed(parser, "--model", "--teacher-model", "teacher_model")
    parser.add_argument("--concurrency", type=int, default=4, help="HTTP requests in flight")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp CPU threads")
    parser.add_argument("--seed", type=int, default=0, help="for reproducible sampling")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="cap per generation")
    parser.add_argument(
        "--knowledge-pipeline",
        default="auto",
        choices=("auto", "knowledge", "knowledge_extractive"),
        help="knowledge (LAB: the teacher writes and judges pairs), knowledge_extractive "
        "(answers are the document's sentences; for small teachers), or auto (default: LAB for "
        "an http(s) teacher, extractive for a local GGUF)",
    )
    parser.add_argument(
        "--docs-cache",
        default=".cache/documents",
        help="where fetched knowledge documents are kept",
    )
    parser.add_argument("--docs-mirror", help=argparse.SUPPRESS)  # offline demos and tests


def sdg_options(args: argparse.Namespace) -> SdgOptions:
    teacher = ModelSpec(args.teacher, args.teacher_model, args.concurrency, args.threads, args.seed)
    # Absolute: taxonbot.documents runs git from inside the cache, where a relative path (such as
    # the default .cache/documents) would point somewhere else.
    mirror = Path(args.docs_mirror) if args.docs_mirror else None
    docs = DocumentSource(Path(args.docs_cache).resolve(), mirror)
    return SdgOptions(
        docs=docs,
        paths=tuple(args.paths),
        base=args.base,
        teacher=teacher,
        seed=args.seed,
        max_new_tokens=args.max_new_tokens,
        knowledge_pipeline=args.knowledge_pipeline,
    )
