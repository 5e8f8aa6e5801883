"""Chat samples to tokens: the loss sees the assistant's turns and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taxonbot.train import TrainError
from taxonbot.train.data import IGNORE, encode_samples, read_samples
from tests.doubles.tiny_model import IM_END
from tests.train.conftest import chat

pytestmark = pytest.mark.model  # needs the model stack: the full tier only


def supervised_text(tokenizer: Any, ids: tuple[int, ...], labels: tuple[int, ...]) -> str:
    return tokenizer.decode([t for t, label in zip(ids, labels, strict=True) if label != IGNORE])


def test_only_the_answer_and_its_end_of_turn_are_learned(tokenizer: Any) -> None:
    encoded = encode_samples([chat("What is rain?", "Falling water.")], tokenizer, 256)
    sample = encoded.samples[0]
    assert (
        supervised_text(tokenizer, sample.input_ids, sample.labels) == f"Falling water.{IM_END}\n"
    )
    # a label is the token itself where supervised
    assert all(
        label in (IGNORE, t) for t, label in zip(sample.input_ids, sample.labels, strict=True)
    )
    assert sample.labels[0] == IGNORE


def test_every_assistant_turn_of_a_conversation_is_learned(tokenizer: Any) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "One?"},
        {"role": "assistant", "content": "First."},
        {"role": "user", "content": "Two?"},
        {"role": "assistant", "content": "Second."},
    ]
    sample = encode_samples([{"messages": messages}], tokenizer, 256).samples[0]
    learned = supervised_text(tokenizer, sample.input_ids, sample.labels)
    assert learned == f"First.{IM_END}\nSecond.{IM_END}\n"


def test_long_samples_are_dropped_or_cut_and_counted(tokenizer: Any) -> None:
    data = [chat("short?", "yes"), chat("q?", "no " * 60), chat("long? " * 40, "no")]
    dropped = encode_samples(data, tokenizer, 64)
    assert dropped.record() == {
        "samples": 1,
        "dropped_too_long": 2,
        "truncated": 0,
        "dropped_no_assistant_tokens": 0,
    }
    cut = encode_samples(data, tokenizer, 64, on_long="truncate")
    # the long question fills all 64 tokens before its answer starts: nothing to learn from it
    assert cut.record() == {
        "samples": 2,
        "dropped_too_long": 0,
        "truncated": 1,
        "dropped_no_assistant_tokens": 1,
    }
    assert [len(sample) for sample in cut.samples][1] == 64


@pytest.mark.parametrize(
    ("sample", "says"),
    [
        ({"messages": []}, "non-empty"),
        ({"messages": [{"role": "user", "content": "hi"}]}, "at least one assistant"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "needs a role"),
        ({"messages": [{"role": "user", "content": 3}]}, "string content"),
        (["not", "a", "sample"], "non-empty"),
    ],
)
def test_a_malformed_sample_is_named(tokenizer: Any, sample: Any, says: str) -> None:
    with pytest.raises(TrainError, match=says):
        encode_samples([chat("ok?", "ok"), sample], tokenizer, 64)


def test_train_jsonl_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "q"}, '
        '{"role": "assistant", "content": "a"}]}\n\n{oops\n',
        encoding="utf-8",
    )
    with pytest.raises(TrainError, match=r"train\.jsonl:3: not JSON"):
        read_samples(path)
    path.write_text(path.read_text(encoding="utf-8").replace("{oops", ""), encoding="utf-8")
    assert len(read_samples(path)) == 1
    with pytest.raises(TrainError, match="cannot read"):
        read_samples(tmp_path / "missing.jsonl")
