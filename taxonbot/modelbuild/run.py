"""`taxonbot build`: from a taxonomy commit and a previous build (or a base model) to a
versioned community build.

  taxonomy at the commit ─► incremental SDG (taxonbot/modelbuild/sdgdata.py) ─► mixing
  (taxonbot/train/mixing.py)
  ─► phase 1: knowledge ─► phase 2: skills + replay (taxonbot/train/loop.py, accelerate)
  ─► export: HF safetensors + GGUF Q4_K_M (taxonbot/modelbuild/export.py)
  ─► branch evaluation vs the previous build (taxonbot/modelbuild/evaluate.py) ─► the build record

Everything long-lived sits in the work folder (`OUT/.work`): the SDG cache (shared by builds),
the base model converted for training, each phase's checkpoints. A killed build run again with
the same inputs resumes: finished leaves come from the cache, training from its last
checkpoint. The build itself is assembled in `OUT/.staging-VERSION` and renamed to
`OUT/VERSION` only when complete, so no half-written build is ever there to publish.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from taxonbot.modelbuild.record import MANIFEST_FORMAT, model_card, tool_versions, write_json
from taxonbot.modelbuild.sdgdata import (
    GenerationSettings,
    LeafData,
    generate_leaves,
    leaves_at,
    materialize,
    resolve_commit,
)
from taxonbot.runtime import BackendError, ModelBackend

PREVIOUS_FILES = ("manifest.json", "model", "data/train.jsonl")
GGUF_NAME = "model.{quant}.gguf"


class BuildError(Exception):
    """The build cannot go on; the message names what and what to do."""


@dataclass
class BuildOptions:
    repo: Path
    commit: str = "HEAD"
    out: Path = Path("builds")
    previous: Path | None = None
    base_model: Path | None = None  # a GGUF; default: the bundled SmolLM2
    teacher: str = "llama.cpp"  # taxonbot.runtime.open_backend spec
    teacher_model: str | None = None
    concurrency: int = 4
    threads: int = 2
    gen: GenerationSettings = field(default_factory=GenerationSettings)
    train: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields
    replay_knowledge: float = 0.3
    replay_previous: float = 0.2
    replay_self: float = 0.5  # the start model's own answers, per sample of each phase
    replay_distill: bool = True  # learn them as the start model's distributions (KL), not SFT
    self_replay_prompts: Path | None = None  # default: taxonbot/modelbuild/self_replay.yaml
    quant: str = "Q4_K_M"
    threshold: float | None = None
    min_gain: float | None = None
    evaluate: bool = True
    launcher: str | None = None  # e.g. "accelerate launch --num_processes 8 --use_fsdp"
    version: str | None = None
    docs_cache: Path = Path(".cache/documents")
    docs_mirror: Path | None = None
    seed: int = 0


@dataclass
class Previous:
    folder: Path
    manifest: dict[str, Any]
    gguf: Path
    model: Path
    samples: list[dict[str, Any]]


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
    from taxonbot.train.config import TrainConfig

    repo = options.repo.resolve()
    commit = resolve_commit(repo, options.commit)
    leaves = leaves_at(repo, commit)
    previous = load_previous(options.previous) if options.previous else None
    check_history(
        repo, previous
    )  # before hours of work, not after them (taxonbot/modelbuild/history.py)
    work = options.out / ".work"
    work.mkdir(parents=True, exist_ok=True)
    config = TrainConfig(**{"seed": options.seed, **options.train})
    config.check()
    base_gguf = options.base_model or Path(_default_gguf())
    if not base_gguf.is_file():
        raise BuildError(f"the base model {base_gguf} is not a file: pass --base-model a GGUF")
    base_dir = previous.model if previous else convert_base(base_gguf, work / "base")
    tree = materialize(repo, commit, work / "tree" / commit)
    data = generate_data(options, tree, leaves, work)
    own = self_replay_data(options, previous, base_dir, work)
    if options.replay_distill and own["samples"]:
        # The start model, in the HF form training reads, is the distribution to keep.
        config = replace(config, distill_from=str(base_dir))
        own["samples"] = [{**sample, "distill": True} for sample in own["samples"]]
    phases, mixing = train_phases(options, config, data, previous, own, base_dir, work)
    version = options.version or next_version(options.out)
    staging = options.out / f".staging-{version}"
    final = options.out / version
    if final.exists():
        raise BuildError(f"{final} exists already: pass another --version or remove it")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    export = export_build(phases["final_dir"], staging, options.quant)
    write_data(staging, data)
    evaluation = evaluate(
        options, previous, (base_dir, work), staging / export["gguf"]["file"], data, tree
    )
    manifest = {
        "format": MANIFEST_FORMAT,
        "version": version,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "taxonomy_commit": commit,
        "previous": _previous_record(previous),
        "base": _base_record(previous, base_gguf),
        "teacher": data["teacher"],
        "seed": options.seed,
        "data": data["record"],
        "mixing": mixing,
        "training": phases["record"],
        "export": export,
        "evaluation": evaluation,
        "publishable": bool(evaluation.get("publishable")),
        "tools": tool_versions(),
    }
    contributions = credit(repo, previous, commit)
    manifest["contributions"] = contributions
    plots(staging, phases, evaluation)
    (staging / "README.md").write_text(
        model_card(manifest, contributions, evaluation.pop("markdown", "")), encoding="utf-8"
    )
    write_json(staging / "manifest.json", manifest)
    _fsync_tree(staging)
    os.replace(staging, final)
    return final, manifest


# ---- inputs ------------------------------------------------------------------------------
def load_previous(folder: Path) -> Previous:
    """A complete previous build, checked against its own manifest; else a clear error."""
    hint = "point --previous at a complete build folder, or leave it out to start from --base-model"
    if not folder.is_dir():
        raise BuildError(f"the previous build {folder} does not exist: {hint}")
    missing = [name for name in PREVIOUS_FILES if not (folder / name).exists()]
    if missing:
        raise BuildError(f"the previous build {folder} lacks {', '.join(missing)}: {hint}")
    try:
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        gguf_name = manifest["export"]["gguf"]["file"]
        expected = manifest["export"]["gguf"]["sha256"]
        commit = manifest["taxonomy_commit"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(
            f"{folder}/manifest.json is unreadable or incomplete ({exc}): {hint}"
        ) from exc
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(commit, str):
        raise BuildError(f"{folder}/manifest.json is not a taxonbot build manifest: {hint}")
    gguf = folder / str(gguf_name)
    if not gguf.is_file() or file_sha256(gguf) != expected:
        raise BuildError(f"{gguf} is missing or does not match its manifest (corrupt): {hint}")
    for entry in manifest["export"].get("hf", {}).get("files", []):
        path = folder / "model" / entry["name"]
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            raise BuildError(f"{path} is missing or truncated (corrupt): {hint}")
    from taxonbot.train.data import read_samples

    try:
        samples = read_samples(folder / "data" / "train.jsonl")
    except Exception as exc:  # its own message names the file and line
        raise BuildError(f"{exc}: {hint}") from exc
    return Previous(folder, manifest, gguf, folder / "model", samples)


def check_history(repo: Path, previous: Previous | None) -> None:
    """The contributions `credit` lists at the end must be listable now."""
    from taxonbot.modelbuild.history import history_problem

    commit = previous.manifest["taxonomy_commit"] if previous else None
    name = str(previous.manifest.get("version") or "") if previous else ""
    problem = history_problem(repo, commit, name)
    if problem is not None:
        raise BuildError(problem)


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


# ---- data --------------------------------------------------------------------------------
def generate_data(
    options: BuildOptions, tree: Path, leaves: dict[str, str], work: Path
) -> dict[str, Any]:
    from taxonbot.runtime import open_backend
    from taxonbot.sdg.codehash import generation_code_hash
    from taxonbot.sdg.leafjob import DocumentSource
    from taxonbot.sdg.session import knowledge_pipeline

    kw: dict[str, Any]
    if options.teacher.startswith(("http://", "https://")):
        kw = {"model": options.teacher_model, "concurrency": options.concurrency}
    else:
        kw = {"n_threads": options.threads, "seed": options.gen.seed}
    try:
        teacher: ModelBackend = open_backend(options.teacher, **kw)
    except BackendError as exc:
        raise BuildError(f"the teacher model cannot be opened: {exc}") from exc
    docs = DocumentSource(options.docs_cache.resolve(), options.docs_mirror)
    chosen = knowledge_pipeline(options.gen.knowledge_pipeline, options.teacher)
    gen = replace(options.gen, knowledge_pipeline=chosen)
    try:
        found = generate_leaves(tree, leaves, teacher, work / "sdg-cache", docs, gen)
        described = teacher.describe()
    finally:
        teacher.close()
    counts = {s: sum(1 for d in found if d.status == s) for s in ("cached", "generated", "failed")}
    record = {
        "leaves": [d.record() for d in found],
        **counts,
        "kept": sum(len(d.samples) for d in found),
        "settings": {**asdict(gen), "pipelines": _pipelines_name(gen)},
        "generation_code_sha256": generation_code_hash(),
    }
    return {"leaves": found, "record": record, "teacher": described}


def self_replay_data(
    options: BuildOptions, previous: Previous | None, base_dir: Path, work: Path
) -> dict[str, Any]:
    """The start model's own answers to the general prompts (taxonbot/modelbuild/selfreplay.py),
    from the
    GGUF the branch evaluation also asks: the previous build's, or the base through our export."""
    from taxonbot.modelbuild.regression import RegressionSetError
    from taxonbot.modelbuild.selfreplay import SELF_REPLAY_FILE, load_prompts, self_replay
    from taxonbot.runtime import open_backend

    if options.replay_self == 0:
        return {"samples": [], "record": {"skipped": "--replay-self 0"}}
    try:
        prompts = load_prompts(options.self_replay_prompts or SELF_REPLAY_FILE)
    except RegressionSetError as exc:
        raise BuildError(str(exc)) from exc
    start_gguf = previous.gguf if previous else base_as_exported(base_dir, work, options.quant)
    try:
        model = open_backend(str(start_gguf), n_threads=options.threads, seed=options.seed)
    except BackendError as exc:
        raise BuildError(f"the start model {start_gguf} cannot be opened: {exc}") from exc
    try:
        digest = file_sha256(start_gguf)
        samples, record = self_replay(model, digest, prompts, work / "self-replay", options.seed)
    finally:
        model.close()
    return {"samples": samples, "record": record}


