"""taxonbot.diskwrite: a file is written whole or not at all, and the disk's refusal is a sentence
naming the path and what to do. A full disk is simulated by a write that raises ENOSPC."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from taxonbot.diskwrite import DiskError, atomic_open, check_folder, make_folder, write_atomic
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
