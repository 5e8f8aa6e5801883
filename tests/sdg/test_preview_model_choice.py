"""A preview records which model ran and why: a maintainer names a catalogue model that was
never fetched, the preview still runs (on the fallback) and preview.json says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import taxonbot.sdg.generate
import taxonbot.sdg.session
from taxonbot.cli.main import main
from taxonbot.runtime import open as runtime_open
from taxonbot.runtime.catalogue import default_catalogue
from taxonbot.runtime.modelcache import final_path, record_failure
from taxonbot.schemas import validator

from .conftest import HAIKU, UseModel
from .fakes import fake_model

PREVIEW_SCHEMA = "https://taxonbot.dev/schemas/preview.json"


def test_a_model_that_was_not_fetched_falls_back_and_the_preview_says_why(
    taxonomy: Callable[[str], Path],
    use_model: UseModel,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TAXONBOT_MODELS", str(workdir / "models"))
    record_failure(workdir / "models", "qwen2.5-coder-1.5b", "https://x answered HTTP 503")
    qna = taxonomy(HAIKU)
    use_model(fake_model(), catalogue=True)
    argv = [str(qna), "--pairs", "2", "--teacher", "qwen2.5-coder-1.5b", "--out", "out"]
    assert main(["preview", *argv]) == 0
    body = json.loads((workdir / "out" / "preview.json").read_text(encoding="utf-8"))
    assert [e.message for e in validator(PREVIEW_SCHEMA).iter_errors(body)] == []
    choice = body["model_choice"]
    assert (choice["requested"], choice["name"]) == ("qwen2.5-coder-1.5b", "smollm2-135m")
    assert "its last fetch failed: https://x answered HTTP 503" in choice["reason"]
    assert "`taxonbot model fetch qwen2.5-coder-1.5b`" in choice["reason"]
    assert choice["licence"] == "Apache-2.0"
    assert "running smollm2-135m: qwen2.5-coder-1.5b is not fetched" in capsys.readouterr().err


def test_generate_refuses_a_named_model_that_was_not_fetched(
    taxonomy: Callable[[str], Path], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole training set is never made by a model other than the one named."""
    qna = taxonomy(HAIKU)
    assert main(["generate", str(qna), "--teacher", "qwen2.5-coder-1.5b", "--out", "o"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("taxonbot generate: qwen2.5-coder-1.5b is not fetched;")


@pytest.mark.parametrize("command", ["preview", "generate"])
def test_the_catalogues_judge_scores_for_the_model_that_runs_reach_every_leaf(
    command: str,
    taxonomy: Callable[[str], Path],
    use_model: UseModel,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    catalogue = default_catalogue()
    measured = replace(catalogue.entry("qwen2.5-coder-1.5b"), judges={"judge_pair": 0.52})
    models = {**catalogue.models, measured.name: measured}
    monkeypatch.setattr(
        runtime_open, "default_catalogue", lambda: replace(catalogue, models=models)
    )
    monkeypatch.setenv("TAXONBOT_MODELS", str(workdir / "models"))
    cached = final_path(measured, workdir / "models")  # a fetched file: only its size is checked
    cached.parent.mkdir(parents=True)
    with cached.open("wb") as handle:
        handle.truncate(measured.size)
    seen: list[object] = []
    for module in (taxonbot.sdg.session, taxonbot.sdg.generate):
        real = module.RunContext
        monkeypatch.setattr(
            module,
            "RunContext",
            lambda *a, real=real, **kw: seen.append(kw["judge_auc"]) or real(*a, **kw),
        )
    qna = taxonomy(HAIKU)
    use_model(fake_model(), catalogue=True)
    argv = [str(qna), "--pairs", "2", "--teacher", measured.name, "--out", "out"]
    assert main([command, *argv]) == 0
    assert seen == [{"judge_pair": 0.52}]
