"""Append-only JSONL per leaf: what makes `taxonbot generate` resumable.

Line 1 is a header naming the inputs (leaf hash, pipeline, templates, model, seed, target);
then one line per finished sample, appended after every round; then a `done` line. A killed
run leaves at worst a torn last line, which is dropped on resume. A header that no longer
matches the inputs means the leaf changed: it is generated again from scratch.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taxonbot.check.rules.questions import normalise
from taxonbot.sdg.sample import Sample, Verdict


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
        with open(self.path, "a", encoding="utf-8") as handle:
            for sample in samples:
                record = {"type": "sample", **sample.record()}
                self.records.append(record)
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def finish(self) -> None:
        kept = sum(1 for r in self.records if r["kept"])
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"type": "done", "kept": kept}) + "\n")
        self.done = True

    def kept_questions(self) -> list[tuple[str, frozenset[str], int]]:
        out = []
        for record in self.records:
            if record["kept"]:
                norm = normalise(record["question"])
                out.append((norm, frozenset(norm.split()), record["number"]))
        return out

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
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            lines.append(json.loads(raw))
        except json.JSONDecodeError:
            break  # a torn write from a killed run: everything before it is intact
    return lines


def rewrite(path: Path, lines: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
    )
    os.replace(temporary, path)