def train_phases(
    options: BuildOptions,
    config: Any,
    data: dict[str, Any],
    previous: Previous | None,
    own: dict[str, Any],
    base_dir: Path,
    work: Path,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from taxonbot.train.loop import train_phase
    from taxonbot.train.mixing import mix

    found: list[LeafData] = data["leaves"]
    knowledge = [s for d in found if d.phase_kind == "knowledge" for s in d.samples]
    skills = [s for d in found if d.phase_kind == "skills" for s in d.samples]
    phase1, phase2, mixing = mix(
        knowledge,
        skills,
        previous.samples if previous else [],
        replay_knowledge=options.replay_knowledge,
        replay_previous=options.replay_previous,
        seed=options.seed,
        self_replay=own["samples"],
        replay_self=options.replay_self,
    )
    mixing["ratios"] = {
        "replay_knowledge": options.replay_knowledge,
        "replay_previous": options.replay_previous,
        "replay_self": options.replay_self,
    }
    mixing["self_replay"] = own["record"]
    if own["samples"]:
        mixing["self_replay"]["learned_as"] = (
            "KL toward the start model's next-token distributions"
            if options.replay_distill
            else "cross-entropy on the answers' tokens"
        )
    mixing["phase1"]["samples"] = len(phase1)
    mixing["phase2"]["samples"] = len(phase2)
    settings = config.fingerprinted()
    if config.distill_from:  # a folder of this machine's work dir: the record says what it is
        settings["distill_from"] = "start model"
    start, record, losses = base_dir, {"config": settings}, {}
    for name, samples in (("phase1", phase1), ("phase2", phase2)):
        if not samples:
            record[name] = {"skipped": "no samples"}
            continue
        out = work / "train" / name
        if options.launcher:
            result = launch_phase(options.launcher, start, samples, config, out)
        else:
            result = train_phase(start, samples, config, out, resume=True)
        record[name] = {k: v for k, v in result.to_dict().items() if k not in ("losses",)}
        record[name]["losses"] = [round(x, 5) for x in result.losses]
        losses[name] = result.losses
        start = Path(result.final_dir)
    if start == base_dir:
        raise BuildError("no leaf produced training data: nothing to train (see the leaves)")
    return {"final_dir": start, "record": record, "losses": losses}, mixing


def launch_phase(launcher: str, start: Path, samples: list[Any], config: Any, out: Path) -> Any:
    """The phase in the launcher's processes (python -m taxonbot.train.phase); its TrainResult."""
    import dataclasses
    import shlex
    import subprocess
    import sys

    from taxonbot.train.config import TrainResult

    out.mkdir(parents=True, exist_ok=True)
    data, settings = out / "phase-data.jsonl", out / "phase-config.json"
    with open(data, "w", encoding="utf-8") as handle:
        for sample in samples:
            handle.write(json.dumps(sample, ensure_ascii=False) + "\n")
    write_json(settings, dataclasses.asdict(config))
    command = shlex.split(launcher)
    if command and command[0] in ("python", "python3"):
        command[0] = sys.executable
    command += ["-m", "taxonbot.train.phase", "--model", str(start), "--data", str(data)]
    command += ["--config", str(settings), "--out", str(out), "--resume"]
    try:
        done = subprocess.run(command, check=False)
    except OSError as exc:
        raise BuildError(f"cannot start the launcher {command[0]!r}: {exc}") from exc
    result_file = out / "final" / "train_result.json"
    if done.returncode != 0 or not result_file.is_file():
        raise BuildError(
            f"training through {launcher!r} failed (exit {done.returncode}); its output is "
            "above; run the build again to resume from the last checkpoint"
        )
    result = TrainResult.read(result_file)
    result.final_dir = str(out / "final")
    return result


def write_data(staging: Path, data: dict[str, Any]) -> None:
    """This build's samples: the next build's replay buffer."""
    folder = staging / "data"
    folder.mkdir()
    with open(folder / "train.jsonl", "w", encoding="utf-8") as handle:
        for leaf in data["leaves"]:
            for sample in leaf.samples:
                handle.write(json.dumps(sample, ensure_ascii=False) + "\n")


# ---- outputs -----------------------------------------------------------------------------
def export_build(final_dir: Path, staging: Path, quant: str) -> dict[str, Any]:
    from taxonbot.modelbuild.export import ExportError, to_gguf

    model = staging / "model"
    shutil.copytree(final_dir, model, ignore=shutil.ignore_patterns("*.json.tmp", "result.json"))
    files = [
        {
            "name": p.relative_to(model).as_posix(),
            "bytes": p.stat().st_size,
            "sha256": file_sha256(p),
        }
        for p in sorted(model.rglob("*"))
        if p.is_file()
    ]
    try:
        gguf = to_gguf(model, staging / GGUF_NAME.format(quant=quant), quant=quant)
    except ExportError as exc:
        raise BuildError(f"export to GGUF failed: {exc}") from exc
    described = gguf.as_manifest()
    described.setdefault("file", GGUF_NAME.format(quant=quant))
    described.setdefault("quant", quant)
    described["sha256"] = file_sha256(staging / described["file"])
    return {"hf": {"folder": "model", "files": files}, "gguf": described}


def base_as_exported(base_dir: Path, work: Path, quant: str) -> Path:
    """The base model through the same export as a build (HF → GGUF `quant`), converted once.

    Compared with its original file (SmolLM2 ships as Q4_1), a build re-quantized to Q4_K_M
    loses ~0.03 on the regression set from quantization alone; the branch evaluation must see
    what training changed, so both sides go through the same export."""
    from taxonbot.modelbuild.export import ExportError, to_gguf

    target = work / "base-gguf" / f"{base_dir.name}.{quant}.gguf"
    if not target.is_file():
        try:
            to_gguf(base_dir, target, quant=quant)
        except ExportError as exc:
            raise BuildError(f"export of the base model for the evaluation failed: {exc}") from exc
    return target


def evaluate(
    options: BuildOptions,
    previous: Previous | None,
    base: tuple[Path, Path],  # (the base model's HF folder, the work folder)
    new_gguf: Path,
    data: dict[str, Any],
    tree: Path,
) -> dict[str, Any]:
    if not options.evaluate:
        return {"publishable": False, "summary": "not evaluated (--no-eval)", "markdown": ""}
    from taxonbot.gaps.embed import Embedder
    from taxonbot.modelbuild.evaluate import branch_eval, eval_markdown
    from taxonbot.modelbuild.regression import load_regression
    from taxonbot.runtime import open_backend
    from taxonbot.sdg.leafjob import leaf_job

    known = (
        {(x["path"], x["blob"]) for x in previous.manifest["data"]["leaves"]} if previous else set()
    )
    merged = [d for d in data["leaves"] if d.status != "failed" and (d.path, d.blob) not in known]
    jobs = [leaf_job(str(tree / d.path), None) for d in merged]
    regression = load_regression()
    before_gguf = previous.gguf if previous else base_as_exported(*base, options.quant)
    kw: dict[str, Any] = {"n_threads": options.threads, "seed": options.seed}
    before = open_backend(str(before_gguf), **kw)
    after = open_backend(str(new_gguf), **kw)
    extra: dict[str, Any] = {}
    if options.threshold is not None:
        extra["threshold"] = options.threshold
    if options.min_gain is not None:
        extra["min_gain"] = options.min_gain
    try:
        report = branch_eval(
            before,
            after,
            jobs,
            regression.items,
            Embedder(),
            baseline="previous_build" if previous else "base_model",
            **extra,
        )
    finally:
        before.close()
        after.close()
    body = report.to_json()
    body["regression_set"] = {"version": regression.version, "sha256": regression.sha256}
    body["markdown"] = eval_markdown(report)
    body["_report"] = report
    return body


def plots(staging: Path, phases: dict[str, Any], evaluation: dict[str, Any]) -> None:
    from taxonbot.modelbuild.plots import loss_plot, scores_plot

    folder = staging / "plots"
    folder.mkdir()
    loss_plot(phases["losses"], folder / "loss.png")
    report = evaluation.pop("_report", None)
    if report is not None:
        scores_plot(report, folder / "scores.png")


def credit(repo: Path, previous: Previous | None, commit: str) -> list[dict[str, Any]]:
    from taxonbot.taxonomy.contributions import ContributionError, contributions_between

    base = previous.manifest["taxonomy_commit"] if previous else None
    try:
        found = contributions_between(str(repo), base, commit)
    except ContributionError as exc:
        raise BuildError(f"could not list the contributions to credit: {exc}") from exc
    return [c.to_json() for c in found if c.changes_taxonomy]


def _pipelines_name(gen: GenerationSettings) -> str:
    return "taxonbot/sdg/pipelines" if gen.pipelines is None else f"custom: {gen.pipelines.name}"


def next_version(out: Path) -> str:
    today = dt.datetime.now(dt.UTC).strftime("%Y.%m.%d")
    taken = {p.name for p in out.iterdir()} if out.is_dir() else set()
    number = 1
    while f"{today}-{number}" in taken:
        number += 1
    return f"{today}-{number}"


def _previous_record(previous: Previous | None) -> dict[str, Any] | None:
    if previous is None:
        return None
    return {
        "version": previous.manifest.get("version"),
        "taxonomy_commit": previous.manifest["taxonomy_commit"],
        "gguf_sha256": previous.manifest["export"]["gguf"]["sha256"],
    }


def _base_record(previous: Previous | None, base_gguf: Path) -> dict[str, Any]:
    if previous is not None:
        return dict(previous.manifest["base"])
    return {"name": base_gguf.name, "gguf": base_gguf.name, "sha256": file_sha256(base_gguf)}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
