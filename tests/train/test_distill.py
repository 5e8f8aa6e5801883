"""Samples marked "distill" learn the reference model's distributions, not their tokens."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from taxonbot.train import TrainError
from taxonbot.train.data import IGNORE, encode_samples
from taxonbot.train.loop import train_phase
from taxonbot.train.packing import pack
from taxonbot.train.rows import RowTensors, collate
from tests.train.conftest import chat
from tests.train.test_loop import CONFIG as LOOP_CONFIG
from tests.train.test_loop import Recorder, assert_same_weights, weights

pytestmark = pytest.mark.model  # needs the model stack: the full tier only

# The loop tests' phase, at a rate that moves a tiny model in a few steps.
CONFIG = dataclasses.replace(
    LOOP_CONFIG, learning_rate=3e-3, warmup_ratio=0.0, weight_decay=0.0, seed=5
)


def marked(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**sample, "distill": True} for sample in samples]


def replay() -> list[dict[str, Any]]:
    """What the start model would replay: any text; what it learns is the model's own view."""
    return [chat(f"Tell me about topic {i}.", "Topic " + "words " * (2 + i % 6)) for i in range(16)]


def test_only_a_distilled_samples_supervised_tokens_are_marked(tokenizer: Any) -> None:
    data = [chat("Plain?", "Yes."), {**chat("Soft?", "Maybe so."), "distill": True}]
    encoded = encode_samples(data, tokenizer, 160)
    assert [s.distill for s in encoded.samples] == [False, True]
    rows = pack(encoded.samples, 160)
    assert len(rows) == 1
    row, soft = rows[0], encoded.samples[1]
    start = len(row) - len(soft) if row.input_ids[-len(soft) :] == soft.input_ids else 0
    expected = [0] * len(row)
    for offset, label in enumerate(soft.labels):
        expected[start + offset] = int(label != IGNORE)
    assert list(row.distill) == expected and sum(row.distill) == soft.supervised > 0
    plain = pack(encode_samples(data[:1], tokenizer, 160).samples, 160)
    assert plain[0].distill == ()  # rows without a distilled sample carry no mask
    batch = collate([RowTensors.of(row), RowTensors.of(plain[0])], "cpu")
    assert batch["distill"].shape == batch["input_ids"].shape
    assert batch["distill"][1].sum() == 0  # the plain row and the padding are not distilled


def kl_to(reference: Path, trained: Path, data: list[dict[str, Any]], tokenizer: Any) -> float:
    """Mean KL(reference ‖ trained) per supervised token of `data`."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    one, two = (AutoModelForCausalLM.from_pretrained(p).eval() for p in (reference, trained))
    total, count = 0.0, 0
    for sample in encode_samples(data, tokenizer, 160).samples:
        ids = torch.tensor([sample.input_ids])
        where = torch.tensor(sample.labels[1:]) != IGNORE
        with torch.no_grad():
            p = one(input_ids=ids).logits[0, :-1][where].log_softmax(-1)
            q = two(input_ids=ids).logits[0, :-1][where].log_softmax(-1)
        total += float(F.kl_div(q, p, log_target=True, reduction="sum"))
        count += int(where.sum())
    return total / count


def loss_on(model: Path, data: list[dict[str, Any]], tokenizer: Any) -> float:
    """The model's mean cross-entropy on the supervised tokens of `data`."""
    import torch
    from transformers import AutoModelForCausalLM

    net = AutoModelForCausalLM.from_pretrained(model).eval()
    losses = []
    for sample in encode_samples(data, tokenizer, 160).samples:
        with torch.no_grad():
            ids, labels = torch.tensor([sample.input_ids]), torch.tensor([sample.labels])
            out = net(input_ids=ids, labels=labels)
        losses.append(float(out.loss))
    return sum(losses) / len(losses)


def test_distilling_keeps_the_model_where_learning_the_tokens_moves_it(
    tiny_model: Path, tokenizer: Any, tmp_path: Path
) -> None:
    data = marked(replay())
    soft = train_phase(
        tiny_model, data, dataclasses.replace(CONFIG, distill_from=str(tiny_model)),
        tmp_path / "soft", progress=Recorder(),
    )  # fmt: skip
    hard = train_phase(tiny_model, data, CONFIG, tmp_path / "hard", progress=Recorder())
    # The start model is its own reference: nothing to learn at step one; the tokens are new.
    assert soft.losses[0] == pytest.approx(0.0, abs=1e-5)
    assert hard.losses[0] > 5.0
    moved_soft = kl_to(tiny_model, Path(soft.final_dir), data, tokenizer)
    moved_hard = kl_to(tiny_model, Path(hard.final_dir), data, tokenizer)
    assert moved_soft < moved_hard / 10, (moved_soft, moved_hard)


def test_a_mixed_phase_learns_its_new_data_and_distills_the_rest(
    tiny_model: Path, samples: list[dict[str, Any]], tokenizer: Any, tmp_path: Path
) -> None:
    config = dataclasses.replace(CONFIG, distill_from=str(tiny_model), max_steps=10)
    new, old = samples[:16], marked(replay())
    result = train_phase(tiny_model, [*new, *old], config, tmp_path / "mixed", progress=Recorder())
    alone = train_phase(tiny_model, new, config, tmp_path / "alone", progress=Recorder())
    final = Path(result.final_dir)
    assert loss_on(final, new, tokenizer) < 0.8 * loss_on(tiny_model, new, tokenizer)
    assert kl_to(tiny_model, final, old, tokenizer) < kl_to(
        tiny_model, Path(alone.final_dir), old, tokenizer
    )  # and the replay keeps the model nearer its start than the new data alone would


def test_a_distilling_phase_resumes_to_the_same_weights(
    tiny_model: Path, samples: list[dict[str, Any]], tmp_path: Path
) -> None:
    config = dataclasses.replace(CONFIG, distill_from=str(tiny_model))
    data = [*samples[:10], *marked(replay())]
    whole = train_phase(tiny_model, data, config, tmp_path / "whole", progress=Recorder())
    with pytest.raises(KeyboardInterrupt):
        train_phase(tiny_model, data, config, tmp_path / "cut", progress=Recorder(crash_at=3))
    again = train_phase(tiny_model, data, config, tmp_path / "cut", resume=True)
    assert again.resumed_from == 2 and again.losses == whole.losses
    assert_same_weights(weights(tmp_path / "cut"), weights(tmp_path / "whole"))


def test_a_missing_reference_model_is_named(tiny_model: Path, tmp_path: Path) -> None:
    config = dataclasses.replace(CONFIG, distill_from=str(tmp_path / "nowhere"))
    with pytest.raises(TrainError, match=r"reference model .*nowhere.* not a Hugging Face"):
        train_phase(tiny_model, marked(replay()), config, tmp_path / "out", progress=Recorder())
