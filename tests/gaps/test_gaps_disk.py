"""`taxonbot gaps`: an output or cache folder that is a file, or a full disk, is one line naming
the path and what to do, said before any model loads; no zero-byte gaps.json is left behind."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from taxonbot.cli.main import main

REPO = Path(__file__).resolve().parents[2]
HAIKU = "taxonomy/compositional_skills/writing/freeform/poetry/haiku_about_weather/qna.yaml"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "taxonomy", tmp_path / "taxonomy")
    monkeypatch.chdir(tmp_path)

    def no_model(*_: object, **__: object) -> None:
        raise AssertionError("no model is loaded when the output cannot be written")

    monkeypatch.setattr("taxonbot.gaps.embed.Embedder", no_model)
    return tmp_path


def last_line(err: str) -> str:
    assert "Traceback" not in err
    return err.strip().splitlines()[-1]


def test_an_output_folder_that_is_a_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "out").write_text("", encoding="utf-8")
    assert main(["gaps", HAIKU, "--out", "out/gaps"]) == 2
    assert last_line(capsys.readouterr().err) == (
        "taxonbot gaps: cannot write out/gaps: out is a file, not a folder; remove the file out "
        "or choose another output folder"
    )


def test_a_cache_folder_that_is_a_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tree / "cache").write_text("", encoding="utf-8")
    assert main(["gaps", HAIKU, "--overlap", "--out", "out", "--cache", "cache"]) == 2
    assert last_line(capsys.readouterr().err) == (
        "taxonbot gaps: cannot write into cache: cache is a file, not a folder; remove the "
        "file cache or choose another folder"
    )


def test_a_full_disk_leaves_no_zero_byte_gaps_json(
    tree: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", refuse)
    assert main(["gaps", "--overlap", "--out", "out"]) == 2
    assert last_line(capsys.readouterr().err) == (
        "taxonbot gaps: cannot write out/gaps.json: the disk is full; free space on the disk "
        "that holds out and run the same command again"
    )
    assert os.listdir(tree / "out") == []
