"""One name per concept: preview, generate and gaps take the new option spellings, and the old
ones still parse to the same options for one release, with a note that names the new one."""

from __future__ import annotations

import argparse

import pytest

from taxonbot.cli.gaps import gaps_options
from taxonbot.cli.main import build_parser
from taxonbot.cli.sdgoptions import sdg_options
from taxonbot.runtime.open import ModelSpec

RENAMED_SDG = [
    ("--changed-since", "--base", "main"),
    ("--backend", "--teacher", "http://127.0.0.1:8000/v1"),
    ("--model", "--teacher-model", "granite"),
]
RENAMED_GAPS = [
    ("--backend", "--novelty-model", "http://127.0.0.1:8000/v1"),
    ("--model", "--novelty-model-name", "granite"),
]


def parse(*argv: str) -> argparse.Namespace:
    return build_parser(argv[0]).parse_args(list(argv))


@pytest.mark.parametrize("command", ["preview", "generate"])
@pytest.mark.parametrize(("old", "new", "value"), RENAMED_SDG)
def test_an_old_sdg_spelling_gives_the_same_options_and_names_the_new_one(
    command: str, old: str, new: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with_new = sdg_options(parse(command, new, value))
    assert capsys.readouterr().err == ""
    with_old = sdg_options(parse(command, old, value))
    assert with_old == with_new and with_old != sdg_options(parse(command))
    err = capsys.readouterr().err
    assert f"{old} is now {new}" in err


@pytest.mark.parametrize(("old", "new", "value"), RENAMED_GAPS)
def test_an_old_gaps_spelling_gives_the_same_options_and_names_the_new_one(
    old: str, new: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with_new = gaps_options(parse("gaps", new, value))
    assert capsys.readouterr().err == ""
    with_old = gaps_options(parse("gaps", old, value))
    assert with_old == with_new and with_old != gaps_options(parse("gaps"))
    assert f"{old} is now {new}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["preview", "generate", "gaps"])
def test_help_shows_only_the_new_spellings(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse(command, "--help")
    shown = capsys.readouterr().out
    assert "--changed-since" not in shown and "--backend" not in shown
    assert "--model " not in shown and "--model\n" not in shown
    if command == "gaps":
        assert "--novelty-model" in shown and "--teacher" not in shown
    else:
        assert "--base" in shown and "--teacher-model" in shown


def test_the_teacher_options_become_one_model_spec() -> None:
    argv = ["--teacher", "https://t.example", "--teacher-model", "g", "--concurrency", "8"]
    options = sdg_options(parse("preview", *argv, "--threads", "3", "--seed", "5"))
    assert options.teacher == ModelSpec("https://t.example", "g", 8, 3, 5)
    assert options.seed == 5 and options.docs.cache_dir.is_absolute()


def test_the_novelty_model_takes_the_embedder_threads() -> None:
    options = gaps_options(parse("gaps", "--novelty-model", "m.gguf", "--threads", "4"))
    assert options.novelty_model == ModelSpec("m.gguf", threads=4)
    assert options.coverage and options.overlap and options.novelty
    only = gaps_options(parse("gaps", "--overlap"))
    assert (only.coverage, only.overlap, only.novelty) == (False, True, False)
