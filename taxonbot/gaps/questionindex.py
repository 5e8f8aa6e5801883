"""The question index: every seed question in the tree, embedded once, with the leaf it is in.

Every seed question is embedded (all-MiniLM-L6-v2, taxonbot.gaps.embed) into one matrix of unit
rows; taxonbot.gaps.overlap looks the changed leaves up in it. The vectors are cached by the git
blob id of each qna.yaml, so a pull request embeds only the files it changed:

    <cache_dir>/<model_id>/<blob>.npz           one file's questions and vectors ("loose")
    <cache_dir>/<model_id>/pack-<id>.npy/.json  many blobs in one matrix, memory-mapped ("pack")
    <cache_dir>/<model_id>/PACK                 names the current pack

Like git's packfiles: reading 10,000 loose files costs seconds, one pack milliseconds. New blobs
stay loose until there are more than `repack_loose` of them; then the tree's blobs are packed
anew. Every cache write goes to a temporary file renamed into place, so a killed run or two
runs at once leave either the old file or the new one (taxonbot.gaps.vectorcache). See
docs/overlap.md.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from taxonbot.check.run import discover
from taxonbot.errors import CannotRun
from taxonbot.gaps.embeds import CachedEmbeds
from taxonbot.gaps.vectorcache import VectorStore
from taxonbot.taxonomy.leaf import QNA_NAME, ROOTS
from taxonbot.taxonomy.loader import (
    DEFAULT_MAX_BYTES,
    Loaded,
    LoadLimits,
    compose_text,
    decode,
    load,
)

REPACK_LOOSE = 256


class UnreadableQuestions(CannotRun):
    """A qna.yaml whose seed questions cannot be read; the message says why (its first finding).
    The index skips that leaf with this reason."""


@dataclass(frozen=True)
class LeafEntry:
    leaf: str  # `compositional_skills/writing/haiku`
    file: str  # the qna.yaml, relative to the taxonomy root
    blob: str  # git blob id of its bytes
    start: int  # its questions are rows [start, stop) of the index
    stop: int


@dataclass(frozen=True)
class Skipped:
    leaf: str
    reason: str


@dataclass
class IndexStats:
    files: int = 0
    questions: int = 0
    blobs_embedded: int = 0  # distinct file contents the model had to read
    blobs_loose: int = 0  # loaded from <blob>.npz
    blobs_packed: int = 0  # found in the pack
    questions_embedded: int = 0
    repacked: bool = False
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        rounded = {"seconds": round(self.seconds, 3), "embed_seconds": round(self.embed_seconds, 3)}
        return {**asdict(self), **rounded}


@dataclass
class QuestionIndex:
    model_id: str
    entries: list[LeafEntry]
    questions: list[str]
    matrix: np.ndarray  # (questions, dimension) float32, rows of unit length
    owner: np.ndarray  # (questions,) int: the entry each row belongs to
    skipped: list[Skipped] = field(default_factory=list)
    stats: IndexStats = field(default_factory=IndexStats)

    def __post_init__(self) -> None:
        self.by_leaf = {entry.leaf: entry for entry in self.entries}


def blob_id(data: bytes) -> str:
    """What `git hash-object` prints for these bytes, without running git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def build_index(
    taxonomy_root: str, cache_dir: str, embedder: CachedEmbeds, repack_loose: int = REPACK_LOOSE
) -> QuestionIndex:
    started = time.monotonic()
    stats = IndexStats()
    store = VectorStore(os.path.join(cache_dir, embedder.model_id), embedder.dimension)
    files, skipped = _read_tree(taxonomy_root)
    stats.files = len(files) + len(skipped)
    found: dict[str, tuple[list[str], np.ndarray]] = {}
    parse: dict[str, tuple[str, bytes]] = {}
    for item in files.values():
        if item.blob in found or item.blob in parse:
            continue
        cached = store.packed(item.blob) or store.loose(item.blob)
        if cached is not None:
            found[item.blob] = cached
        else:
            parse[item.blob] = (item.rel, item.data)
    stats.blobs_packed = sum(1 for b in found if b in store.pack_rows)
    stats.blobs_loose = len(found) - stats.blobs_packed
    fresh, bad = _embed_blobs(parse, embedder, stats)
    for blob, (questions, vectors) in fresh.items():
        store.save_loose(blob, questions, vectors)
    found.update(fresh)
    index = _assemble(embedder, files, found, bad, skipped)
    loose = sum(1 for e in index.entries if e.blob not in store.pack_rows)
    if loose > repack_loose:
        store.save_pack(index)
        stats.repacked = True
    stats.questions = len(index.questions)
    stats.seconds = time.monotonic() - started
    index.stats = stats
    return index


@dataclass(frozen=True)
class _File:
    rel: str  # relative to the taxonomy root
    blob: str
    data: bytes


