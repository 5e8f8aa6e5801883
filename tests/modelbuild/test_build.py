"""`taxonbot build` without a model: the taxonomy read at a commit, the SDG cache key, a leaf
that cannot be generated, a previous build that is missing or corrupt, a disk that fills."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.modelbuild import BuildError
from taxonbot.modelbuild import run as build_run
from taxonbot.modelbuild.options import BuildOptions
from taxonbot.modelbuild.previous import load_previous
from taxonbot.modelbuild.run import build
from taxonbot.modelbuild.sdgdata import (
    SdgError,
    cache_key,
    generate_leaves,
    leaves_at,
    materialize,
    resolve_commit,
)
from taxonbot.modelbuild.stages import ExportRecord, GeneratedData, SelfReplayData, TrainedPhases
from taxonbot.sdg.generate import GenerationSettings
from taxonbot.train.config import TrainResult
from tests.support.git import Repo

ROOT = Path(__file__).resolve().parents[2]
HAIKU = "compositional_skills/writing/freeform/poetry/haiku_about_weather"
WATER = "knowledge/science/earth_science/water_cycle"


def taxonomy_repo(path: Path, leaves: tuple[str, ...] = (HAIKU, WATER)) -> Path:
    repo = Repo(path).init()
    for leaf in leaves:
        shutil.copytree(ROOT / "taxonomy" / leaf, path / "taxonomy" / leaf)
    repo.commit("Merge pull request #7 from jo/leaves")
    return path


class DescribeOnly:
    """A teacher that must never be asked anything: these leaves fail before generation."""

    def describe(self) -> dict[str, str]:
        return {"backend": "none", "model": "none"}

    def complete(self, requests: Any) -> Any:
        raise AssertionError("no request expected")

    def close(self) -> None:
        pass


def test_the_taxonomy_is_read_at_the_commit_not_from_the_working_tree(tmp_path: Path) -> None:
    repo = taxonomy_repo(tmp_path / "repo")
    commit = resolve_commit(repo, "HEAD")
    leaves = leaves_at(repo, commit)
    assert sorted(leaves) == [f"taxonomy/{HAIKU}/qna.yaml", f"taxonomy/{WATER}/qna.yaml"]
    assert all(len(blob) == 40 for blob in leaves.values())
    (repo / "taxonomy" / HAIKU / "qna.yaml").write_text("changed but not committed\n")
    tree = materialize(repo, commit, tmp_path / "tree")
    committed = (ROOT / "taxonomy" / HAIKU / "qna.yaml").read_bytes()
    assert (tree / "taxonomy" / HAIKU / "qna.yaml").read_bytes() == committed


def test_a_commit_that_is_not_there_or_has_no_taxonomy_is_a_clear_error(tmp_path: Path) -> None:
    repo = taxonomy_repo(tmp_path / "repo")
    with pytest.raises(SdgError, match="is not a commit"):
        resolve_commit(repo, "no-such-branch")
    empty = tmp_path / "empty"
    Repo(empty).init().write("README.md", "x\n")
    Repo(empty).commit("x")
    with pytest.raises(SdgError, match="nothing to build"):
        leaves_at(empty, resolve_commit(empty, "HEAD"))


def test_the_cache_key_follows_the_leaf_the_teacher_and_the_settings() -> None:
    teacher = {"backend": "llama.cpp", "model": "a.gguf", "model_sha256_head_tail": "1"}
    gen = GenerationSettings(pairs=10)
    key = cache_key("a" * 40, "p", teacher, gen)
    assert key == cache_key("a" * 40, "p", {**teacher, "n_ctx": "4096"}, gen)
    assert key != cache_key("b" * 40, "p", teacher, gen)
    assert key != cache_key("a" * 40, "q", teacher, gen)
    assert key != cache_key("a" * 40, "p", {**teacher, "model_sha256_head_tail": "2"}, gen)
    assert key != cache_key("a" * 40, "p", teacher, GenerationSettings(pairs=11))


def test_the_cache_key_follows_the_generation_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A change to how spans are cut, pairs judged or questions deduplicated must not reuse what
    the old code kept; the modules are found from the imports, not a hand-kept list."""
    import taxonbot.sdg.generate
    from taxonbot.sdg import codehash

    copy = tmp_path / "taxonbot"
    shutil.copytree(codehash.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    files = {p.relative_to(copy).as_posix() for p in codehash.generation_modules(copy)}
    # The dedupe block's similarity rule lives in the check's rules; the old list missed it.
    assert {"sdg/grounding.py", "sdg/blocks.py", "check/rules/questions.py"} <= files
    assert {"sdg/generate.py", "sdg/store.py"} <= files  # the loop and its key
    assert "cli/check.py" not in files and "train/loop.py" not in files
    assert codehash.generation_code_hash(copy) == codehash.generation_code_hash()
    keys = []
    for edited in ("sdg/grounding.py", "check/rules/questions.py"):
        with open(copy / edited, "a", encoding="utf-8") as handle:
            handle.write("# a changed rule\n")
        keys.append(codehash.generation_code_hash(copy))
    assert len({codehash.generation_code_hash(), *keys}) == 3
    with open(copy / "cli" / "check.py", "a", encoding="utf-8") as handle:
        handle.write("# not generation code\n")
    assert codehash.generation_code_hash(copy) == keys[-1]

    teacher, gen = {"model": "a.gguf"}, GenerationSettings(pairs=10)
    before = cache_key("a" * 40, "p", teacher, gen)
    monkeypatch.setattr(taxonbot.sdg.generate, "generation_code_hash", lambda: keys[-1])
    assert cache_key("a" * 40, "p", teacher, gen) != before


@pytest.mark.parametrize("flag", ["--replay-self", "--replay-knowledge", "--replay-previous"])
def test_a_replay_share_outside_zero_to_one_is_refused_before_any_work(
    flag: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--repo", str(tmp_path), flag, "1.5"]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: '1.5' is not a fraction between 0 and 1" in err
    assert not (tmp_path / "builds").exists()


def test_fsdp_without_a_launcher_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["build", "--repo", str(tmp_path), "--fsdp"]) == 2
    err = capsys.readouterr().err
    assert "--fsdp shards the model across the processes a launcher starts" in err
    assert '--launcher "torchrun --nproc_per_node N"' in err
    assert not (tmp_path / "builds").exists()


def test_a_leaf_that_cannot_be_generated_is_listed_with_its_reason(tmp_path: Path) -> None:
    repo = taxonomy_repo(tmp_path / "repo", (HAIKU,))
    qna = repo / "taxonomy" / HAIKU / "qna.yaml"
    qna.write_text(qna.read_text() + "oops: [\n")
    Repo(repo).git("commit", "-qam", "break it")
    commit = resolve_commit(repo, "HEAD")
    tree = materialize(repo, commit, tmp_path / "tree")
    (found,) = generate_leaves(
        tree,
        leaves_at(repo, commit),
        DescribeOnly(),
        tmp_path / "cache",
        None,
        GenerationSettings(),
    )
    assert found.status == "failed" and found.samples == []
    assert "qna.yaml" in found.reason and "taxonbot check" in found.reason
    assert str(tmp_path) not in found.reason, "no machine paths in the record"
    assert found.record()["status"] == "failed"


def complete_previous(folder: Path) -> Path:
    (folder / "model").mkdir(parents=True)
    (folder / "model" / "config.json").write_text("{}")
    (folder / "data").mkdir()
    (folder / "data" / "train.jsonl").write_text(
        json.dumps(
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
        )
        + "\n"
    )
    gguf = folder / "model.Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    manifest = {
        "format": "taxonbot-build/1",
        "version": "2026.11.01-1",
        "taxonomy_commit": "a" * 40,
        "export": {
            "gguf": {"file": gguf.name, "sha256": build_run.file_sha256(gguf)},
            "hf": {"files": [{"name": "config.json", "bytes": 2}]},
        },
        "data": {"leaves": []},
        "base": {"name": "base.gguf"},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_complete_previous_build_loads(tmp_path: Path) -> None:
    previous = load_previous(complete_previous(tmp_path / "prev"))
    assert previous.manifest["version"] == "2026.11.01-1" and len(previous.samples) == 1


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda p: shutil.rmtree(p), "does not exist"),
        (lambda p: (p / "data" / "train.jsonl").unlink(), "lacks data/train.jsonl"),
        (lambda p: (p / "manifest.json").write_text("{not json"), "unreadable or incomplete"),
        (lambda p: (p / "model.Q4_K_M.gguf").write_bytes(b"GGUF truncated"), "corrupt"),
        (lambda p: (p / "model" / "config.json").write_text(""), "truncated"),
        (lambda p: (p / "data" / "train.jsonl").write_text("{broken\n"), "train.jsonl"),
    ],
    ids=["missing", "no-data", "manifest", "gguf", "model-file", "data"],
)
def test_a_missing_or_corrupt_previous_build_is_refused_with_what_to_do(
    tmp_path: Path, damage: Any, said: str
) -> None:
    folder = complete_previous(tmp_path / "prev")
    damage(folder)
    with pytest.raises(BuildError, match=said) as caught:
        load_previous(folder)
    assert "--base-model" in str(caught.value)


