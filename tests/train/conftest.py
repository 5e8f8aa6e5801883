"""The tiny model once per session, and chat samples of varying length."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.train.launch import PHASE_MODULE
from tests.doubles.tiny_model import make_tiny_model


@pytest.fixture(autouse=True)
def one_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """A tiny model gains nothing from threads, and on a busy shared CPU they spin and stall.

    The driver process of the kill test uses one thread too: the same thread count keeps the
    floating-point reduction order, hence the weights, identical across processes. A test not
    marked `model` (the fast tier) must not load torch at all.
    """
    if request.node.get_closest_marker("model") is None:
        yield
        return
    import torch

    was = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(was)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="session")
def tokenizer(tiny_model: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


def chat(question: str, answer: str) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
    }


@pytest.fixture
def samples() -> list[dict[str, Any]]:
    """Thirty pairs whose lengths vary the way generated pairs do (a line to a paragraph)."""
    return [
        chat(
            f"Question {index}: what happens to water in step {index % 7}?" + " Why?" * (index % 5),
            "Water evaporates, condenses and falls again." * (1 + index % 4),
        )
        for index in range(30)
    ]


def launch_phase(
    launcher: list[str], args: list[str], cwd: Path, *, module: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m taxonbot.train.phase ARGS` under a launcher installed beside the interpreter
    (["torchrun", "--nproc_per_node", "2"], ["accelerate", "launch", ...]), run in `cwd`;
    module=False runs the launcher's own script (its last item) with ARGS instead."""
    found = shutil.which(launcher[0], path=str(Path(sys.executable).parent))
    assert found, f"{launcher[0]} is installed beside the interpreter"
    program = ["-m", PHASE_MODULE] if module else []
    return subprocess.run(
        [found, *launcher[1:], *program, *args],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
