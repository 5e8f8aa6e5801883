"""One phase through a launcher, in two processes for real: torchrun on the CPU (gloo), the way
`taxonbot build --launcher` runs phases on several GPUs or nodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxonbot.train.launch import PHASE_MODULE
from taxonbot.train.phase import main
from tests.train.conftest import launch_phase

DRIVER = Path(__file__).with_name("driver.py")

pytestmark = [pytest.mark.slow, pytest.mark.model]


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
    assert err.startswith(f"{PHASE_MODULE}: ") and "Traceback" not in err


def launched_config(folder: Path, **settings: object) -> list[str]:
    """Arguments for a phase of `phase_inputs` with these settings on top; checkpoints every 2."""
    data, config = phase_inputs(folder)
    values = {**json.loads(config.read_text("utf-8")), "max_steps": 6, "checkpoint_every": 2}
    config.write_text(json.dumps({**values, **settings}), "utf-8")
    return ["--data", str(data), "--config", str(config)]


def final_weights(out: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(out / "final" / "model.safetensors")


def test_fsdp_shards_the_model_over_two_processes_and_computes_what_ddp_does(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`--launcher "accelerate launch --use_fsdp ..."` on CPUs: torch's FSDP2 over gloo, the
    code path GPUs take over NCCL. Each process holds half the parameters, and the result is
    data parallel's up to the order of float additions."""
    import torch

    argv = ["--model", str(tiny_model), *launched_config(tmp_path)]
    launcher = ["accelerate", "launch", "--num_processes", "2", "--num_machines", "1"]
    launcher += ["--mixed_precision", "no", "--dynamo_backend", "no"]
    launcher += ["--use_fsdp", "--fsdp_version", "2"]
    done = launch_phase(launcher, [*argv, "--out", "fsdp"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ddp = launch_phase(["torchrun", "--nproc_per_node", "2"], [*argv, "--out", "ddp"], tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    sharded = json.loads((tmp_path / "fsdp" / "final" / "train_result.json").read_text("utf-8"))
    whole = json.loads((tmp_path / "ddp" / "final" / "train_result.json").read_text("utf-8"))
    assert (sharded["data"]["distributed"], whole["data"]["distributed"]) == ("FSDP", "MULTI_CPU")
    total = sharded["data"]["parameters"]
    assert total == whole["data"]["parameters_per_process"] > 0
    assert sharded["data"]["parameters_per_process"] <= total // 2 + 64  # dim-0 halves
    assert sharded["data"]["state_mib"] < 0.55 * whole["data"]["state_mib"]  # weights + moments
    assert sharded["losses"] == pytest.approx(whole["losses"], abs=1e-5)
    one, two = final_weights(tmp_path / "fsdp"), final_weights(tmp_path / "ddp")
    assert one.keys() == two.keys()  # the tied head is saved once, as without sharding
    assert all(torch.allclose(one[k], two[k], atol=1e-6) for k in one)
    from safetensors.torch import load_file

    base = load_file(tiny_model / "model.safetensors")
    assert not all(torch.equal(one[k], base[k]) for k in base), "training moved the weights"


def test_fsdp_resume_after_a_kill_gives_the_same_weights(tiny_model: Path, tmp_path: Path) -> None:
    """Both processes of a sharded run die after step 5 (a lost node: SIGKILL, no cleanup);
    each had written its own shards of step 4; the resumed run equals the uninterrupted one."""
    import torch

    args = launched_config(tmp_path, fsdp=True)
    config = json.loads(Path(args[3]).read_text("utf-8"))
    samples = [json.loads(line) for line in Path(args[1]).read_text("utf-8").splitlines()]
    (tmp_path / "samples.json").write_text(json.dumps(samples), "utf-8")
    killed = launch_phase(
        ["torchrun", "--nproc_per_node", "2", str(DRIVER)],
        [str(tiny_model), "cut", "5", "samples.json", json.dumps(config)],
        tmp_path,
        module=False,
    )
    assert killed.returncode != 0 and not (tmp_path / "cut" / "final").exists()
    checkpoints = tmp_path / "cut" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-000002", "step-000004"]
    shards = {p.name for p in (checkpoints / "step-000004").iterdir()}
    assert {"__0_0.distcp", "__1_0.distcp", ".metadata", "scheduler.pt"} <= shards
    argv = ["--model", str(tiny_model), *args]
    resumed = launch_phase(
        ["torchrun", "--nproc_per_node", "2"], [*argv, "--out", "cut", "--resume"], tmp_path
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resuming from" in resumed.stderr + resumed.stdout
    whole = launch_phase(["torchrun", "--nproc_per_node", "2"], [*argv, "--out", "whole"], tmp_path)
    assert whole.returncode == 0, whole.stderr[-3000:]
    result = json.loads((tmp_path / "cut" / "final" / "train_result.json").read_text("utf-8"))
    assert result["resumed_from"] == 4 and result["data"]["distributed"] == "FSDP"
    one, two = final_weights(tmp_path / "cut"), final_weights(tmp_path / "whole")
    assert one.keys() == two.keys() and all(torch.equal(one[k], two[k]) for k in one)


def test_the_build_runs_a_phase_sharded_through_its_launcher(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`taxonbot build --launcher "torchrun ..." --fsdp`: the build writes the phase's data and
    settings, the launcher's processes shard the model, and the build reads the result back."""
    import sys

    from taxonbot.train.config import TrainConfig
    from taxonbot.train.launch import launch_phase as build_launch

    samples = [json.loads(line) for line in phase_inputs(tmp_path)[0].read_text().splitlines()]
    torchrun = Path(sys.executable).with_name("torchrun")
    config = TrainConfig(max_steps=2, max_len=64, grad_accum=2, learning_rate=1e-3, fsdp=True)
    result = build_launch(f"{torchrun} --nproc_per_node 2", tiny_model, samples, config, tmp_path)
    assert result.steps == 2 and result.data["distributed"] == "FSDP"
    assert result.final_dir == str(tmp_path / "final")
    written = json.loads((tmp_path / "phase-config.json").read_text("utf-8"))
    assert written["fsdp"] is True


def test_two_nodes_train_what_one_node_with_two_processes_does(
    tiny_model: Path, tmp_path: Path
) -> None:
    """Several nodes: two torchrun agents (one process each) meet at a rendezvous address, as
    two machines would; the sharded run is bit for bit the one-node two-process run."""
    import os
    import socket
    import subprocess
    import sys

    import torch

    argv = ["--model", str(tiny_model), *launched_config(tmp_path, fsdp=True)]
    phase = ["-m", PHASE_MODULE, *argv, "--out", "nodes"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    meet = ["--nnodes", "2", "--nproc_per_node", "1", "--master_addr", "127.0.0.1"]
    meet += ["--master_port", str(port)]
    nodes = [
        subprocess.Popen(
            [torchrun, *meet, "--node_rank", str(rank), *phase],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    errors = [node.communicate(timeout=600)[1] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], errors[0][-2000:] + errors[1][-2000:]
    one = launch_phase(["torchrun", "--nproc_per_node", "2"], [*argv, "--out", "one"], tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    result = json.loads((tmp_path / "nodes" / "final" / "train_result.json").read_text("utf-8"))
    assert result["data"]["processes"] == 2 and result["data"]["distributed"] == "FSDP"
    a, b = final_weights(tmp_path / "nodes"), final_weights(tmp_path / "one")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
