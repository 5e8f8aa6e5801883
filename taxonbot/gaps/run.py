"""`taxonbot gaps` as a library: run the analyses asked for and write gaps.json and gaps.md.

Coverage looks at the whole tree; overlap and novelty at the changed leaves. The command line
(taxonbot/cli/gaps.py) fills `GapsOptions` and reports; nothing here reads argv or prints.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import write_atomic
from taxonbot.gaps.coverage import coverage, coverage_json, coverage_markdown
from taxonbot.gaps.policy import Policy
from taxonbot.gaps.results import FORMAT, labels, novelty_markdown, overlap_markdown
from taxonbot.runtime.open import ModelSpec, open_model

NO_CHANGED = "No changed leaves: pass qna.yaml paths or --base REF for overlap and novelty."


@dataclass(frozen=True)
class GapsOptions:
    out: Path
    taxonomy: str = "taxonomy"  # the tree's root folder
    coverage: bool = True
    overlap: bool = True
    novelty: bool = True
    threshold: float | None = None  # near-duplicate cosine; None: the overlap default
    cache: str = ".cache/embeddings"  # embedding index cache
    threads: int = 2  # the embedder's CPU threads
    novelty_model: ModelSpec = field(default_factory=ModelSpec)  # the model novelty asks


def analyse(
    options: GapsOptions, changed: list[str], policy: Policy | None
) -> tuple[dict[str, Any], list[str]]:
    """gaps.json's body and gaps.md's parts; `policy` is needed when coverage is asked for."""
    result: dict[str, Any] = {
        "format": FORMAT,
        "taxonomy": options.taxonomy,
        "changed": changed,
        "coverage": None,
        "overlap": None,
        "novelty": None,
    }
    markdown: list[str] = []
    notes: list[str] = []
    if options.coverage and policy is not None:
        run_coverage(options, policy, result, markdown)
    if (options.overlap or options.novelty) and not changed:
        notes.append(NO_CHANGED)
    elif options.overlap or options.novelty:
        run_changed(options, changed, result, markdown)
    result["labels"] = labels(result["overlap"], result["novelty"])
    result["notes"] = notes
    return result, markdown + [f"_{inline_note(n)}_" for n in notes]


def run_coverage(
    options: GapsOptions, policy: Policy, result: dict[str, Any], markdown: list[str]
) -> None:
    from taxonbot.gaps.picture import sunburst

    report = coverage(options.taxonomy, policy)
    result["coverage"] = coverage_json(report)
    markdown.append(coverage_markdown(report))
    sunburst(report, str(options.out / "coverage.png"))


def run_changed(
    options: GapsOptions, changed: list[str], result: dict[str, Any], markdown: list[str]
) -> None:
    from taxonbot.gaps.embed import Embedder

    embedder = Embedder(threads=options.threads)
    if options.overlap:
        from taxonbot.gaps.overlap import DEFAULT_THRESHOLD, overlap, overlap_json
        from taxonbot.gaps.questionindex import build_index

        index = build_index(options.taxonomy, options.cache, embedder)
        threshold = DEFAULT_THRESHOLD if options.threshold is None else options.threshold
        report = overlap(index, changed, threshold, taxonomy_root=options.taxonomy)
        result["overlap"] = overlap_json(report)
        markdown.append(overlap_markdown(result["overlap"]))
    if options.novelty:
        result["novelty"] = run_novelty(options.novelty_model, changed, embedder)
        markdown.append(novelty_markdown(result["novelty"]))


def run_novelty(model: ModelSpec, changed: list[str], embedder: Any) -> list[dict[str, Any]]:
    """One report per changed leaf; a leaf (or every leaf, when the model cannot be opened)
    that cannot be asked about is skipped with its reason."""
    from taxonbot.gaps.novelty import novelty, novelty_json
    from taxonbot.runtime import BackendError
    from taxonbot.sdg.leafjob import LeafError, leaf_job

    try:
        backend = open_model(model)
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
    write_atomic(out / "gaps.json", json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    write_atomic(out / "gaps.md", "\n".join(markdown) + "\n")
