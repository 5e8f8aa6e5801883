"""No lost work: a reply holding a line-break lookalike is one record of the leaf's store (the
leaf is not generated again on the next run); a full disk or a file or folder in the way is one
line naming the path and what to do, and leaves no zero-byte or half-written file behind."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from taxonbot.cli.main import main
from taxonbot.jsonl import complete_records

from .conftest import HAIKU, UseModel
from .fakes import fake_model, number

Taxonomy = Callable[[str], Path]
ODD = "\u2028\u2029\x85\r\x0b\x0c"


def run(command: str, *argv: str | Path | int) -> int:
    return main([command, *map(str, argv), "--out", "out"])


def one_line(err: str, command: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 or all(not x.startswith("taxonbot") for x in lines[:-1]), err
    assert lines[-1].startswith(f"taxonbot {command}: ")
    return lines[-1]


def zero_byte_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.stat().st_size == 0]


def test_a_reply_with_line_break_lookalikes_round_trips_and_is_not_generated_again(
    taxonomy: Taxonomy, use_model: UseModel, workdir: Path
) -> None:
    qna = taxonomy(HAIKU)
    use_model(fake_model(pair_rating=f"3{ODD}a fine pair"))  # a judge's reply is kept whole
    assert run("generate", qna, "--pairs", 4, "--round-size", 2) == 0
    store = workdir / "out" / "leaves" / f"{HAIKU.replace('/', '__')}.jsonl"
    records = complete_records(store.read_text(encoding="utf-8"))
    assert [r["type"] for r in records] == ["header"] + ["sample"] * 4 + ["done"]
    samples = [r for r in records if r["type"] == "sample"]
    assert [r["judge_replies"]["pair_rating"] for r in samples] == [f"3{ODD}a fine pair"] * 4
    train = (workdir / "out" / "train.jsonl").read_text(encoding="utf-8")
    assert len(train.splitlines()) == 4  # escaped: even a splitlines() reader sees 4 lines

    again = use_model(fake_model())
    before = store.read_bytes()
    assert run("generate", qna, "--pairs", 4, "--round-size", 2) == 0
    assert again.requests == []  # the finished leaf is a cache hit
    assert store.read_bytes() == before


def test_a_store_whose_last_line_is_torn_is_still_resumed(
    taxonomy: Taxonomy, use_model: UseModel, workdir: Path
) -> None:
    qna = taxonomy(HAIKU)
    use_model(fake_model(pair_rating=f"3{ODD}a fine pair"))
    assert run("generate", qna, "--pairs", 4, "--round-size", 2) == 0
    store = workdir / "out" / "leaves" / f"{HAIKU.replace('/', '__')}.jsonl"
    lines = store.read_text(encoding="utf-8").split("\n")
    store.write_text("\n".join(lines[:3]) + "\n" + lines[3][:40], encoding="utf-8")
    resumed = use_model(fake_model())
    assert run("generate", qna, "--pairs", 4, "--round-size", 2) == 0
    assert sorted({number(r) for r in resumed.requests}) == [2, 3]


@pytest.mark.parametrize("command", ["generate", "preview"])
def test_an_output_folder_that_is_a_file_is_one_line_before_the_model_is_asked(
    command: str,
    taxonomy: Taxonomy,
    use_model: UseModel,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    qna = taxonomy(HAIKU)
    (workdir / "out").write_text("notes\n", encoding="utf-8")
    model = use_model(fake_model())
    assert run(command, qna, "--pairs", 2) == 2
    assert one_line(capsys.readouterr().err, command) == (
        f"taxonbot {command}: cannot write into out: out is a file, not a folder; "
        "remove the file out or choose another folder"
    )
    assert model.requests == []
    assert (workdir / "out").read_text(encoding="utf-8") == "notes\n"


@pytest.mark.parametrize(
    ("command", "target"), [("generate", "manifest.json"), ("preview", "preview.json")]
)
def test_a_folder_where_the_output_file_should_be(
    command: str,
    target: str,
    taxonomy: Taxonomy,
    use_model: UseModel,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    qna = taxonomy(HAIKU)
    (workdir / "out" / target).mkdir(parents=True)
    use_model(fake_model())
    assert run(command, qna, "--pairs", 2) == 2
    path = Path("out") / target
    assert one_line(capsys.readouterr().err, command) == (
        f"taxonbot {command}: cannot write {path}: a folder of that name is in the way; "
        f"remove the folder {path} or choose another output folder"
    )


def refuse_when_syncing(monkeypatch: pytest.MonkeyPatch, full: Callable[[str], bool]) -> None:
    """The disk fills up while a file whose name `full` picks is written: its data is refused
    when synced (as ext4 reports a delayed allocation that finds no space)."""
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to tell which file is synced")

    def fsync(fd: int) -> None:
        if full(os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        REAL_FSYNC(fd)

    monkeypatch.setattr(os, "fsync", fsync)


REAL_FSYNC = os.fsync


@pytest.mark.parametrize(
    ("command", "target"),
    [
        ("generate", "manifest.json"),
        ("generate", "train.jsonl"),
        ("preview", "preview.json"),
        ("preview", "pairs.jsonl"),
    ],
)
def test_a_full_disk_is_one_line_and_leaves_no_zero_byte_file(
    command: str,
    target: str,
    taxonomy: Taxonomy,
    use_model: UseModel,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    qna = taxonomy(HAIKU)
    use_model(fake_model())
    refuse_when_syncing(monkeypatch, lambda name: name.startswith(f".{target}."))
    assert run(command, qna, "--pairs", 2) == 2
    path = Path("out") / target
    assert one_line(capsys.readouterr().err, command) == (
        f"taxonbot {command}: cannot write {path}: the disk is full; free space on the disk "
        "that holds out and run the same command again"
    )
    assert not (workdir / path).exists()
    assert zero_byte_files(workdir / "out") == []
    assert not [p for p in (workdir / "out").rglob("*.tmp")]

    monkeypatch.setattr(os, "fsync", REAL_FSYNC)  # space freed: the same command finishes
    again = use_model(fake_model())
    assert run(command, qna, "--pairs", 2) == 0
    assert (workdir / path).stat().st_size > 0
    if command == "generate":
        assert again.requests == []


def test_a_full_disk_while_appending_to_a_store_names_the_store(
    taxonomy: Taxonomy,
    use_model: UseModel,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    qna = taxonomy(HAIKU)
    use_model(fake_model())
    store = Path("out") / "leaves" / f"{HAIKU.replace('/', '__')}.jsonl"
    refuse_when_syncing(monkeypatch, lambda name: name.endswith(".jsonl"))  # appends fail
    assert run("generate", qna, "--pairs", 2) == 2
    assert f"cannot write {store}: the disk is full" in one_line(
        capsys.readouterr().err, "generate"
    )
    assert not (workdir / "out" / "manifest.json").exists()
    assert complete_records(store.read_text(encoding="utf-8"))[0]["type"] == "header"
    monkeypatch.setattr(os, "fsync", REAL_FSYNC)  # space freed: the run resumes the store
    assert run("generate", qna, "--pairs", 2) == 0
    assert complete_records(store.read_text(encoding="utf-8"))[-1] == {"type": "done", "kept": 2}
