"""A build in a clone that cannot credit its contributions stops before any work, and says why.

Story: retrain.yml used to check out one commit (actions/checkout's default). The previous
build's taxonomy commit was then unknown, and `taxonbot build` failed with "git does not know
<sha>" only when it wrote the model card, after hours of SDG, training and evaluation. Now the
same clone stops at once with a message that says to check out the full history, and the
full clone builds on.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.modelbuild import run as build_run
from taxonbot.modelbuild.history import history_problem
from tests.release import History

WATER = "knowledge/science/water"


def two_builds_of_history(history: History) -> tuple[str, str]:
    history.leaf(WATER, "Water")
    first = history.commit("Initial tree")
    history.leaf("compositional_skills/writing/haiku", "Haiku")
    history.commit("Add haiku writing (#4)")
    return first, history.head()


def shallow_clone(history: History, into: Path) -> Path:
    """What actions/checkout does without `fetch-depth: 0`."""
    origin = f"file://{history.root}"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", origin, str(into)],
        check=True,
        capture_output=True,
    )
    return into


def previous_build(folder: Path, commit: str) -> Path:
    """A complete previous build, as `taxonbot build` leaves it, built from `commit`."""
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "config.json").write_text("{}")
    (folder / "data").mkdir()
    sample = {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    (folder / "data" / "train.jsonl").write_text(json.dumps(sample) + "\n")
    gguf = folder / "model.Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    manifest = {
        "format": "taxonbot-build/1",
        "version": "2026.11.14-1",
        "taxonomy_commit": commit,
        "export": {
            "gguf": {"file": gguf.name, "sha256": build_run.file_sha256(gguf)},
            "hf": {"files": [{"name": "config.json", "bytes": 2}]},
        },
        "data": {"leaves": []},
        "base": {"name": "base.gguf"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any expensive stage reached fails the test: the check must come before all of them."""

    def expensive(*args: Any, **kw: Any) -> Any:
        raise AssertionError("the build went on to expensive work")

    for stage in ("convert_base", "generate_data", "self_replay_data", "train_phases"):
        monkeypatch.setattr(build_run, stage, expensive)
    monkeypatch.setattr(build_run, "_default_gguf", expensive)


def test_a_shallow_clone_stops_the_build_at_once_saying_to_fetch_the_history(
    history: History, tmp_path: Path, no_work: None, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _ = two_builds_of_history(history)
    clone = shallow_clone(history, tmp_path / "checkout")
    previous = previous_build(tmp_path / "builds" / "2026.11.14-1", first)
    argv = ["build", "--repo", str(clone), "--out", str(tmp_path / "builds")]

    assert main([*argv, "--previous", str(previous)]) == 2

    err = capsys.readouterr().err
    assert err.startswith("taxonbot build: git does not know the previous build 2026.11.14-1's")
    assert first in err and "shallow clone" in err and "fetch-depth: 0" in err
    assert "Nothing was generated or trained" in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == ["2026.11.14-1"]


def test_a_first_build_in_a_shallow_clone_stops_too(
    history: History, tmp_path: Path, no_work: None, capsys: pytest.CaptureFixture[str]
) -> None:
    two_builds_of_history(history)
    clone = shallow_clone(history, tmp_path / "checkout")
    assert main(["build", "--repo", str(clone), "--out", str(tmp_path / "builds")]) == 2
    err = capsys.readouterr().err
    assert "is a shallow clone" in err and "fetch-depth: 0" in err


def test_the_full_history_is_enough(history: History, tmp_path: Path) -> None:
    first, _ = two_builds_of_history(history)
    clone = shallow_clone(history, tmp_path / "checkout")
    assert history_problem(clone, first) is not None
    subprocess.run(
        ["git", "-C", str(clone), "fetch", "--quiet", "--unshallow"],
        check=True,
        capture_output=True,
    )
    assert history_problem(clone, first) is None
    assert history_problem(clone, None) is None


def test_a_previous_build_of_another_repository_is_named_as_such(
    history: History, tmp_path: Path
) -> None:
    two_builds_of_history(history)
    problem = history_problem(history.root, "0123456789" * 4, "2026.11.14-1")
    assert problem is not None and "it was not fetched" in problem
    assert "point --previous at a build of this repository" in problem
