"""The tiny model other tests build on: loadable by the Auto classes, reproducible, ChatML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.doubles.tiny_model import IM_END, IM_START, make_tiny_model

pytestmark = pytest.mark.model  # needs the model stack: the full tier only


def test_the_auto_classes_load_it_and_it_speaks_chatml(tiny_model: Path, tokenizer: Any) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tokenizer)
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith(f"{IM_START}user\nHi{IM_END}\n{IM_START}assistant\n")
    assert tokenizer.eos_token == IM_END
    assert tokenizer.convert_tokens_to_ids(IM_END) == model.config.eos_token_id
    ids = tokenizer("water cycle", add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == "water cycle"  # byte-level: any text round-trips


def test_the_same_seed_gives_the_same_files(tmp_path: Path, tiny_model: Path) -> None:
    again = make_tiny_model(tmp_path / "again", seed=0)
    names = sorted(p.name for p in tiny_model.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (tiny_model / name).read_bytes() == (again / name).read_bytes(), name


def test_another_seed_gives_other_weights(tmp_path: Path, tiny_model: Path) -> None:
    other = make_tiny_model(tmp_path / "other", seed=1)
    weights = "model.safetensors"
    assert (other / weights).read_bytes() != (tiny_model / weights).read_bytes()
    assert (other / "tokenizer.json").read_bytes() == (tiny_model / "tokenizer.json").read_bytes()
