"""`taxonbot build`: from a taxonomy commit and a previous build (or a base model) to a
versioned community build.

  taxonomy at the commit ─► incremental SDG (sdgdata.py) ─► mixing (train/mixing.py)
  ─► phase 1: knowledge ─► phase 2: skills + replay (training.py: train/loop.py, accelerate)
  ─► export: HF safetensors + GGUF Q4_K_M (export.py)
  ─► branch evaluation vs the previous build (evaluate.py) ─► the build record (record.py)

Each stage hands the next a value (stages.py), and each value writes its part of manifest.json.
Everything long-lived sits in the work folder (`OUT/.work`): the SDG cache (shared by builds),
the base model converted for training, each phase's checkpoints. A killed build run again with
the same inputs resumes: finished leaves come from the cache, training from its last
checkpoint. The build itself is assembled in `OUT/.staging-VERSION` and renamed to
`OUT/VERSION` only when complete, so no half-written build is ever there to publish.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import atomic_open, write_atomic
from taxonbot.jsonl import dump_line
from taxonbot.modelbuild import BuildError
from taxonbot.modelbuild.options import BuildOptions
from taxonbot.modelbuild.previous import (
    Previous,
    base_record,
    check_history,
    credit,
    load_previous,
)
from taxonbot.modelbuild.record import (
    MANIFEST_FORMAT,
    file_sha256,
    model_card,
    tool_versions,
    write_json,
)
from taxonbot.modelbuild.sdgdata import generate_leaves, leaves_at, materialize, resolve_commit
from taxonbot.modelbuild.stages import (
    Evaluation,
    ExportRecord,
    GeneratedData,
    SelfReplayData,
    TrainedPhases,
)
from taxonbot.modelbuild.training import mix_phases, train_phases
from taxonbot.runtime import BackendError
from taxonbot.runtime.open import open_model, resolve

GGUF_NAME = "model.{quant}.gguf"


def build(options: BuildOptions) -> tuple[Path, dict[str, Any]]:
    """Run a whole build; (the build folder, its manifest)."""
    try:
        return _build(options)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise BuildError(
                f"the disk is full ({exc.filename or 'while writing'}): free space and run the "
                "same command again; finished leaves and training checkpoints are kept in "
                f"{options.out / '.work'} and the build resumes from them"
            ) from exc
        raise


def _build(options: BuildOptions) -> tuple[Path, dict[str, Any]]:
    repo = options.repo.resolve()
    commit = resolve_commit(repo, options.commit)
    leaves = leaves_at(repo, commit)
    previous = load_previous(options.previous) if options.previous else None
    check_history(repo, previous)
    work = options.out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    config = options.training()
    config.check()  # before hours of work, not after them
    base_gguf = options.base_model or Path(_default_gguf())
    if not base_gguf.is_file():
        raise BuildError(f"the base model {base_gguf} is not a file: pass --base-model a GGUF")
    start = previous.model if previous else convert_base(base_gguf, work / "base")
    start_gguf = partial(start_as_gguf, options, previous, start, work)
    tree = materialize(repo, commit, work / "tree" / commit)
    data = generate_data(options, tree, leaves, work)
    own = self_replay_data(options, start_gguf, work)
    if options.replay_distill and own.samples:
        own = own.distill()  # learned as the start model's distributions, read from its HF form
        config = replace(config, distill_from=str(start))
    mixing = mix_phases(options, data, previous, own)
    phases = train_phases(options, config, mixing, start, work)
    version = options.version or next_version(options.out)
    staging, final = options.out / f".staging-{version}", options.out / version
    if final.exists():
        raise BuildError(f"{final} exists already: pass another --version or remove it")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    export = export_build(phases.final_dir, staging, options.quant)
    write_data(staging, data)
    evaluation = evaluate(options, previous, start_gguf, staging / export.gguf_file, data, tree)
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "version": version,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "taxonomy_commit": commit,
        "previous": previous.to_manifest() if previous else None,
        "base": base_record(previous, base_gguf),
        "teacher": data.teacher,
        "seed": options.seed,
        "data": data.to_manifest(),
        "mixing": mixing.to_manifest(),
        "training": phases.to_manifest(),
        "export": export.to_manifest(),
        "evaluation": evaluation.to_manifest(),
        "publishable": evaluation.publishable,
        "tools": tool_versions(),
    }
    manifest["contributions"] = contributions = credit(repo, previous, commit)
    plots(staging, phases, evaluation)
    card = model_card(manifest, contributions, evaluation.markdown)
    write_atomic(staging / "README.md", card)
    write_json(staging / "manifest.json", manifest)
    _fsync_tree(staging)
    os.replace(staging, final)
    return final, manifest


# ---- inputs ------------------------------------------------------------------------------
def convert_base(gguf: Path, cache: Path) -> Path:
    """The base GGUF as a trainable HF folder, converted once per file content."""
    from taxonbot.modelbuild.export import load_gguf_for_training, save_hf

    target = cache / file_sha256(gguf)[:16]
    if (target / "config.json").is_file():
        return target
    model, tokenizer = load_gguf_for_training(gguf)
    save_hf(model, tokenizer, target)
    return target


def _default_gguf() -> str:
    from taxonbot.runtime.gguf import default_model_path

    return default_model_path()


def start_as_gguf(
    options: BuildOptions, previous: Previous | None, start: Path, work: Path
) -> Path:
    """The start model as the GGUF that self-replay asks and the evaluation compares with: the
    previous build's, or the base model through our export (converted once, when first asked).

    Compared with its original file (SmolLM2 ships as Q4_1), a build re-quantized to Q4_K_M
    loses ~0.03 on the regression set from quantization alone; the branch evaluation must see
    what training changed, so both sides go through the same export."""
    if previous is not None:
        return previous.gguf
    from taxonbot.modelbuild.export import ExportError, to_gguf

    target = work / "base-gguf" / f"{start.name}.{options.quant}.gguf"
    if not target.is_file():
        try:
            to_gguf(start, target, quant=options.quant)
        except ExportError as exc:
            raise BuildError(f"export of the base model for the evaluation failed: {exc}") from exc
    return target


# ---- data --------------------------------------------------------------------------------
def generate_data(
    options: BuildOptions, tree: Path, leaves: dict[str, str], work: Path
) -> GeneratedData:
    from taxonbot.sdg.codehash import generation_code_hash
    from taxonbot.sdg.leafjob import DocumentSource
    from taxonbot.sdg.session import knowledge_pipeline

    try:
        # A catalogue name that is not fetched is refused, never replaced by another model.
        spec, choice = resolve(options.teacher, fallback=False)
        teacher = open_model(spec)
    except BackendError as exc:
        raise BuildError(f"the teacher model cannot be opened: {exc}") from exc
    docs = DocumentSource(options.docs_cache.resolve(), options.docs_mirror)
    chosen = knowledge_pipeline(options.gen.knowledge_pipeline, options.teacher)
    gen = replace(options.gen, knowledge_pipeline=chosen)
    try:
        found = generate_leaves(
            tree, leaves, teacher, work / "sdg-cache", docs, gen, judge_auc=choice.judges
        )
        described = teacher.describe()
    finally:
        teacher.close()
    return GeneratedData(tuple(found), described, gen, generation_code_hash())


def self_replay_data(
    options: BuildOptions, start_gguf: Callable[[], Path], work: Path
) -> SelfReplayData:
    """The start model's own answers to the general prompts (selfreplay.py), from the GGUF the
    branch evaluation also asks."""
    from taxonbot.modelbuild.regression import RegressionSetError
    from taxonbot.modelbuild.selfreplay import SELF_REPLAY_FILE, load_prompts, self_replay

    if options.replay_self == 0:
        return SelfReplayData((), {"skipped": "--replay-self 0"})
    try:
        prompts = load_prompts(options.self_replay_prompts or SELF_REPLAY_FILE)
    except RegressionSetError as exc:
        raise BuildError(str(exc)) from exc
    gguf = start_gguf()
    try:
        model = open_model(options.local_model(gguf))
    except BackendError as exc:
        raise BuildError(f"the start model {gguf} cannot be opened: {exc}") from exc
    try:
        digest = file_sha256(gguf)
        samples, record = self_replay(model, digest, prompts, work / "self-replay", options.seed)
    finally:
        model.close()
    return SelfReplayData(tuple(samples), record)


# ---- outputs -----------------------------------------------------------------------------
def write_data(staging: Path, data: GeneratedData) -> None:
    """This build's samples: the next build's replay buffer."""
    with atomic_open(staging / "data" / "train.jsonl") as handle:
        for leaf in data.leaves:
            handle.writelines(dump_line(sample) for sample in leaf.samples)


def export_build(final_dir: Path, staging: Path, quant: str) -> ExportRecord:
    from taxonbot.modelbuild.export import ExportError, to_gguf

    model = staging / "model"
    shutil.copytree(final_dir, model, ignore=shutil.ignore_patterns("*.json.tmp", "result.json"))
    files = tuple(
        {
            "name": p.relative_to(model).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": file_sha256(p),
        }
        for p in sorted(model.rglob("*"))
        if p.is_file()
    )
    try:
        gguf = to_gguf(model, staging / GGUF_NAME.format(quant=quant), quant=quant)
    except ExportError as exc:
        raise BuildError(f"export to GGUF failed: {exc}") from exc
    described = gguf.as_manifest()
    described.setdefault("file", GGUF_NAME.format(quant=quant))
    described.setdefault("quant", quant)
    described["sha256"] = file_sha256(staging / described["file"])
    return ExportRecord(files, described)


def evaluate(
    options: BuildOptions,
    previous: Previous | None,
    start_gguf: Callable[[], Path],
    new_gguf: Path,
    data: GeneratedData,
    tree: Path,
) -> Evaluation:
    """The new leaves and the regression set asked of the start model and of this build."""
    if not options.evaluate:
        return Evaluation()
    from taxonbot.gaps.embed import Embedder
    from taxonbot.modelbuild.evaluate import branch_eval, eval_markdown
    from taxonbot.modelbuild.regression import load_regression
    from taxonbot.sdg.leafjob import leaf_job

    known = (
        {(x["path"], x["blob"]) for x in previous.manifest["data"]["leaves"]} if previous else set()
    )
    merged = [d for d in data.leaves if d.status != "failed" and (d.path, d.blob) not in known]
    jobs = [leaf_job(str(tree / d.path), None) for d in merged]
    regression = load_regression()
    before = open_model(options.local_model(start_gguf()))
    after = open_model(options.local_model(new_gguf))
    extra: dict[str, Any] = {}
    if options.threshold is not None:
        extra["threshold"] = options.threshold
    if options.min_gain is not None:
        extra["min_gain"] = options.min_gain
    baseline = "previous_build" if previous else "base_model"
    try:
        report = branch_eval(
            before, after, jobs, regression.items, Embedder(), baseline=baseline, **extra
        )
    finally:
        before.close()
        after.close()
    regression_set = {"version": regression.version, "sha256": regression.sha256}
    return Evaluation(report, regression_set, eval_markdown(report))


def plots(staging: Path, phases: TrainedPhases, evaluation: Evaluation) -> None:
    from taxonbot.modelbuild.plots import loss_plot, scores_plot

    folder = staging / "plots"
    folder.mkdir()
    loss_plot(phases.losses, folder / "loss.png")
    if evaluation.report is not None:
        scores_plot(evaluation.report, folder / "scores.png")


def next_version(out: Path) -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y.%m.%d")
    taken = {p.name for p in out.iterdir()} if out.is_dir() else set()
    number = 1
    while f"{today}-{number}" in taken:
        number += 1
    return f"{today}-{number}"


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
