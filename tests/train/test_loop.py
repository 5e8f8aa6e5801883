"""A phase trains, follows its schedule, saves atomically and resumes exactly."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from taxonbot.train import TrainError
from taxonbot.train.config import TrainConfig, TrainResult
from taxonbot.train.loop import train_phase
from taxonbot.train.progress import StepReport
from tests.train.conftest import launch_phase

pytestmark = pytest.mark.model  # needs the model stack: the full tier only

DRIVER = Path(__file__).with_name("driver.py")
CONFIG = TrainConfig(
    learning_rate=1e-3,
    warmup_ratio=0.2,
    max_steps=6,
    max_len=160,
    micro_batch_size=2,
    grad_accum=2,
    weight_decay=0.01,
    checkpoint_every=2,
    seed=11,
)


class Recorder:
    """Remembers what the display would show; raises at a step to play a crash."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.reports: list[StepReport] = []
        self.notes: list[str] = []
        self.crash_at = crash_at

    def step(self, report: StepReport) -> None:
        self.reports.append(report)
        if report.step == self.crash_at:
            raise KeyboardInterrupt

    def note(self, text: str) -> None:
        self.notes.append(text)


def weights(folder: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(folder / "final" / "model.safetensors")


def assert_same_weights(one: dict[str, Any], two: dict[str, Any]) -> None:
    import torch

    assert one.keys() == two.keys()
    assert all(torch.equal(one[name], two[name]) for name in one)


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, samples: list[dict[str, Any]]
) -> tuple[TrainResult, dict[str, Any]]:
    """The uninterrupted run every interrupted one must equal."""
    out = tmp_path_factory.mktemp("reference")
    result = train_phase(tiny_model, samples, CONFIG, out, progress=Recorder())
    return result, weights(out)


@pytest.fixture(scope="module")
def samples() -> list[dict[str, Any]]:  # module scope: the reference fixture shares it
    from tests.train.conftest import chat

    return [
        chat(
            f"Question {i}: what happens in step {i % 7}?" + " Why?" * (i % 5),
            "Rain." * (1 + i % 4),
        )
        for i in range(30)
    ]


def test_a_phase_learns_and_leaves_a_loadable_model(
    tiny_model: Path, reference: tuple[TrainResult, dict[str, Any]], tmp_path: Path
) -> None:
    result, trained = reference
    assert result.steps == len(result.losses) == 6
    assert result.losses[-1] < result.losses[0]
    assert result.useful_tokens == result.tokens_seen - (result.tokens_seen - result.useful_tokens)
    assert 0 < result.supervised_tokens < result.useful_tokens <= result.tokens_seen
    assert result.data["samples"] == 30 and result.data["rows"] < 30
    final = Path(result.final_dir)
    assert json.loads((final / "train_result.json").read_text())["losses"] == result.losses
    assert not (final.parent / "checkpoints").exists()  # only for resuming; gone when done
    assert not [p for p in final.parent.iterdir() if p.name.startswith(".tmp")]
    from transformers import AutoModelForCausalLM, AutoTokenizer

    assert AutoTokenizer.from_pretrained(final).chat_template
    model = AutoModelForCausalLM.from_pretrained(final)
    assert_same_weights({k: v for k, v in model.state_dict().items() if k in trained}, trained)


