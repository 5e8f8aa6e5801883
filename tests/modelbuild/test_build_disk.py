"""`taxonbot build`: an --out that is a file is one line before any work; the build record is
written whole or not at all (no zero-byte manifest.json on a full disk)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from taxonbot.cli.main import main
from taxonbot.diskwrite import DiskError
from taxonbot.modelbuild.record import write_json


def test_an_out_folder_that_is_a_file_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_build(*_: object) -> None:
        raise AssertionError("the build starts only when its folder can be written")

    monkeypatch.setattr("taxonbot.modelbuild.run.build", no_build)
    (tmp_path / "builds").write_text("", encoding="utf-8")
    assert main(["build", "--repo", str(tmp_path), "--out", str(tmp_path / "builds")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    builds = tmp_path / "builds"
    assert err.strip() == (
        f"taxonbot build: cannot write into {builds}: {builds} is a file, not a folder; "
        f"remove the file {builds} or choose another folder"
    )


def test_a_full_disk_leaves_no_zero_byte_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", refuse)
    manifest = tmp_path / "manifest.json"
    with pytest.raises(DiskError, match=f"cannot write {manifest}: the disk is full; free space"):
        write_json(manifest, {"format": "taxonbot-build/1"})
    assert os.listdir(tmp_path) == []


def test_a_folder_where_the_manifest_should_be(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").mkdir()
    with pytest.raises(DiskError, match="a folder of that name is in the way; remove the folder"):
        write_json(tmp_path / "manifest.json", {})
