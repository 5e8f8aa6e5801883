"""From a qna.yaml on disk to a LeafJob: seeds through the safe loader, documents through git."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_file
from taxonbot.documents.fetch import fetch_documents
from taxonbot.documents.rules import DEFAULT_LIMITS, DocumentError, FetchLimits, ref_from_qna
from taxonbot.errors import CannotRun
from taxonbot.runtime.base import TokenCounter, estimate_tokens
from taxonbot.sdg.chunking import chunk_text
from taxonbot.sdg.sample import LeafJob, Seed
from taxonbot.taxonomy.findings import Severity
from taxonbot.taxonomy.leaf import leaf_path
from taxonbot.taxonomy.loader import load


class LeafError(CannotRun):
    """This leaf cannot be generated for; the message says why and what to do."""


@dataclass(frozen=True)
class DocumentSource:
    """Where knowledge documents come from. `mirror` serves https://github.com/<owner>/<repo>
    from <mirror>/<repo> (offline demos and tests only; never set in CI)."""

    cache_dir: Path
    mirror: Path | None = None
    deadline: float | None = None  # time.monotonic(): a preview's budget bounds its fetches

    def limits(self) -> FetchLimits:
        if self.deadline is None:
            return DEFAULT_LIMITS
        left = min(DEFAULT_LIMITS.timeout_s, self.deadline - time.monotonic())
        return replace(DEFAULT_LIMITS, timeout_s=max(0.0, left))

    def git_options(self) -> dict[str, Any]:
        if self.mirror is None:
            return {}
        env = {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.file://{self.mirror.resolve()}/.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/",
        }
        return {"git_env": env, "allow_file_protocol": True}


def leaf_job(
    path: str, docs: DocumentSource | None, count: TokenCounter = estimate_tokens
) -> LeafJob:
    """The leaf at `path`; `docs=None` skips knowledge documents (novelty needs only seeds)."""
    blocking = [f for f in check_file(path, CheckOptions()) if f.severity is Severity.ERROR]
    if blocking:
        first = blocking[0]
        raise LeafError(
            f"{first.location}: {first.message} Fix the check findings first "
            f"(`taxonbot check {path}`)."
        )
    data = load(path).root.to_python()  # type: ignore[union-attr]  # check passed: it parses
    leaf = leaf_path(path)
    seeds = tuple(seeds_of(data))
    digest = hashlib.sha256(Path(path).read_bytes())
    chunks: tuple[str, ...] = ()
    if leaf.kind == "knowledge" and docs is not None:
        chunks = tuple(knowledge_chunks(data, docs, count, digest))
    kind = (
        "knowledge"
        if leaf.kind == "knowledge"
        else ("grounded_skills" if any(s.context for s in seeds) else "freeform_skills")
    )
    return LeafJob(
        leaf.leaf,
        path,
        kind,
        str(data.get("task_description") or data.get("document_outline") or ""),
        seeds,
        chunks,
        digest.hexdigest(),
    )


def seeds_of(data: dict[str, Any]) -> list[Seed]:
    seeds: list[Seed] = []
    for example in data.get("seed_examples") or []:
        context = str(example.get("context") or "")
        pairs = example.get("questions_and_answers")
        if isinstance(pairs, list):
            seeds += [Seed(str(p["question"]), str(p["answer"]), context) for p in pairs]
        else:
            seeds.append(Seed(str(example["question"]), str(example["answer"]), context))
    return seeds


def knowledge_chunks(
    data: dict[str, Any], docs: DocumentSource, count: TokenCounter, digest: Any
) -> list[str]:
    try:
        ref = ref_from_qna(data)
        if ref is None:
            raise LeafError("this knowledge leaf has no `document` block")
        documents = fetch_documents(ref, docs.cache_dir, docs.limits(), **docs.git_options())
    except DocumentError as exc:
        raise LeafError(str(exc)) from exc
    chunks: list[str] = []
    for document in documents:
        digest.update(document.sha256.encode())
        chunks += chunk_text(document.text, count=count)
    if not chunks:
        raise LeafError("the knowledge documents are empty")
    return chunks
