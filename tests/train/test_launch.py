"""One phase through a launcher, in two processes for real: torchrun on the CPU (gloo), the way
`taxonbot build --launcher` runs phases on several GPUs or nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.train.phase import main
from tests.train.conftest import launch_phase

pytestmark = pytest.mark.slow


def phase_inputs(folder: Path) -> tuple[Path, Path]:
    samples = [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} plus {i}?"},
                {"role": "assistant", "content": f"{i} plus {i} is {2 * i}."},
            ]
        }
        for i in range(24)
    ]
    data, config = folder / "data.jsonl", folder / "config.json"
    data.write_text("".join(json.dumps(s) + "\n" for s in samples), "utf-8")
    settings = {"max_steps": 3, "max_len": 64, "grad_accum": 2, "learning_rate": 1e-3}
    config.write_text(json.dumps(settings), "utf-8")
    return data, config


def test_two_processes_train_one_phase_through_torchrun(tiny_model: Path, tmp_path: Path) -> None:
    data, config = phase_inputs(tmp_path)
    argv = ["--model", str(tiny_model), "--data", str(data), "--config", str(config)]
    done = launch_phase(["torchrun", "--nproc_per_node", "2"], [*argv, "--out", "out"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((tmp_path / "out" / "final" / "train_result.json").read_text("utf-8"))
    assert result["steps"] == 3 and len(result["losses"]) == 3
    assert result["data"]["processes"] == 2, "the two processes joined one run"
    assert (tmp_path / "out" / "final" / "model.safetensors").is_file()


def test_bad_settings_are_a_clear_error(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, config = phase_inputs(tmp_path)
    config.write_text(json.dumps({"max_steps": 0, "nonsense": 1}), "utf-8")
    argv = ["--model", str(tiny_model), "--data", str(data), "--config", str(config)]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ci.train.phase: ") and "Traceback" not in err


def test_fsdp_asked_on_a_cpu_machine_trains_data_parallel_and_says_so(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`--launcher "accelerate launch --use_fsdp ..."` on a machine without GPUs: accelerate
    1.15 enables FSDP only for GPU-like devices, so the two processes train data parallel over
    gloo; the run says so and records how it ran instead of claiming sharding it did not do."""
    data, config = phase_inputs(tmp_path)
    argv = ["--model", str(tiny_model), "--data", str(data), "--config", str(config)]
    launcher = ["accelerate", "launch", "--num_processes", "2", "--num_machines", "1"]
    launcher += ["--mixed_precision", "no", "--dynamo_backend", "no"]
    launcher += ["--use_fsdp", "--fsdp_version", "2"]
    done = launch_phase(launcher, [*argv, "--out", "out"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "FSDP was asked for but accelerate runs MULTI_CPU" in done.stderr
    result = json.loads((tmp_path / "out" / "final" / "train_result.json").read_text("utf-8"))
    assert result["data"]["processes"] == 2 and result["data"]["distributed"] == "MULTI_CPU"
    assert result["steps"] == 3
