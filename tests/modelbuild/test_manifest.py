"""The build's record, held: a whole build with the heavy steps stood in for (teacher, training,
GGUF export, embedder, plots) writes exactly the manifest.json kept in data/manifest.json, apart
from what is expected to move (the time, the tool versions, the generation code's hash).

The stages hand each other typed values (taxonbot/modelbuild/stages.py); this is what keeps
their `to_manifest()` the JSON a build has always written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from taxonbot.modelbuild.evaluate import Answer, EvalReport, QuestionResult, Scores, SetResult
from taxonbot.modelbuild.options import BuildOptions
from taxonbot.modelbuild.run import build
from taxonbot.modelbuild.sdgdata import LeafData
from taxonbot.runtime.open import ModelSpec
from taxonbot.train.config import TrainConfig, TrainResult
from tests.doubles.fake_backend import FakeBackend

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("data") / "manifest.json"
HAIKU = "compositional_skills/writing/freeform/poetry/haiku_about_weather"
WATER = "knowledge/science/earth_science/water_cycle"
MOVING = {"created", "tools"}  # and data.generation_code_sha256: the code's own hash


def chat(question: str, answer: str, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return {"messages": messages, **extra}


def taxonomy_repo(path: Path) -> Path:
    path.mkdir()
    env = {"GIT_AUTHOR_DATE": "2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2026-01-02T03:04:05Z"}

    def git(*args: str) -> None:
        who = ["-c", "user.name=Jo", "-c", "user.email=jo@example.com"]
        subprocess.run(["git", "-C", str(path), *who, *args], check=True, env=env, text=True)

    git("init", "-q", "-b", "main")
    for leaf in (HAIKU, WATER):
        shutil.copytree(ROOT / "taxonomy" / leaf, path / "taxonomy" / leaf)
    git("add", "-A")
    git("commit", "-q", "-m", "Merge pull request #7 from jo/weather")
    return path


def leaves(tree: Path, found: dict[str, str], *rest: Any, **named: Any) -> list[LeafData]:
    made = []
    for path, blob in sorted(found.items()):
        leaf = path.removeprefix("taxonomy/").removesuffix("/qna.yaml")
        kind = "knowledge" if leaf.startswith("knowledge/") else "skills"
        samples = [chat(f"{leaf} question {i}?", f"Answer {i}.", leaf=leaf) for i in range(3)]
        made.append(
            LeafData(
                leaf,
                path,
                blob,
                kind,
                "generated",
                key=f"key-{kind}",
                samples=samples,
                candidates=4,
                pairs=3,
            )
        )
    return made


class Gguf:
    def __init__(self, out: Path, quant: str) -> None:
        self.out, self.quant = out, quant

    def as_manifest(self) -> dict[str, Any]:
        return {"format": "gguf", "file": self.out.name, "bytes": 9, "quant": self.quant}


def to_gguf(hf_dir: Path, out: Path, *, quant: str = "Q4_K_M", **kw: Any) -> Gguf:
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_bytes(b"GGUF " + Path(hf_dir).name.encode()[:4])
    return Gguf(Path(out), quant)


def train_phase(start: Path, samples: list[Any], config: TrainConfig, out: Path, **kw: Any) -> Any:
    final = Path(out) / "final"
    final.mkdir(parents=True, exist_ok=True)
    (final / "config.json").write_text("{}")
    (final / "model.safetensors").write_bytes(b"w" * len(samples))
    data = {"samples": len(samples), "distilled": sum(1 for s in samples if s.get("distill"))}
    return TrainResult(
        steps=2,
        losses=[1.234567, 0.5],
        learning_rates=[1e-5, 2e-5],
        final_dir=str(final),
        data=data,
        fingerprint=f"fp-{len(samples)}",
    )


def answer(score: float) -> Answer:
    return Answer("an answer", score, score, True, score)


def scores(score: float) -> Scores:
    return Scores(score, score, score, 1.0, 0, 0.0)


def branch_eval(before: Any, after: Any, jobs: Any, items: Any, embedder: Any, **kw: Any) -> Any:
    asked = QuestionResult("q1", "math", "1+1?", "2", False, answer(0.5), answer(0.6))
    regression = SetResult(
        "regression.yaml", "regression set", "regression", scores(0.5), scores(0.6), (asked,)
    )
    return EvalReport(
        kw["baseline"],
        {"before": before.describe(), "after": after.describe()},
        (),
        regression,
        0.05,
        0.03,
        True,
        (),
        (f"{len(jobs)} leaves",),
        "good",
    )


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The heavy steps replaced where the build looks them up; the plots it asked for."""
    import taxonbot.modelbuild.evaluate as evaluate
    import taxonbot.modelbuild.export as export
    import taxonbot.modelbuild.plots as plots
    import taxonbot.modelbuild.run as run

    def open_model(spec: ModelSpec) -> FakeBackend:
        return FakeBackend({".": f"The model {Path(spec.spec).name} says so."})

    drawn: list[str] = []
    monkeypatch.setattr(run, "open_model", open_model)
    monkeypatch.setattr(run, "generate_leaves", leaves)
    monkeypatch.setattr(run, "convert_base", lambda gguf, cache: _hf(cache / "abc"))
    monkeypatch.setattr(export, "to_gguf", to_gguf)
    monkeypatch.setattr(evaluate, "branch_eval", branch_eval)
    monkeypatch.setattr(plots, "loss_plot", lambda losses, out: drawn.append(f"loss {losses}"))
    monkeypatch.setattr(plots, "scores_plot", lambda report, out: drawn.append(report.summary))
    monkeypatch.setitem(sys.modules, "taxonbot.train.loop", _module(train_phase=train_phase))
    monkeypatch.setitem(sys.modules, "taxonbot.gaps.embed", _module(Embedder=lambda: None))
    return drawn


def _module(**names: Any) -> types.ModuleType:
    module = types.ModuleType("stand_in")
    module.__dict__.update(names)
    return module


def _hf(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text("{}")
    return folder


def test_a_builds_manifest_is_the_one_builds_have_always_written(
    tmp_path: Path, stand_ins: list[str]
) -> None:
    repo = taxonomy_repo(tmp_path / "repo")
    (tmp_path / "base.gguf").write_bytes(b"GGUF base")
    options = BuildOptions(
        repo=repo,
        out=tmp_path / "builds",
        base_model=tmp_path / "base.gguf",
        teacher=ModelSpec("llama.cpp", threads=1, seed=3),
        train=TrainConfig.from_mapping({"seed": 3, "max_steps": 2}, "the test"),
        version="v1",
        seed=3,
    )
    folder, manifest = build(options)
    written = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert written == manifest
    assert stand_ins == ["loss {'phase1': [1.234567, 0.5], 'phase2': [1.234567, 0.5]}", "good"]
    text = json.dumps(written, indent=1).replace(str(tmp_path), "TMP")
    got = json.loads(text)
    for name in MOVING:
        assert got.pop(name)
    assert len(got["data"].pop("generation_code_sha256")) == 64
    assert got == json.loads(GOLDEN.read_text("utf-8"))
