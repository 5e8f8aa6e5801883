"""The one generation loop (taxonbot/sdg/generate.py) that generate and build both run: a
teacher failing part-way keeps the finished rounds, the next run resumes from them, and the
inputs that decide a leaf's samples are written one way for both commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from taxonbot.modelbuild.sdgdata import cache_key
from taxonbot.runtime.base import BackendError, ChatRequest, Completion
from taxonbot.sdg.generate import (
    GenerationSettings,
    generate_leaf,
    inputs_digest,
    leaf_inputs,
    pipeline_for,
)
from taxonbot.sdg.pipeline import LeafRun
from tests.doubles.fake_backend import FakeBackend

from .fakes import fake_model, haiku_job, number

SETTINGS = GenerationSettings(pairs=6, round_size=2)
MODEL = {"backend": "llama.cpp", "model": "a.gguf", "n_ctx": "4096"}


class FailsAfter:
    """The fake teacher, until its `calls`-th batch: then the server goes away."""

    def __init__(self, model: FakeBackend, calls: int) -> None:
        self.model, self.calls = model, calls
        self.name, self.stats = model.name, model.stats

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        self.calls -= 1
        if self.calls < 0:
            raise BackendError("the teacher server went away")
        return self.model.complete(requests)

    def describe(self) -> dict[str, str]:
        return self.model.describe()

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def close(self) -> None:
        pass


def quiet(run: LeafRun, target: int) -> None:
    pass


def test_a_teacher_failure_keeps_the_finished_rounds_and_the_rerun_resumes(
    tmp_path: Path,
) -> None:
    job, store = haiku_job(), tmp_path / "leaf.jsonl"
    pipeline = pipeline_for(job)
    header = leaf_inputs({"leaf": job.leaf}, pipeline.sha256, MODEL, SETTINGS)
    failing = FailsAfter(fake_model(), calls=4 * 2)  # four model blocks a round: two rounds
    with pytest.raises(BackendError, match="went away"):
        generate_leaf(job, pipeline, failing, SETTINGS, store, header, quiet)

    resumed = fake_model()
    made = generate_leaf(job, pipeline, resumed, SETTINGS, store, header, quiet)
    assert not made.cached and made.store.done
    assert sorted({number(r) for r in resumed.requests}) == [4, 5]
    assert [s.number for s in made.store.samples()] == list(range(6))

    again = generate_leaf(job, pipeline, fake_model(), SETTINGS, store, header, quiet)
    assert again.cached and len(again.store.samples()) == 6


def test_other_inputs_start_the_leaf_again(tmp_path: Path) -> None:
    job, store = haiku_job(), tmp_path / "leaf.jsonl"
    pipeline = pipeline_for(job)
    header = leaf_inputs({"leaf": job.leaf}, pipeline.sha256, MODEL, SETTINGS)
    generate_leaf(job, pipeline, fake_model(), SETTINGS, store, header, quiet)
    other_seed = GenerationSettings(pairs=6, round_size=2, seed=1)
    header = leaf_inputs({"leaf": job.leaf}, pipeline.sha256, MODEL, other_seed)
    made = generate_leaf(job, pipeline, fake_model(), other_seed, store, header, quiet)
    assert not made.cached and len(made.store.samples()) == 6


def test_build_names_its_cache_by_the_digest_of_the_same_inputs() -> None:
    inputs = leaf_inputs({"blob": "a" * 40}, "p", MODEL, SETTINGS)
    assert cache_key("a" * 40, "p", MODEL, SETTINGS) == inputs_digest(inputs)
    assert set(inputs) == {"blob", "pipeline", "templates", "code", "teacher", "settings"}
    assert "n_ctx" not in inputs["teacher"], "the context size does not change what is asked"
    assert inputs["settings"] == [6, 0, 256]  # round size: when to checkpoint, not what
