"""The embedding cache of one model, like git's object store: loose `<blob>.npz` files and at
most one pack (one memory-mapped matrix + a JSON of blobs and questions), named by `PACK`.

Reading 10,000 loose files costs seconds, one pack milliseconds. Every write goes to a
temporary file renamed into place (taxonbot.diskwrite), so a killed run or two runs at once leave
either the old file or the new one. A cache is only a shortcut: anything unreadable in it is
re-embedded; a write the disk refuses (full, a file where the folder should be) is a DiskError.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import IO, Any, Protocol

import numpy as np

from taxonbot.diskwrite import atomic_open


class _Span(Protocol):
    @property
    def blob(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def stop(self) -> int: ...


class Packable(Protocol):
    """What a pack stores of an index (questionindex.QuestionIndex is one): defined here, so the
    cache needs nothing from the module that uses it."""

    @property
    def entries(self) -> Sequence[_Span]: ...
    @property
    def questions(self) -> list[str]: ...
    @property
    def matrix(self) -> np.ndarray: ...


INDEX_FORMAT = 1  # bump when question extraction changes: older cache entries are then ignored


class VectorStore:
    """The vector cache of one model: loose `<blob>.npz` files and at most one pack.

    A cache is only ever a shortcut: anything unreadable or inconsistent in it is ignored (and
    re-embedded), never an error.
    """

    def __init__(self, folder: str, dimension: int) -> None:
        self.folder = folder
        self.dimension = dimension
        self.pack_rows: dict[str, tuple[int, int]] = {}
        self.pack_questions: list[str] = []
        self.pack_matrix: np.ndarray = np.zeros((0, dimension), np.float32)
        self._open_pack()

    def packed(self, blob: str) -> tuple[list[str], np.ndarray] | None:
        rows = self.pack_rows.get(blob)
        if rows is None:
            return None
        return self.pack_questions[rows[0] : rows[1]], self.pack_matrix[rows[0] : rows[1]]

    def loose(self, blob: str) -> tuple[list[str], np.ndarray] | None:
        try:
            # Our own handle: np.load leaks the file it opened when the zip is damaged.
            with open(os.path.join(self.folder, f"{blob}.npz"), "rb") as handle:
                with np.load(handle, allow_pickle=False) as npz:
                    vectors = npz["vectors"]
                    questions = [str(q) for q in npz["questions"]]
                    if int(npz["format"]) != INDEX_FORMAT:
                        return None
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):  # absent, damaged
            return None
        if vectors.shape != (len(questions), self.dimension) or vectors.dtype != np.float32:
            return None
        return questions, vectors

    def save_loose(self, blob: str, questions: list[str], vectors: np.ndarray) -> None:
        texts = np.array(questions, dtype=np.str_) if questions else np.zeros(0, "U1")
        with self._atomic(f"{blob}.npz") as handle:
            np.savez(handle, vectors=vectors, questions=texts, format=np.int64(INDEX_FORMAT))

    def save_pack(self, index: Packable) -> None:
        """One pack holding exactly the index's blobs; older packs are removed after the switch."""
        blobs: dict[str, tuple[int, int]] = {}
        for entry in index.entries:
            blobs.setdefault(entry.blob, (entry.start, entry.stop))
        rows = np.concatenate([np.arange(a, b) for a, b in blobs.values()] or [np.zeros(0, int)])
        name = "pack-" + hashlib.sha1("".join(blobs).encode(), usedforsecurity=False).hexdigest()
        meta = {
            "format": INDEX_FORMAT,
            "blobs": list(blobs),
            "counts": [b - a for a, b in blobs.values()],
            "questions": [index.questions[i] for i in rows],
        }
        with self._atomic(name + ".npy") as handle:
            np.save(handle, np.ascontiguousarray(index.matrix[rows], dtype=np.float32))
        with self._atomic(name + ".json") as handle:
            handle.write(json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        with self._atomic("PACK") as handle:
            handle.write(name.encode() + b"\n")
        for old in os.listdir(self.folder):
            if old.startswith("pack-") and not old.startswith(name):
                _remove(os.path.join(self.folder, old))

    def _open_pack(self) -> None:
        try:
            with open(os.path.join(self.folder, "PACK"), encoding="ascii") as handle:
                name = handle.read().strip()
            with open(os.path.join(self.folder, name + ".json"), encoding="utf-8") as handle:
                meta = json.load(handle)
            # Memory-mapped: only the pages a run touches are read, and nothing is copied twice.
            matrix = np.load(os.path.join(self.folder, name + ".npy"), mmap_mode="r")
        except (OSError, ValueError, UnicodeDecodeError):
            return
        counts = meta.get("counts", []) if isinstance(meta, dict) else []
        if (
            meta.get("format") != INDEX_FORMAT
            or matrix.shape != (sum(counts), self.dimension)
            or len(meta.get("questions", [])) != matrix.shape[0]
            or len(meta.get("blobs", [])) != len(counts)
        ):
            return
        ends = np.cumsum([0, *counts]).tolist()
        self.pack_rows = {b: (ends[i], ends[i + 1]) for i, b in enumerate(meta["blobs"])}
        self.pack_questions = meta["questions"]
        self.pack_matrix = matrix

    def _atomic(self, name: str) -> AbstractContextManager[IO[Any]]:
        return atomic_open(os.path.join(self.folder, name), binary=True)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass  # another run removed it first, or it is in use: a stale cache file is harmless
