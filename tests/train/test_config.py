"""Training settings read from JSON (`--train-config`, and the launched phase's settings file):
an unknown or mistyped setting is a sentence naming it, never a TypeError."""

from __future__ import annotations

import pytest

from taxonbot.errors import CannotRun
from taxonbot.train import TrainError
from taxonbot.train.config import TrainConfig
from taxonbot.train.launch import PHASE_MODULE


def test_settings_read_from_a_mapping_are_the_config() -> None:
    values = {"learning_rate": 1e-4, "epochs": 2, "max_steps": None, "fsdp": True}
    assert TrainConfig.from_mapping(values, "cfg.json") == TrainConfig(
        learning_rate=1e-4, epochs=2, max_steps=None, fsdp=True
    )


def test_an_unknown_setting_names_the_closest_one_and_all_of_them() -> None:
    with pytest.raises(TrainError) as caught:
        TrainConfig.from_mapping({"lr": 0.1, "learning_rat": 0.1}, "--train-config cfg.json")
    said = str(caught.value)
    assert said.startswith("--train-config cfg.json: unknown settings `lr`, `learning_rat`")
    assert "`learning_rat` (did you mean `learning_rate`?)" in said
    assert "the settings are attn_implementation, checkpoint_every," in said


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"epochs": "three"}, 'epochs must be a number, not `"three"`'),
        ({"max_steps": 2.5}, "max_steps must be a whole number or null, not `2.5`"),
        ({"grad_accum": True}, "grad_accum must be a whole number, not `true`"),
        ({"fsdp": 1}, "fsdp must be true or false, not `1`"),
        ({"on_long": None}, "on_long must be a string, not `null`"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_sentence(values: dict[str, object], said: str) -> None:
    with pytest.raises(TrainError) as caught:
        TrainConfig.from_mapping(values, "cfg.json")
    assert str(caught.value) == f"cfg.json: {said}"


def test_a_value_or_key_a_terminal_would_act_on_is_escaped_and_a_long_one_cut() -> None:
    # a --train-config file is the user's, but its text reaches the terminal in the error line
    with pytest.raises(TrainError) as caught:
        TrainConfig.from_mapping({"on_long": ["\u202edrop\x9b31m", "x" * 500]}, "cfg.json")
    said = str(caught.value)
    assert said.isprintable() and "\\u202e" in said and "\\u009b" in said
    assert len(said) < 200 and "characters)" in said
    with pytest.raises(TrainError) as caught:
        TrainConfig.from_mapping({"lr\u2028x": 1}, "cfg.json")
    assert str(caught.value).isprintable() and "`lr\\u2028x`" in str(caught.value)


def test_settings_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(TrainError, match=r"cfg\.json: training settings must be a JSON object"):
        TrainConfig.from_mapping([1, 2], "cfg.json")


def test_a_train_error_is_a_command_that_could_not_run() -> None:
    assert issubclass(TrainError, CannotRun)
    assert PHASE_MODULE == "taxonbot.train.phase"
