"""Full SDG for a build, incremental: the data of a leaf is cached by what made it.

The taxonomy is read at a commit (`git archive` of `taxonomy/` into the work folder, never the
working tree). Each leaf's key is the sha256 of its qna.yaml blob id at that commit, the
pipeline, the prompt templates, the teacher model and the generation settings; its samples live
in an append-only JSONL named by that key (ci/sdg/store.py: a killed build resumes mid-leaf).
A leaf whose key is already complete is reused as is; only new or changed leaves are generated.
A leaf that cannot be generated (a check error, documents unavailable, the teacher failing) is
excluded and listed with the reason; it is never silently dropped.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci.runtime import BackendError, ModelBackend
from ci.sdg.blocks import RunContext
from ci.sdg.leafjob import DocumentSource, LeafError, leaf_job
from ci.sdg.pipeline import Budget, LeafRun, run_leaf
from ci.sdg.progress import ProgressReporter
from ci.sdg.prompts import templates_hash
from ci.sdg.session import pipeline_for
from ci.sdg.store import LeafStore

TAXONOMY = "taxonomy"
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024


class SdgError(Exception):
    """The taxonomy cannot be read at that commit; the message says what to do."""


@dataclass(frozen=True)
class GenerationSettings:
    pairs: int = 50
    seed: int = 0
    max_new_tokens: int = 256
    round_size: int = 16


@dataclass
class LeafData:
    leaf: str  # knowledge/... or compositional_skills/...
    path: str  # taxonomy/.../qna.yaml, as in the repository
    blob: str  # git blob id of the qna.yaml at the build's commit
    phase_kind: str  # "knowledge" | "skills": which training phase takes it
    status: str  # "cached" | "generated" | "failed"
    reason: str = ""
    key: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)  # kept chat samples
    candidates: int = 0

    def record(self) -> dict[str, Any]:
        body = {
            "leaf": self.leaf,
            "path": self.path,
            "blob": self.blob,
            "phase": self.phase_kind,
            "status": self.status,
            "cache_key": self.key,
            "candidates": self.candidates,
            "kept": len(self.samples),
            "data_sha256": samples_sha256(self.samples),
        }
        if self.reason:
            body["reason"] = self.reason
        return body


def resolve_commit(repo: Path, ref: str) -> str:
    out = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if not out:
        raise SdgError(f"{ref!r} is not a commit in {repo}; pass --commit with a branch or SHA")
    return out.strip()


def leaves_at(repo: Path, commit: str) -> dict[str, str]:
    """{taxonomy/.../qna.yaml: blob id} at `commit` (git ls-tree; no checkout)."""
    out = _git(repo, "ls-tree", "-r", "--full-tree", commit, "--", TAXONOMY)
    leaves = {}
    for line in out.splitlines():
        meta, _, path = line.partition("\t")
        mode, kind, blob = meta.split()
        if kind == "blob" and path.endswith("/qna.yaml") and mode.startswith("100"):
            leaves[path] = blob
    if not leaves:
        raise SdgError(f"no taxonomy/**/qna.yaml at {commit[:12]} in {repo}: nothing to build")
    return leaves


def materialize(repo: Path, commit: str, dest: Path) -> Path:
    """taxonomy/ at `commit` under `dest` (regular files and folders only); returns dest."""
    done = dest / ".complete"
    if done.exists() and done.read_text() == commit:
        return dest
    data = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit, "--", TAXONOMY],
        capture_output=True,
        timeout=300,
        check=False,
    )
    if data.returncode != 0 or len(data.stdout) > MAX_ARCHIVE_BYTES:
        why = data.stderr.decode(errors="replace").strip()[-300:] or "over 512 MiB"
        raise SdgError(f"could not read taxonomy/ at {commit[:12]}: {why}")
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data.stdout)) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir()]
        tar.extractall(dest, members=members, filter="data")
    done.write_text(commit)
    return dest


def cache_key(blob: str, pipeline_sha: str, model: dict[str, str], gen: GenerationSettings) -> str:
    body = {
        "blob": blob,
        "pipeline": pipeline_sha,
        "templates": templates_hash(),
        "teacher": {k: v for k, v in sorted(model.items()) if k != "n_ctx"},
        "settings": [gen.pairs, gen.seed, gen.max_new_tokens],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def generate_leaves(
    tree: Path,
    leaves: dict[str, str],
    teacher: ModelBackend,
    cache_dir: Path,
    docs: DocumentSource | None,
    gen: GenerationSettings,
    progress: ProgressReporter | None = None,
    hook: Callable[[LeafData], None] = lambda data: None,
) -> list[LeafData]:
    """Every leaf's kept samples, from the cache when its key is complete there."""
    progress = progress or ProgressReporter(len(leaves))
    model = teacher.describe()
    out = []
    for path, blob in sorted(leaves.items()):
        progress.start_leaf(path)
        data = _one_leaf(tree, path, blob, teacher, model, cache_dir, docs, gen, progress)
        hook(data)
        out.append(data)
    return out


def _one_leaf(
    tree: Path,
    path: str,
    blob: str,
    teacher: ModelBackend,
    model: dict[str, str],
    cache_dir: Path,
    docs: DocumentSource | None,
    gen: GenerationSettings,
    progress: ProgressReporter,
) -> LeafData:
    leaf = path.removeprefix(f"{TAXONOMY}/").removesuffix("/qna.yaml")
    phase_kind = "knowledge" if leaf.startswith("knowledge/") else "skills"
    failed = LeafData(leaf, path, blob, phase_kind, "failed")
    try:
        job = leaf_job(str(tree / path), docs)
    except LeafError as exc:
        progress.skip_leaf(str(exc))
        failed.reason = str(exc).replace(str(tree) + "/", "")
        return failed
    pipeline = pipeline_for(job)
    key = cache_key(blob, pipeline.sha256, model, gen)
    header = {"leaf": leaf, "blob": blob, "key": key}
    store = LeafStore.open(cache_dir / f"{key[:40]}.jsonl", header)
    status = "cached" if store.done else "generated"
    if not store.done:
        budget = Budget(gen.pairs, gen.max_new_tokens, None, gen.round_size)
        ctx = RunContext(job, teacher, gen.seed, gen.max_new_tokens, store.kept_questions())
        written = {"n": 0}

        def checkpoint(run: LeafRun, target: int) -> None:
            store.append(run.samples[written["n"] :])
            written["n"] = len(run.samples)
            progress(run, target)

        try:
            run_leaf(pipeline, ctx, budget, None, checkpoint, store.next_number())
        except BackendError as exc:
            failed.reason = f"the teacher model failed: {exc}"
            failed.key = key
            return failed
        store.finish()
    samples = store.samples()
    kept = [{"messages": s.messages(), "leaf": leaf} for s in samples if s.kept]
    data = LeafData(leaf, path, blob, phase_kind, status, key=key, samples=kept)
    data.candidates = len(samples)
    if not kept:
        data.status, data.reason = "failed", "no generated pair passed the filters"
    return data


def samples_sha256(samples: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(json.dumps(sample, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SdgError(f"git failed in {repo}: {exc}") from exc
    if done.returncode != 0 and "rev-parse" not in args:
        raise SdgError(f"git {args[0]} failed in {repo}: {done.stderr.strip()[-300:]}")
    return done.stdout