def test_the_cli_says_so_for_a_corrupt_previous_build_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = taxonomy_repo(tmp_path / "repo", (HAIKU,))
    folder = complete_previous(tmp_path / "prev")
    (folder / "manifest.json").write_text("[]")
    argv = ["build", "--repo", str(repo), "--out", str(tmp_path / "b"), "--previous", str(folder)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("taxonbot build: ") and "Traceback" not in err


def test_a_disk_that_fills_says_so_and_keeps_the_work_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = taxonomy_repo(tmp_path / "repo", (HAIKU,))
    (tmp_path / "b.gguf").write_bytes(b"GGUF")

    def full(*args: Any, **kw: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", "model.safetensors")

    monkeypatch.setattr(build_run, "convert_base", full)
    options = BuildOptions(repo=repo, out=tmp_path / "builds", base_model=tmp_path / "b.gguf")
    with pytest.raises(BuildError, match="disk is full") as caught:
        build(options)
    assert "resumes" in str(caught.value)
    assert (tmp_path / "builds" / ".work").is_dir()
    assert [p.name for p in (tmp_path / "builds").iterdir()] == [".work"], "no build folder"


def test_a_build_killed_during_export_leaves_no_build_and_the_rerun_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Everything heavy replaced by stand-ins: this is about where the build is assembled."""
    repo = taxonomy_repo(tmp_path / "repo", (HAIKU,))
    (tmp_path / "b.gguf").write_bytes(b"GGUF")
    final = tmp_path / "final"
    final.mkdir()
    (final / "config.json").write_text("{}")
    data = GeneratedData((), {"model": "t"}, GenerationSettings(), "code")
    trained = TrainResult(steps=2, losses=[1.0, 0.5], final_dir=str(final))
    phases = TrainedPhases(final, {}, {"phase1": None, "phase2": trained})
    monkeypatch.setattr(build_run, "convert_base", lambda gguf, cache: tmp_path)
    monkeypatch.setattr(build_run, "generate_data", lambda *a: data)
    monkeypatch.setattr(build_run, "self_replay_data", lambda *a: SelfReplayData((), {}))
    monkeypatch.setattr(build_run, "train_phases", lambda *a: phases)
    monkeypatch.setattr(build_run, "credit", lambda *a: [])
    monkeypatch.setattr(build_run, "model_card", lambda *a: "card\n")

    def killed(final_dir: Path, staging: Path, quant: str) -> Any:
        (staging / "model.Q4_K_M.gguf").write_bytes(b"half a mod")
        raise KeyboardInterrupt  # what a kill looks like from inside: nothing after runs

    monkeypatch.setattr(build_run, "export_build", killed)
    options = BuildOptions(
        repo=repo,
        out=tmp_path / "builds",
        base_model=tmp_path / "b.gguf",
        evaluate=False,
        replay_self=0,  # the fake base model cannot answer the self-replay prompts
        version="v1",
    )
    with pytest.raises(KeyboardInterrupt):
        build(options)
    assert not (tmp_path / "builds" / "v1").exists(), "no half-written build to publish"

    def export(final_dir: Path, staging: Path, quant: str) -> ExportRecord:
        (staging / "model.Q4_K_M.gguf").write_bytes(b"a whole model")
        return ExportRecord((), {"file": "model.Q4_K_M.gguf", "quant": quant})

    monkeypatch.setattr(build_run, "export_build", export)
    folder, _ = build(options)
    assert folder == tmp_path / "builds" / "v1"
    assert (folder / "model.Q4_K_M.gguf").read_bytes() == b"a whole model"
    assert json.loads((folder / "manifest.json").read_text())["version"] == "v1"
    assert sorted(p.name for p in (tmp_path / "builds").iterdir()) == [".work", "v1"]


def test_an_unknown_train_config_setting_gets_a_sentence_not_a_type_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "train.json"
    config.write_text('{"learning_rat": 0.001, "epochs": 1}', "utf-8")
    code = main(["build", "--repo", str(tmp_path), "--train-config", str(config)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "unknown setting `learning_rat`" in err and "learning_rate" in err


def test_the_command_line_becomes_typed_options(tmp_path: Path) -> None:
    """--seed seeds training unless --train-config says otherwise; the flags win over both."""
    import argparse

    from taxonbot.cli import build as build_cli
    from taxonbot.runtime.open import ModelSpec

    parser = argparse.ArgumentParser()
    build_cli.configure(parser)
    config = tmp_path / "train.json"
    config.write_text('{"seed": 5, "epochs": 3, "max_len": 512}', "utf-8")
    argv = ["--seed", "9", "--train-config", str(config), "--max-len", "256", "--threads", "3"]
    options = build_cli.options(parser.parse_args([*argv, "--teacher", "http://h:1"]))
    assert options.teacher == ModelSpec("http://h:1", None, 4, 3, 9)
    assert (options.train.seed, options.train.epochs, options.train.max_len) == (5, 3, 256)
    assert options.gen.seed == options.seed == 9 and options.threads == 3
    plain = build_cli.options(parser.parse_args([]))
    assert plain.train is not None and plain.train.seed == 0 and plain.teacher == ModelSpec()


def test_a_mistyped_train_config_setting_gets_a_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "train.json"
    config.write_text('{"epochs": "three"}', "utf-8")
    assert main(["build", "--repo", str(tmp_path), "--train-config", str(config)]) == 2
    err = capsys.readouterr().err
    assert f'taxonbot build: --train-config {config}: epochs must be a number, not `"three"`' in err
