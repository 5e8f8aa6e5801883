"""`taxonbot generate`: the full data set, resumable. A run killed part-way picks up at the first
missing sample; finished leaves are never redone; a changed leaf is generated afresh."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.sdg.prompts import templates_hash

from .conftest import HAIKU, MEETING, UseModel
from .fakes import fake_model, number, question

Taxonomy = Callable[[str], Path]


def generate(*argv: str | Path | int) -> int:
    return main(["generate", *map(str, argv), "--out", "out"])


def store_of(workdir: Path, leaf: str) -> Path:
    return workdir / "out" / "leaves" / f"{leaf.replace('/', '__')}.jsonl"


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kill_after_two_samples(store: Path) -> None:
    """What a run killed while appending the third sample leaves behind: a torn last line."""
    lines = store.read_text(encoding="utf-8").splitlines()
    store.write_text("\n".join(lines[:3]) + "\n" + lines[3][: len(lines[3]) // 2])


def test_a_killed_run_resumes_with_only_the_missing_samples(
    taxonomy: Taxonomy, use_model: UseModel, workdir: Path
) -> None:
    qna = taxonomy(HAIKU)
    first = use_model(fake_model())
    assert generate(qna, "--pairs", 6, "--round-size", 2) == 0
    assert len(first.requests) == 6 * 4  # four model blocks per sample
    store = store_of(workdir, HAIKU)
    assert [r["type"] for r in records(store)] == ["header"] + ["sample"] * 6 + ["done"]
    uninterrupted = (workdir / "out" / "train.jsonl").read_text(encoding="utf-8")

    kill_after_two_samples(store)
    resumed = use_model(fake_model())
    assert generate(qna, "--pairs", 6, "--round-size", 2) == 0
    assert sorted({number(r) for r in resumed.requests}) == [2, 3, 4, 5]
    assert len(resumed.requests) == 4 * 4
    lines = records(store)  # every line parses: the torn one was dropped, not built upon
    assert [r.get("number") for r in lines if r["type"] == "sample"] == [0, 1, 2, 3, 4, 5]
    assert lines[-1] == {"type": "done", "kept": 6}
    assert (workdir / "out" / "train.jsonl").read_text(encoding="utf-8") == uninterrupted

    again = use_model(fake_model())
    before = sha256(store)
    assert generate(qna, "--pairs", 6, "--round-size", 2) == 0
    assert again.requests == []  # a finished leaf is not redone
    assert sha256(store) == before


def test_train_jsonl_and_the_manifest_agree_with_the_leaf_files(
    taxonomy: Taxonomy, use_model: UseModel, workdir: Path
) -> None:
    ratings = ["3", "1", "3", "3", "unsure", "2"]
    model = use_model(fake_model(pair_rating=ratings))
    haiku, meeting = taxonomy(HAIKU), taxonomy(MEETING)
    assert generate(haiku, meeting, "--pairs", 6, "--round-size", 4, "--seed", 7) == 0
    out = workdir / "out"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    train = [json.loads(line) for line in (out / "train.jsonl").read_text().splitlines()]
    assert manifest["format"] == "taxonbot-data-manifest/1"
    assert manifest["model"] == model.describe()
    assert manifest["templates_sha256"] == templates_hash()
    assert (manifest["seed"], manifest["pairs_per_leaf"]) == (7, 6)
    assert manifest["train"] == {
        "path": "train.jsonl",
        "sha256": sha256(out / "train.jsonl"),
        "pairs": len(train),
    }
    by_leaf = {entry["leaf"]: entry for entry in manifest["leaves"]}
    assert list(by_leaf) == [HAIKU, MEETING]
    for leaf, qna in ((HAIKU, haiku), (MEETING, meeting)):
        entry, store = by_leaf[leaf], store_of(workdir, leaf)
        samples = [r for r in records(store) if r["type"] == "sample"]
        assert entry["input_sha256"] == sha256(qna)
        assert entry["output_sha256"] == sha256(store)
        assert entry["candidates"] == len(samples) == 6
        assert entry["kept"] == sum(r["kept"] for r in samples)
        assert entry["kept"] + sum(entry["rejected_by"].values()) == 6
        assert entry["kept"] == sum(1 for line in train if line["leaf"] == leaf)
    assert by_leaf[HAIKU]["rejected_by"] == {"pair_rating": 2}
    assert all([m["role"] for m in line["messages"]] == ["user", "assistant"] for line in train)


def test_a_changed_qna_yaml_is_generated_again_and_the_others_are_not(
    taxonomy: Taxonomy, use_model: UseModel, workdir: Path
) -> None:
    haiku, meeting = taxonomy(HAIKU), taxonomy(MEETING)
    use_model(fake_model())
    assert generate(haiku, meeting, "--pairs", 3) == 0
    old = json.loads((workdir / "out" / "manifest.json").read_text())["leaves"][0]

    haiku.write_text(
        haiku.read_text(encoding="utf-8").replace("summer thunderstorm", "spring hailstorm"),
        encoding="utf-8",
    )
    model = use_model(fake_model())
    assert generate(haiku, meeting, "--pairs", 3) == 0
    assert {r.tag for r in model.requests} == {
        "new_question",
        "question_quality",
        "answer",
        "pair_rating",
    }  # the haiku pipeline only: the grounded leaf was not touched
    assert sorted({number(r) for r in model.requests}) == [0, 1, 2]  # from scratch
    new = json.loads((workdir / "out" / "manifest.json").read_text())["leaves"][0]
    assert new["input_sha256"] == sha256(haiku) != old["input_sha256"]
    assert records(store_of(workdir, HAIKU))[0]["inputs"]["input_sha256"] == sha256(haiku)


def test_a_resumed_run_still_knows_the_questions_it_kept_before_the_kill(
    taxonomy: Taxonomy, use_model: UseModel, workdir: Path
) -> None:
    qna = taxonomy(HAIKU)
    use_model(fake_model())
    assert generate(qna, "--pairs", 4, "--round-size", 2) == 0
    kill_after_two_samples(store_of(workdir, HAIKU))

    def repeats_itself(request: Any) -> str:
        return question(0) if number(request) == 3 else question(number(request))

    use_model(fake_model(new_question=repeats_itself))
    assert generate(qna, "--pairs", 4, "--round-size", 2) == 0
    samples = [r for r in records(store_of(workdir, HAIKU)) if r["type"] == "sample"]
    assert samples[3]["reason"] == "duplicates generated question #1"


def test_a_leaf_that_fails_its_check_is_skipped_and_the_run_exits_1(
    taxonomy: Taxonomy,
    use_model: UseModel,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = taxonomy(MEETING)
    broken.write_text("version: 3\nseed_examples: [\n", encoding="utf-8")
    use_model(fake_model())
    assert generate(broken, taxonomy(HAIKU), "--pairs", 2) == 1
    assert "skipped:" in capsys.readouterr().err
    manifest = json.loads((workdir / "out" / "manifest.json").read_text())
    assert [entry["leaf"] for entry in manifest["leaves"]] == [HAIKU]
