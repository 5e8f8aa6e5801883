"""Append-only JSONL per leaf: what makes `taxonbot generate` resumable.

Line 1 is a header naming the inputs (leaf hash, pipeline, templates, model, seed, target);
then one line per finished sample, appended after every round; then a `done` line. A killed
run leaves at worst a torn last line, which is dropped on resume. A header that no longer
matches the inputs means the leaf changed: it is generated again from scratch. Records are split
on "\n" only (taxonbot.jsonl): a reply holding U+2028 or a form feed is a sample, not a tear.
A write the disk refuses is a DiskError naming the store (taxonbot.diskwrite).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import disk_error, write_atomic
from taxonbot.jsonl import complete_records, dump_line
from taxonbot.sdg.sample import Asked, Sample, Verdict, asked


@dataclass
class LeafStore:
    path: Path
    header: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    done: bool = False

    @classmethod
    def open(cls, path: Path, header: dict[str, Any]) -> LeafStore:
        store = cls(path, header)
        lines = read_lines(path)
        if lines and lines[0].get("type") == "header" and lines[0]["inputs"] == header:
            store.records = [r for r in lines[1:] if r.get("type") == "sample"]
            store.done = any(r.get("type") == "done" for r in lines[1:])
            rewrite(path, lines)  # drops a torn last line before we append again
        else:
            rewrite(path, [{"type": "header", "inputs": header}])
        return store

    def next_number(self) -> int:
        return max((r["number"] for r in self.records), default=-1) + 1

    def append(self, samples: list[Sample]) -> None:
        records = [{"type": "sample", **sample.record()} for sample in samples]
        self._append(records)
        self.records.extend(records)

    def finish(self) -> None:
        kept = sum(1 for r in self.records if r["kept"])
        self._append([{"type": "done", "kept": kept}])
        self.done = True

    def _append(self, records: Iterable[dict[str, Any]]) -> None:
        """The records at the end of the file, synced; a refused write leaves at worst a torn
        last line (dropped on resume) and is a DiskError."""
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write("".join(dump_line(record) for record in records))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise disk_error(exc, self.path) from None

    def kept_questions(self) -> list[Asked]:
        return [asked(r["question"], r["number"], r["context"]) for r in self.records if r["kept"]]

    def samples(self) -> list[Sample]:
        return [to_sample(r) for r in self.records]


def to_sample(record: dict[str, Any]) -> Sample:
    verdicts = {
        name: Verdict(record["scores"].get(name), passed, record["judge_replies"].get(name, ""))
        for name, passed in record["filters"].items()
    }
    return Sample(
        record["number"],
        record["question"],
        record["answer"],
        record["context"],
        verdicts,
        record["rejected_by"],
        record["reason"],
        record["finished"],
    )


def read_lines(path: Path) -> list[dict[str, Any]]:
    """The store's intact records; none when it is absent."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise disk_error(exc, path) from None
    return complete_records(raw.decode("utf-8", errors="replace"))


def rewrite(path: Path, lines: list[dict[str, Any]]) -> None:
    write_atomic(path, "".join(dump_line(x) for x in lines))