def test_the_schedule_warms_up_then_follows_a_cosine_to_the_end(
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    rates = reference[0].learning_rates
    peak, warmup, total = CONFIG.learning_rate, math.floor(0.2 * 6), 6
    assert rates[:warmup] == [peak * s / warmup for s in range(warmup)]  # linear from 0
    assert rates[warmup] == pytest.approx(peak)
    cosine = [
        peak * 0.5 * (1 + math.cos(math.pi * (s - warmup) / (total - warmup)))
        for s in range(warmup, total)
    ]
    assert rates[warmup:] == pytest.approx(cosine)
    assert all(a > b for a, b in zip(rates[warmup:-1], rates[warmup + 1 :], strict=True))
    assert rates[-1] < 0.2 * peak  # the cosine would reach 0 one step after the last


def test_resume_after_a_crash_gives_the_same_weights(
    tiny_model: Path,
    samples: list[dict[str, Any]],
    tmp_path: Path,
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    with pytest.raises(KeyboardInterrupt):
        train_phase(tiny_model, samples, CONFIG, tmp_path, progress=Recorder(crash_at=3))
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-000002"]
    seen = Recorder()
    result = train_phase(tiny_model, samples, CONFIG, tmp_path, resume=True, progress=seen)
    assert [r.step for r in seen.reports] == [3, 4, 5, 6]
    assert result.resumed_from == 2
    assert result.losses == reference[0].losses
    assert result.tokens_seen == reference[0].tokens_seen
    assert_same_weights(weights(tmp_path), reference[1])


@pytest.mark.slow
def test_resume_after_sigkill_gives_the_same_weights(
    tiny_model: Path,
    samples: list[dict[str, Any]],
    tmp_path: Path,
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    data = tmp_path / "samples.json"
    data.write_text(json.dumps(samples), encoding="utf-8")
    out = tmp_path / "out"
    settings = {k: v for k, v in CONFIG.__dict__.items()}
    done = subprocess.run(
        [
            sys.executable,
            str(DRIVER),
            str(tiny_model),
            str(out),
            "5",
            str(data),
            json.dumps(settings),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == -9, done.stderr
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-000002", "step-000004"]
    assert not (out / "final").exists()
    seen = Recorder()
    result = train_phase(tiny_model, samples, CONFIG, out, resume=True, progress=seen)
    assert result.resumed_from == 4
    assert [r.step for r in seen.reports] == [5, 6]
    assert_same_weights(weights(out), reference[1])


@pytest.mark.slow
def test_two_processes_compute_what_one_process_with_twice_the_accumulation_does(
    tiny_model: Path, samples: list[dict[str, Any]], tmp_path: Path
) -> None:
    """torchrun on the CPU (gloo): each process takes half of every step, and the loss is
    normalised over the whole step, so the run matches one process that does it all."""
    two = {**CONFIG.__dict__, "checkpoint_every": 0, "grad_accum": 1}
    (tmp_path / "config.json").write_text(json.dumps(two), encoding="utf-8")
    lines = "".join(json.dumps(sample) + "\n" for sample in samples)
    (tmp_path / "data.jsonl").write_text(lines, encoding="utf-8")
    args = ["--model", str(tiny_model), "--data", "data.jsonl", "--config", "config.json"]
    done = launch_phase(["torchrun", "--nproc_per_node", "2"], [*args, "--out", "two"], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    result = TrainResult.read(tmp_path / "two" / "final" / "train_result.json")
    assert (result.data["processes"], result.data["rows_per_step"]) == (2, 4)
    one = train_phase(
        tiny_model,
        samples,
        TrainConfig(**{**two, "grad_accum": 2}),
        tmp_path / "one",
        progress=Recorder(),
    )
    assert one.losses == pytest.approx(result.losses, abs=1e-6)
    import torch

    trained, alone = weights(tmp_path / "two"), weights(tmp_path / "one")
    assert all(torch.allclose(trained[k], alone[k], atol=1e-6) for k in alone)


def test_a_damaged_checkpoint_falls_back_to_the_one_before(
    tiny_model: Path,
    samples: list[dict[str, Any]],
    tmp_path: Path,
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    with pytest.raises(KeyboardInterrupt):
        train_phase(tiny_model, samples, CONFIG, tmp_path, progress=Recorder(crash_at=5))
    checkpoints = tmp_path / "checkpoints"
    (checkpoints / "step-000004" / "optimizer.bin").unlink()
    (checkpoints / ".tmp-step-000006").mkdir()  # a save that a kill cut short
    seen = Recorder()
    result = train_phase(tiny_model, samples, CONFIG, tmp_path, resume=True, progress=seen)
    assert result.resumed_from == 2
    assert any("step-000004 is unusable: optimizer.bin is missing" in n for n in seen.notes)
    assert_same_weights(weights(tmp_path), reference[1])


def test_a_truncated_file_and_then_nothing_usable_start_from_zero(
    tiny_model: Path,
    samples: list[dict[str, Any]],
    tmp_path: Path,
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    with pytest.raises(KeyboardInterrupt):
        train_phase(tiny_model, samples, CONFIG, tmp_path, progress=Recorder(crash_at=3))
    model_file = tmp_path / "checkpoints" / "step-000002" / "model.safetensors"
    with open(model_file, "r+b") as handle:
        handle.truncate(100)
    seen = Recorder()
    result = train_phase(tiny_model, samples, CONFIG, tmp_path, resume=True, progress=seen)
    assert result.resumed_from is None
    assert any("model.safetensors has 100 bytes" in n for n in seen.notes)
    assert any("starting from step 0" in n for n in seen.notes)
    assert_same_weights(weights(tmp_path), reference[1])


def test_a_checkpoint_that_fails_to_load_halfway_leaves_no_trace(
    tiny_model: Path,
    samples: list[dict[str, Any]],
    tmp_path: Path,
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    """The weights load, then the optimizer state does not: the run starts over from the base,
    not from a model that holds step 2's weights with fresh optimizer moments."""
    with pytest.raises(KeyboardInterrupt):
        train_phase(tiny_model, samples, CONFIG, tmp_path, progress=Recorder(crash_at=3))
    optimizer = tmp_path / "checkpoints" / "step-000002" / "optimizer.bin"
    optimizer.write_bytes(b"\0" * optimizer.stat().st_size)  # right size, wrong bytes
    seen = Recorder()
    result = train_phase(tiny_model, samples, CONFIG, tmp_path, resume=True, progress=seen)
    assert result.resumed_from is None
    assert any("step-000002 does not load" in note for note in seen.notes)
    assert_same_weights(weights(tmp_path), reference[1])


def test_a_checkpoint_of_other_data_is_not_resumed(
    tiny_model: Path, samples: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A build killed mid-phase, then run on a new commit: the old state must not leak in."""
    with pytest.raises(KeyboardInterrupt):
        train_phase(tiny_model, samples, CONFIG, tmp_path, progress=Recorder(crash_at=3))
    seen = Recorder()
    result = train_phase(tiny_model, samples[:-1], CONFIG, tmp_path, resume=True, progress=seen)
    assert result.resumed_from is None
    assert [r.step for r in seen.reports] == [1, 2, 3, 4, 5, 6]
    assert any("from another run" in note for note in seen.notes)
    fresh = train_phase(tiny_model, samples[:-1], CONFIG, tmp_path / "fresh", progress=Recorder())
    assert result.losses == fresh.losses


def test_a_finished_phase_is_not_trained_again(
    tiny_model: Path,
    samples: list[dict[str, Any]],
    tmp_path: Path,
    reference: tuple[TrainResult, dict[str, Any]],
) -> None:
    shutil.copytree(Path(reference[0].final_dir), tmp_path / "final")
    seen = Recorder()
    result = train_phase(tiny_model, samples, CONFIG, tmp_path, resume=True, progress=seen)
    assert seen.reports == []
    assert result.losses == reference[0].losses


def test_bad_inputs_say_what_to_do(tiny_model: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match=r"no config\.json"):
        train_phase(tmp_path, [], CONFIG, tmp_path / "out")
    with pytest.raises(TrainError, match="max_len must be at least 1; learning_rate must be"):
        train_phase(tiny_model, [], TrainConfig(max_len=0, learning_rate=-1), tmp_path / "out")
    with pytest.raises(TrainError, match="no sample is left"):
        too_long = [
            {
                "messages": [
                    {"role": "user", "content": "x " * 400},
                    {"role": "assistant", "content": "y"},
                ]
            }
        ]
        train_phase(tiny_model, too_long, CONFIG, tmp_path / "out")
    assert not os.path.exists(tmp_path / "out" / "final")
    with pytest.raises(TrainError, match="fsdp runs in full precision or bf16: set mixed_prec"):
        train_phase(tiny_model, [], TrainConfig(fsdp=True, mixed_precision="fp16"), tmp_path)
    with pytest.raises(TrainError, match='mixed_precision must be "no", "bf16" or "fp16"'):
        train_phase(tiny_model, [], TrainConfig(mixed_precision="fp8"), tmp_path)  # type: ignore[arg-type]


@pytest.mark.parametrize(("asked", "ran"), [("fp16", "fp32"), ("bf16", "bf16")])
def test_the_precision_a_phase_ran_in_is_recorded_and_fp16_on_a_cpu_is_named(
    asked: str, ran: str, tiny_model: Path, samples: list[dict[str, Any]], tmp_path: Path
) -> None:
    import torch

    if torch.accelerator.is_available():
        pytest.skip("this is about a machine without a GPU")
    seen = Recorder()
    config = TrainConfig(**{**CONFIG.__dict__, "mixed_precision": asked, "max_steps": 2})
    result = train_phase(tiny_model, samples, config, tmp_path, progress=seen)
    assert result.data["precision"] == ran
    assert any("fp16 needs a GPU" in note for note in seen.notes) == (asked == "fp16")
    assert all(math.isfinite(loss) for loss in result.losses)


def test_fsdp_in_one_process_trains_the_whole_model_and_says_so(
    tiny_model: Path, samples: list[dict[str, Any]], tmp_path: Path
) -> None:
    seen = Recorder()
    config = TrainConfig(**{**CONFIG.__dict__, "fsdp": True, "max_steps": 1})
    result = train_phase(tiny_model, samples, config, tmp_path, progress=seen)
    assert "FSDP was asked for but there is one process: nothing to shard" in seen.notes
    assert result.data["distributed"] == "NO"
    assert result.data["parameters_per_process"] == result.data["parameters"] > 0
    assert result.data["peak_memory_mib"] > 0 and result.data["memory_measure"]
    assert result.data["precision"] == "fp32"
    # weights + AdamW's two moments, float32: 12 bytes a parameter (the tied head counted once)
    expected = 12 * result.data["parameters"] / 2**20
    assert result.data["state_mib"] == pytest.approx(expected, abs=0.1)