def _read_tree(taxonomy_root: str) -> tuple[dict[str, _File], list[Skipped]]:
    """Leaf -> its qna.yaml, and what cannot be a leaf."""
    files: dict[str, _File] = {}
    skipped: list[Skipped] = []
    if not os.path.isdir(taxonomy_root):
        return files, skipped
    top = os.path.join(taxonomy_root, "")
    for path in discover([taxonomy_root]):
        # discover() yields paths that start with the root: slicing is 10x cheaper than relpath
        rel = path[len(top) :].replace(os.sep, "/")
        leaf, _, name = rel.rpartition("/")
        if name != QNA_NAME:
            continue  # `taxonbot check` flags a misnamed file; it holds no leaf
        if leaf.split("/")[0] not in ROOTS or "/" not in leaf:
            skipped.append(Skipped(leaf or ".", f"Not in a leaf folder under {', '.join(ROOTS)}."))
            continue
        data = _read_regular(path)
        if data is None:
            skipped.append(Skipped(leaf, _reason(load(path))))
        else:
            files[leaf] = _File(rel, blob_id(data), data)
    return files, skipped


def _read_regular(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes | None:
    """The bytes of a regular file within the loader's size limit; None sends it to the loader."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with open(path, "rb") as handle:
            # Sized to the file: read(max_bytes + 1) would allocate 256 KiB for each 3 KiB file.
            data = handle.read(info.st_size + 1)
    except OSError:
        return None
    return data if len(data) <= max_bytes else None


def _embed_blobs(
    parse: dict[str, tuple[str, bytes]], embedder: CachedEmbeds, stats: IndexStats
) -> tuple[dict[str, tuple[list[str], np.ndarray]], dict[str, str]]:
    """Parse each new blob and embed all their questions in one call (batches span files)."""
    questions: dict[str, list[str]] = {}
    bad: dict[str, str] = {}
    for blob, (rel, data) in parse.items():
        try:
            questions[blob] = seed_questions(rel, data)
        except UnreadableQuestions as error:
            bad[blob] = str(error)
    texts = [q for qs in questions.values() for q in qs]
    started = time.monotonic()
    vectors = embedder.embed(texts) if texts else np.zeros((0, embedder.dimension), np.float32)
    stats.embed_seconds = time.monotonic() - started
    stats.blobs_embedded, stats.questions_embedded = len(questions), len(texts)
    fresh: dict[str, tuple[list[str], np.ndarray]] = {}
    start = 0
    for blob, qs in questions.items():
        fresh[blob] = (qs, np.ascontiguousarray(vectors[start : start + len(qs)]))
        start += len(qs)
    return fresh, bad


def seed_questions(path: str, data: bytes) -> list[str]:
    """The seed questions of one qna.yaml; `UnreadableQuestions` says why there are none to read.

    Both shapes are read whatever the folder: `seed_examples[].question` (skills, knowledge v1/2)
    and `seed_examples[].questions_and_answers[].question` (knowledge v3). So the questions of a
    blob do not depend on where it sits, which is what lets the cache key be the blob alone.
    """
    out = Loaded(path)
    text = decode(path, data, out)
    if text is not None:
        compose_text(path, text, LoadLimits(), out)
    if out.root is None:
        raise UnreadableQuestions(_reason(out))
    tree = out.root.to_python()
    if not isinstance(tree, dict):
        raise UnreadableQuestions(f"{QNA_NAME} is not a set of `key: value` fields.")
    seeds = tree.get("seed_examples")
    return [q for seed in (seeds if isinstance(seeds, list) else []) for q in _seed(seed)]


def _seed(seed: Any) -> Iterator[str]:
    if not isinstance(seed, dict):
        return
    pairs = seed.get("questions_and_answers")
    for item in [seed, *(pairs if isinstance(pairs, list) else [])]:
        question = item.get("question") if isinstance(item, dict) else None
        if isinstance(question, str) and question.strip():
            yield question.strip()


def _reason(loaded: Loaded) -> str:
    if not loaded.findings:
        return f"{QNA_NAME} could not be read."
    first = loaded.findings[0]
    more = len(loaded.findings) - 1
    tail = f" ({more} more; run `taxonbot check` on it)" if more else ""
    return f"{QNA_NAME} line {first.pos.line}: {first.message}{tail}"


def _assemble(
    embedder: CachedEmbeds,
    files: dict[str, _File],
    found: dict[str, tuple[list[str], np.ndarray]],
    bad: dict[str, str],
    skipped: list[Skipped],
) -> QuestionIndex:
    entries: list[LeafEntry] = []
    questions: list[str] = []
    parts: list[np.ndarray] = []
    skipped = list(skipped)
    for leaf in sorted(files):
        item = files[leaf]
        if item.blob in bad:
            skipped.append(Skipped(leaf, bad[item.blob]))
            continue
        qs, vectors = found[item.blob]
        start = len(questions)
        entries.append(LeafEntry(leaf, item.rel, item.blob, start, start + len(qs)))
        questions.extend(qs)
        parts.append(vectors)
    matrix = np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32)
    owner = np.repeat(np.arange(len(entries)), [e.stop - e.start for e in entries])
    skipped.sort(key=lambda s: s.leaf)
    return QuestionIndex(embedder.model_id, entries, questions, matrix, owner, skipped)
