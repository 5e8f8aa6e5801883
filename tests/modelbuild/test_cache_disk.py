"""The build's own caches and installs on a bad disk (issue 20, item 5): a cache folder that is a
file, a folder where a cache file goes, a full disk, a file where the converter's folder goes.
Each is one sentence naming the path and what to do (taxonbot.diskwrite.DiskError), said before
the model is asked or the archive unpacked where it can be, and nothing half-written is left.
"""

from __future__ import annotations

import errno
import io
import os
import tarfile
from pathlib import Path

import pytest

from taxonbot.diskwrite import DiskError
from taxonbot.exits import Exit
from taxonbot.modelbuild import converter_install
from taxonbot.modelbuild.selfreplay import Prompts, cache_key, self_replay
from tests.doubles.fake_backend import FakeBackend

PROMPTS = Prompts("prompts.yaml", "1", "abc", ({"id": "p0", "category": "c", "question": "Q?"},))
VENDOR = f"llama_cpp_python-{converter_install.SDIST_VERSION}/vendor/llama.cpp/"


def model() -> FakeBackend:
    return FakeBackend({"self_replay": lambda request: "An answer."})


def test_a_cache_folder_that_is_a_file_is_said_before_the_model_is_asked(tmp_path: Path) -> None:
    cache = tmp_path / "self_replay"
    cache.write_text("not a folder", encoding="utf-8")
    backend = model()
    with pytest.raises(DiskError) as caught:
        self_replay(backend, "m1", PROMPTS, cache, 3)
    assert str(caught.value) == (
        f"cannot write into {cache}: {cache} is a file, not a folder; remove the file {cache} "
        "or choose another folder"
    )
    assert backend.requests == [] and cache.read_text(encoding="utf-8") == "not a folder"


def test_a_folder_where_the_cache_file_goes_is_said_before_the_model_is_asked(
    tmp_path: Path,
) -> None:
    entry = tmp_path / f"{cache_key('m1', PROMPTS, 3)}.json"
    entry.mkdir()
    backend = model()
    with pytest.raises(DiskError) as caught:
        self_replay(backend, "m1", PROMPTS, tmp_path, 3)
    assert str(caught.value) == (
        f"cannot write {entry}: a folder of that name is in the way; remove the folder {entry} "
        "or choose another output folder"
    )
    assert "\n" not in str(caught.value) and backend.requests == []


def test_a_full_disk_leaves_no_cache_entry_and_the_next_run_asks_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "fsync", refuse)
        with pytest.raises(DiskError, match="the disk is full; free space"):
            self_replay(model(), "m1", PROMPTS, tmp_path, 3)
    assert os.listdir(tmp_path) == []  # no entry, no `.tmp`: not a damaged hit next time
    samples, record = self_replay(model(), "m1", PROMPTS, tmp_path, 3)
    assert len(samples) == 2 and not record["cached"]
    assert self_replay(model(), "m1", PROMPTS, tmp_path, 3)[1]["cached"]


def converter_sdist(path: Path) -> Path:
    files = {
        VENDOR + "convert_hf_to_gguf.py": b"print('convert')",
        VENDOR + "gguf-py/pyproject.toml": b'[project]\nversion = "0.19.0"\n',
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_file_where_the_converter_goes_is_one_line_and_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dest = tmp_path / "converter"
    dest.write_text("notes", encoding="utf-8")
    sdist = tmp_path / "missing.tar.gz"  # never read: the folder is checked first
    assert converter_install.main(["--sdist", str(sdist), "--dest", str(dest)]) == Exit.CANNOT
    err = capsys.readouterr().err
    assert err == (
        f"get_converter: cannot write into {dest}: {dest} is a file, not a folder; remove the "
        f"file {dest} or choose another folder\n"
    )
    assert dest.read_text(encoding="utf-8") == "notes"


def test_a_full_disk_while_unpacking_keeps_the_old_converter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "converter"
    first = converter_install.unpack(converter_sdist(tmp_path / "a.tar.gz"), dest)
    before = sorted(p.name for p in dest.rglob("*"))

    def refuse(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(DiskError) as caught:
        converter_install.unpack(tmp_path / "a.tar.gz", dest)
    assert str(caught.value) == (
        f"cannot write {dest}: the disk is full; free space on the disk that holds {tmp_path} "
        f"and run `{converter_install.SETUP_COMMAND}` again"
    )
    assert sorted(p.name for p in dest.rglob("*")) == before and first.folder == dest
    assert sorted(os.listdir(tmp_path)) == ["a.tar.gz", "converter"]
