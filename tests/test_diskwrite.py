"""taxonbot.diskwrite: a file is written whole or not at all, and the disk's refusal is a sentence
naming the path and what to do. A full disk is simulated by a write that raises ENOSPC."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from taxonbot.diskwrite import (
    DiskError,
    atomic_folder,
    atomic_open,
    check_file,
    check_folder,
    make_folder,
    write_atomic,
)
from taxonbot.exits import Exit


def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes reach the page cache; the disk refuses them when they are synced (as on ext4)."""

    def refuse(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", refuse)


def test_a_full_disk_leaves_no_zero_byte_file_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_disk(monkeypatch)
    target = tmp_path / "out" / "manifest.json"
    with pytest.raises(DiskError) as caught:
        write_atomic(target, '{"format": 1}\n')
    assert str(caught.value) == (
        f"cannot write {target}: the disk is full; free space on the disk that holds "
        f"{target.parent} and run the same command again"
    )
    assert caught.value.exit == Exit.CANNOT
    assert os.listdir(target.parent) == []  # neither the target nor a temporary file


def test_a_full_disk_keeps_the_old_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "train.jsonl"
    target.write_text("old\n", encoding="utf-8")
    full_disk(monkeypatch)
    with pytest.raises(DiskError, match="the disk is full"):
        with atomic_open(target) as handle:
            handle.write("new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["train.jsonl"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_the_sentence_for_a_real_enospc() -> None:
    with pytest.raises(OSError) as caught, open("/dev/full", "w") as handle:
        handle.write("x")
        handle.flush()
    from taxonbot.diskwrite import disk_error

    assert "the disk is full; free space" in str(disk_error(caught.value, "/dev/full"))


def test_a_folder_where_the_file_should_be(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    target.mkdir()
    with pytest.raises(DiskError) as caught:
        write_atomic(target, "{}\n")
    assert str(caught.value) == (
        f"cannot write {target}: a folder of that name is in the way; remove the folder "
        f"{target} or choose another output folder"
    )
    assert sorted(os.listdir(tmp_path)) == ["manifest.json"] and target.is_dir()


def test_a_file_where_the_folder_should_be(tmp_path: Path) -> None:
    blocking = tmp_path / "out"
    blocking.write_text("", encoding="utf-8")
    for attempt in (
        lambda: write_atomic(blocking / "leaves" / "a.jsonl", "x"),
        lambda: make_folder(blocking / "leaves"),
    ):
        with pytest.raises(DiskError) as caught:
            attempt()
        assert f"{blocking} is a file, not a folder; remove the file {blocking}" in str(
            caught.value
        )
    with pytest.raises(DiskError) as caught:
        check_folder(blocking / "leaves")
    assert str(caught.value) == (
        f"cannot write into {blocking / 'leaves'}: {blocking} is a file, not a folder; "
        f"remove the file {blocking} or choose another folder"
    )
    assert check_folder(tmp_path / "new" / "folder") == tmp_path / "new" / "folder"
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_a_path_with_a_control_character_is_shown_escaped(tmp_path: Path) -> None:
    target = tmp_path / "a\x1b[2Jb"
    target.mkdir()
    with pytest.raises(DiskError) as caught:
        write_atomic(target, "x")
    assert "\x1b" not in str(caught.value) and "a\\x1b[2Jb" in str(caught.value)


def test_a_complete_write_replaces_the_file_and_leaves_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "file.bin"
    write_atomic(target, b"\x00\x01")
    write_atomic(target, b"\x02")
    assert target.read_bytes() == b"\x02"
    assert os.listdir(target.parent) == ["file.bin"]


# ---- a folder a writer fills itself (save_pretrained, torch.save, an unpacked archive) --------


def test_a_folder_is_put_in_place_whole_and_the_old_one_goes(tmp_path: Path) -> None:
    target = tmp_path / "converter"
    target.mkdir()
    (target / "old.py").write_text("old", encoding="utf-8")
    with atomic_folder(target) as staging:
        assert staging.parent == tmp_path and staging != target
        (staging / "sub").mkdir()
        (staging / "sub" / "new.py").write_text("new", encoding="utf-8")
        assert (target / "old.py").exists(), "the old folder stays until the new one is whole"
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        "sub",
        "sub/new.py",
    ]
    assert os.listdir(tmp_path) == ["converter"]  # no staging, no `.converter.old`


def test_a_writer_that_fails_leaves_the_old_folder_and_no_staging(tmp_path: Path) -> None:
    target = tmp_path / "step-000004"
    target.mkdir()
    (target / "weights").write_bytes(b"old")
    with pytest.raises(ValueError, match="boom"):
        with atomic_folder(target) as staging:
            (staging / "weights").write_bytes(b"half")
            raise ValueError("boom")
    assert (target / "weights").read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["step-000004"]


def test_a_full_disk_while_filling_a_folder_is_one_sentence_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "final"
    full_disk(monkeypatch)
    with pytest.raises(DiskError) as caught:
        with atomic_folder(target, again="run again with resume") as staging:
            (staging / "model.safetensors").write_bytes(b"x" * 100)
    assert str(caught.value) == (
        f"cannot write {target}: the disk is full; free space on the disk that holds "
        f"{tmp_path} and run again with resume"
    )
    assert os.listdir(tmp_path) == []


def test_a_file_where_the_folder_goes_is_named_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "converter"
    target.write_text("someone's notes", encoding="utf-8")
    with pytest.raises(DiskError) as caught:
        with atomic_folder(target) as staging:
            (staging / "convert_hf_to_gguf.py").write_text("x", encoding="utf-8")
    assert str(caught.value) == (
        f"cannot write {target}: {target} is a file, not a folder; remove the file {target} "
        "or choose another output folder"
    )
    assert target.read_text(encoding="utf-8") == "someone's notes"
    assert os.listdir(tmp_path) == ["converter"]


def test_check_file_says_what_is_in_the_way_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "k.json").mkdir()  # a folder where the cache file goes
    with pytest.raises(DiskError) as caught:
        check_file(tmp_path / "cache" / "k.json")
    assert "a folder of that name is in the way; remove the folder" in str(caught.value)
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(DiskError, match="is a file, not a folder"):
        check_file(tmp_path / "file" / "k.json")
    assert check_file(tmp_path / "new" / "k.json") == tmp_path / "new" / "k.json"
    assert not (tmp_path / "new").exists(), "nothing is created"
