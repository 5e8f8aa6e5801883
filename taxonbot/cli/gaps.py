"""`taxonbot gaps`: coverage of the whole tree; overlap and novelty of the changed leaves.

Each analysis runs alone (`--coverage`, `--overlap`, `--novelty`) or all together (default).
Writes OUT/gaps.json (schemas/gaps.json), OUT/gaps.md and OUT/coverage.png.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from taxonbot.gaps.coverage import coverage, coverage_json, coverage_markdown
from taxonbot.gaps.policy import PolicyError, load_policy, policy_path
from taxonbot.gaps.results import FORMAT, labels, novelty_markdown, overlap_markdown
from taxonbot.taxonomy.diff import DiffError, changed_leaves

USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="changed leaves (qna.yaml)")
    parser.add_argument("--base", help="the changed leaves are those changed since REF")
    parser.add_argument("--taxonomy", default="taxonomy", help="the tree's root folder")
    for name in ("coverage", "overlap", "novelty"):
        parser.add_argument(f"--{name}", action="store_true", help=f"run the {name} analysis")
    parser.add_argument("--threshold", type=float, help="near-duplicate cosine (overlap)")
    parser.add_argument("--cache", default=".cache/embeddings", help="embedding index cache")
    parser.add_argument(
        "--backend",
        default="llama.cpp",
        help="the model novelty asks: llama.cpp (bundled), a .gguf, or a URL",
    )
    parser.add_argument("--model", help="model name for an HTTP backend")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="out/gaps", help="output folder")


def run(args: argparse.Namespace) -> int:
    every = not (args.coverage or args.overlap or args.novelty)
    try:
        changed = changed_paths(args)
    except DiffError as exc:
        print(f"taxonbot gaps: {exc}", file=sys.stderr)
        return USAGE
    notes: list[str] = []
    result: dict[str, Any] = {
        "format": FORMAT,
        "taxonomy": args.taxonomy,
        "changed": changed,
        "coverage": None,
        "overlap": None,
        "novelty": None,
    }
    markdown: list[str] = []
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if every or args.coverage:
        policy = load_policy(policy_path(args.taxonomy))
        if isinstance(policy, PolicyError):
            print(policy.render(), file=sys.stderr)
            return USAGE
        report = coverage(args.taxonomy, policy)
        result["coverage"] = coverage_json(report)
        markdown.append(coverage_markdown(report))
        from taxonbot.gaps.picture import sunburst

        sunburst(report, str(out / "coverage.png"))
    if (every or args.overlap or args.novelty) and not changed:
        notes.append(
            "No changed leaves: pass qna.yaml paths or --base REF for overlap and novelty."
        )
    elif every or args.overlap or args.novelty:
        run_changed(args, every, changed, result, markdown)
    result["labels"] = labels(result["overlap"], result["novelty"])
    result["notes"] = notes
    write(out, result, markdown + [f"_{inline_note(n)}_" for n in notes])
    return 0


def changed_paths(args: argparse.Namespace) -> list[str]:
    if args.paths:
        return [os.path.normpath(p) for p in args.paths]
    if args.base:
        return changed_leaves(args.base).paths()
    return []


def run_changed(
    args: argparse.Namespace,
    every: bool,
    changed: list[str],
    result: dict[str, Any],
    markdown: list[str],
) -> None:
    from taxonbot.gaps.embed import Embedder

    embedder = Embedder(threads=args.threads)
    if every or args.overlap:
        from taxonbot.gaps.overlap import DEFAULT_THRESHOLD, build_index, overlap, overlap_json

        index = build_index(args.taxonomy, args.cache, embedder)
        threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
        report = overlap(index, changed, threshold, taxonomy_root=args.taxonomy)
        result["overlap"] = overlap_json(report)
        markdown.append(overlap_markdown(result["overlap"]))
    if every or args.novelty:
        result["novelty"] = run_novelty(args, changed, embedder)
        markdown.append(novelty_markdown(result["novelty"]))


def run_novelty(
    args: argparse.Namespace, changed: list[str], embedder: Any
) -> list[dict[str, Any]]:
    from taxonbot.gaps.novelty import novelty, novelty_json
    from taxonbot.runtime import BackendError
    from taxonbot.sdg.leafjob import LeafError, leaf_job
    from taxonbot.sdg.session import open_model

    try:
        backend = open_model(argparse.Namespace(**{**vars(args), "seed": 0, "concurrency": 4}))
    except BackendError as exc:
        return [skipped(path, str(exc)) for path in changed]
    reports = []
    try:
        for path in changed:
            try:
                job = leaf_job(path, None)
            except LeafError as exc:
                reports.append(skipped(path, str(exc)))
                continue
            reports.append(novelty_json(novelty(job, backend, embedder)))
    finally:
        backend.close()
    return reports


def skipped(path: str, reason: str) -> dict[str, Any]:
    return {
        "leaf": path,
        "path": path,
        "verdict": "skipped",
        "reason": reason,
        "known_share": 0.0,
        "rows": [],
        "model": {},
        "seconds": 0.0,
    }


def inline_note(note: str) -> str:
    from taxonbot.markdown import inline

    return inline(note)


def write(out: Path, result: dict[str, Any], markdown: list[str]) -> None:
    (out / "gaps.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / "gaps.md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
    print(
        f"taxonbot gaps: wrote {out / 'gaps.json'}, {out / 'gaps.md'}"
        + (f" and {out / 'coverage.png'}" if result["coverage"] else ""),
        file=sys.stderr,
    )
    if result["labels"]:
        print(f"labels: {', '.join(result['labels'])}", file=sys.stderr)
