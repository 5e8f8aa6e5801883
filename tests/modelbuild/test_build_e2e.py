"""`taxonbot build` end to end on the bundled SmolLM2, for real: a two-leaf taxonomy (a skill and
a knowledge leaf whose documents come from the offline mirror) in a real git repository, SDG,
two phases of a couple of steps, export, the GGUF loaded back in llama.cpp and asked a question.
Then a second build on a commit that changes one leaf, from the first build: only that leaf is
generated again, the first build's data is replayed. (The branch evaluation has its own slow
test in test_evaluate.py; here it is skipped to keep CI time down.)"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from taxonbot.cli.main import main
from tests.doubles.docmirror import build_mirror
from tests.support.git import Repo

pytestmark = [pytest.mark.slow, pytest.mark.model]
ROOT = Path(__file__).resolve().parents[2]
HAIKU = "compositional_skills/writing/freeform/poetry/haiku_about_weather"
WATER = "knowledge/science/earth_science/water_cycle"
SMALL = ["--pairs", "2", "--max-new-tokens", "64", "--max-steps", "2", "--max-len", "256"]
SMALL += ["--grad-accum", "1", "--no-eval", "--teacher", "smollm2-135m"]  # the bundled 135M


def test_a_build_exports_a_gguf_that_answers_and_the_next_build_is_incremental(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # a missed mirror fails at once
    mirror = tmp_path / "mirror"
    build_mirror(mirror)
    repo = tmp_path / "repo"
    taxonomy = Repo(repo, author=("Jo", "jo@example.com")).init()
    for leaf in (HAIKU, WATER):
        shutil.copytree(ROOT / "taxonomy" / leaf, repo / "taxonomy" / leaf)
    taxonomy.commit("Merge pull request #7 from jo/weather")
    common = ["--repo", str(repo), "--out", str(tmp_path / "builds"), *SMALL]
    common += ["--docs-mirror", str(mirror), "--docs-cache", str(tmp_path / "docs")]
    prompts = tmp_path / "prompts.yaml"  # the shortest list allowed, to keep the test quick
    items = [
        f"  - id: p{i}\n    category: c\n    question: What is {i} plus {i}?\n" for i in range(10)
    ]
    prompts.write_text("version: 1\nitems:\n" + "".join(items), encoding="utf-8")
    own = ["--self-replay-prompts", str(prompts), "--replay-self", "1", "--replay-distill"]

    assert main(["build", *common, *own, "--version", "b1"]) == 1  # built; not evaluated
    first = tmp_path / "builds" / "b1"
    manifest = json.loads((first / "manifest.json").read_text("utf-8"))
    leaves = {leaf["leaf"]: leaf for leaf in manifest["data"]["leaves"]}
    # A 135M teacher's two haiku answers may both loop (the degeneration filter drops them):
    # then the leaf is listed as failed with the reason, and phase 2 trains on self-replay.
    haiku = leaves[HAIKU]
    assert haiku["candidates"] == 2 and not haiku["from_cache"]
    if haiku["status"] == "failed":
        assert haiku["reason"] == "no generated pair passed the filters"
    else:
        assert haiku["status"] == "generated" and haiku["kept"] > 0
    # Its judges may reject both knowledge candidates: then the leaf is listed as failed, with
    # the reason, and phase 1 is skipped (not silently dropped).
    water = leaves[WATER]
    assert not water["from_cache"] and water["candidates"] == 2
    if water["status"] == "failed":
        assert water["reason"] == "no generated pair passed the filters"
        assert manifest["training"]["phase1"] == {"skipped": "no samples"}
    else:
        assert water["status"] == "generated" and manifest["training"]["phase1"]["steps"] == 2
    assert manifest["training"]["phase2"]["steps"] == 2
    # The base model answered the general prompts, each as a user and as the bot asks; its
    # answers went into both phases.
    own_record = manifest["mixing"]["self_replay"]
    assert own_record["answered"] + len(own_record["dropped"]) == 20
    assert own_record["answered"] >= 10 and not own_record["cached"]
    assert manifest["mixing"]["phase2"]["replay_self"] >= 1
    # ... learned as the base model's distributions, which training read from its HF export.
    assert own_record["learned_as"].startswith("KL toward the start model")
    assert manifest["training"]["config"]["distill_from"] == "start model"
    assert manifest["contributions"][0]["number"] == 7
    for name in ("README.md", "model/model.safetensors", "model.Q4_K_M.gguf", "plots/loss.png"):
        assert (first / name).is_file(), name
    assert "PR 7 by `Jo`" in (first / "README.md").read_text("utf-8")

    from taxonbot.runtime import ChatRequest
    from taxonbot.runtime.open import open_backend

    model = open_backend(str(first / "model.Q4_K_M.gguf"), n_threads=2, seed=0)
    try:
        (reply,) = model.complete(
            [ChatRequest((("user", "What is the capital of France?"),), max_tokens=16)]
        )
    finally:
        model.close()
    assert reply.finish_reason in ("stop", "length") and reply.text.strip()

    qna = repo / "taxonomy" / HAIKU / "qna.yaml"
    text = qna.read_text("utf-8")
    qna.write_text(text.replace("Write a haiku about the weather", "Write a haiku on the weather"))
    taxonomy.git("commit", "-qam", "Merge pull request #8 from jo/haiku")
    # All of the first build's data replayed: phase 2 has data whatever the judges keep now.
    again_argv = ["--version", "b2", "--previous", str(first), "--replay-previous", "1"]
    again_argv += ["--replay-self", "0"]
    assert main(["build", *common, *again_argv]) == 1
    second = json.loads((tmp_path / "builds" / "b2" / "manifest.json").read_text("utf-8"))
    again = {leaf["leaf"]: leaf for leaf in second["data"]["leaves"]}
    assert again[WATER]["from_cache"] and again[WATER]["kept"] == water["kept"]
    assert not again[HAIKU]["from_cache"], "its blob changed: made again"
    assert again[HAIKU]["candidates"] == 2 and again[HAIKU]["status"] in ("generated", "failed")
    assert second["previous"]["version"] == "b1"
    assert second["mixing"]["phase2"]["replay_previous"] == leaves[HAIKU]["kept"] + water["kept"]
    assert [c["number"] for c in second["contributions"]] == [8]
    assert second["mixing"]["self_replay"] == {"skipped": "--replay-self 0"}
    assert second["mixing"]["phase2"]["replay_self"] == 0
