"""`taxonbot build`: a versioned community build from a taxonomy commit
(taxonbot/modelbuild/run.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import check_folder
from taxonbot.errors import UsageError
from taxonbot.exits import Exit
from taxonbot.modelbuild.options import BuildOptions
from taxonbot.runtime.open import ModelSpec
from taxonbot.sdg.generate import GenerationSettings
from taxonbot.train.config import TrainConfig

# retrain.yml reads these: 1 is a build that is complete but may not be published.
EXITS = {
    Exit.OK: "built, and the evaluation says it may be published",
    Exit.NO: "built, but not publishable (not evaluated, or the evaluation says no)",
    Exit.CANNOT: "could not build: usage, the taxonomy, the teacher, training, export or disk",
}
TRAIN_FLAGS = (
    ("epochs", "epochs"),
    ("max_steps", "max_steps"),
    ("lr", "learning_rate"),
    ("max_len", "max_len"),
    ("grad_accum", "grad_accum"),
    ("checkpoint_every", "checkpoint_every"),
)


def fraction(text: str) -> float:
    """A replay share: refused when the command is read, not after the data is generated."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 1:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction between 0 and 1")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", default=".", help="the taxonomy repository (git)")
    parser.add_argument("--commit", default="HEAD", help="the taxonomy commit to build")
    parser.add_argument("--out", default="builds", help="where builds (and .work) go")
    parser.add_argument("--previous", help="the previous build's folder (its data is replayed)")
    parser.add_argument("--base-model", help="a GGUF to start from (default: bundled SmolLM2)")
    parser.add_argument("--teacher", default="llama.cpp", help="SDG model: llama.cpp, .gguf, URL")
    parser.add_argument("--teacher-model", help="model name for an HTTP teacher")
    parser.add_argument("--concurrency", type=int, default=4, help="HTTP requests in flight")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp CPU threads")
    parser.add_argument("--pairs", type=int, default=50, help="candidate pairs per leaf")
    parser.add_argument("--max-new-tokens", type=int, default=256, help="cap per generation")
    parser.add_argument("--seed", type=int, default=0, help="SDG, mixing and training seed")
    parser.add_argument("--pipelines", help="a folder of SDG pipeline YAMLs (default: ours)")
    parser.add_argument(
        "--knowledge-pipeline",
        default="auto",
        help="knowledge (LAB: the teacher writes and judges pairs), knowledge_extractive "
        "(answers are the document's sentences; for small teachers), or auto (default: LAB for "
        "an http(s) teacher, extractive for a local GGUF)",
    )
    parser.add_argument("--train-config", help="JSON file of training settings (TrainConfig)")
    parser.add_argument("--epochs", type=float, help="passes over each phase's data")
    parser.add_argument("--max-steps", type=int, help="optimizer steps per phase")
    parser.add_argument("--lr", type=float, help="peak learning rate")
    parser.add_argument("--max-len", type=int, help="tokens per packed row")
    parser.add_argument("--grad-accum", type=int, help="micro-batches per optimizer step")
    parser.add_argument("--checkpoint-every", type=int, help="optimizer steps between saves")
    parser.add_argument("--replay-knowledge", type=fraction, default=0.3, help="share replayed")
    parser.add_argument("--replay-previous", type=fraction, default=0.2, help="share replayed")
    parser.add_argument(
        "--replay-self",
        type=fraction,
        default=0.5,
        help="the start model's own answers to general prompts, mixed into each phase, per "
        "sample of the phase (default 0.5; 0: off; see benchmarks/README.md)",
    )
    parser.add_argument(
        "--replay-distill",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="learn the self-replay as the start model's whole next-token distributions (a KL "
        "loss toward it; the default) or, with --no-replay-distill, as its answers' tokens",
    )
    parser.add_argument(
        "--self-replay-prompts", help="YAML list of general prompts (default: ours)"
    )
    parser.add_argument("--quant", default="Q4_K_M", help="GGUF quantization")
    parser.add_argument("--threshold", type=float, help="largest regression-set fall allowed")
    parser.add_argument("--min-gain", type=float, help="smallest per-leaf gain that counts")
    parser.add_argument("--no-eval", action="store_true", help="skip the branch evaluation")
    parser.add_argument(
        "--launcher",
        help='run each training phase through a launcher, e.g. "torchrun --nproc_per_node 8" '
        'or "accelerate launch --num_processes 8 --use_fsdp" (default: in-process)',
    )
    parser.add_argument(
        "--fsdp",
        action="store_true",
        help="shard weights, gradients and optimizer state across the launcher's processes "
        "(torch FSDP2; GPUs and CPUs alike); needs --launcher",
    )
    parser.add_argument("--version", help="the build's name (default: date-N)")
    parser.add_argument("--docs-cache", default=".cache/documents", help=argparse.SUPPRESS)
    parser.add_argument("--docs-mirror", help=argparse.SUPPRESS)  # offline demos and tests


def run(args: argparse.Namespace) -> int:
    from taxonbot.modelbuild.run import build

    chosen = options(args)
    check_folder(chosen.out)  # a file in the way is said before hours of work
    folder, manifest = build(chosen)
    failed = [leaf["leaf"] for leaf in manifest["data"]["leaves"] if leaf["status"] == "failed"]
    print(f"taxonbot build: {folder} ({manifest['evaluation'].get('summary', '')})")
    if failed:
        print(f"taxonbot build: leaves excluded (see manifest.json): {', '.join(failed)}")
    return Exit.OK if manifest["publishable"] else Exit.NO


def options(args: argparse.Namespace) -> BuildOptions:
    """The command line as a `BuildOptions`; UsageError or TrainError (a sentence) before any
    work when it cannot be one."""

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    teacher = ModelSpec(args.teacher, args.teacher_model, args.concurrency, args.threads, args.seed)
    gen = GenerationSettings(
        args.pairs,
        args.seed,
        args.max_new_tokens,
        pipelines=path(args.pipelines),
        knowledge_pipeline=args.knowledge_pipeline,
    )
    return BuildOptions(
        repo=Path(args.repo),
        commit=args.commit,
        out=Path(args.out),
        previous=path(args.previous),
        base_model=path(args.base_model),
        teacher=teacher,
        threads=args.threads,
        gen=gen,
        train=train_config(args),
        replay_knowledge=args.replay_knowledge,
        replay_previous=args.replay_previous,
        replay_self=args.replay_self,
        replay_distill=args.replay_distill,
        self_replay_prompts=path(args.self_replay_prompts),
        quant=args.quant,
        threshold=args.threshold,
        min_gain=args.min_gain,
        evaluate=not args.no_eval,
        version=args.version,
        launcher=args.launcher,
        docs_cache=Path(args.docs_cache),
        docs_mirror=path(args.docs_mirror),
        seed=args.seed,
    )


def train_config(args: argparse.Namespace) -> TrainConfig:
    """--seed, then --train-config's settings, then the training flags, as a `TrainConfig`."""
    source = f"--train-config {args.train_config}"
    values: dict[str, Any] = {"seed": args.seed}
    if args.train_config:
        try:
            read = json.loads(Path(args.train_config).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{source}: {exc}") from exc
        TrainConfig.from_mapping(read, source)  # a sentence for an unknown or mistyped setting
        values.update(read)
    if args.fsdp:
        if not args.launcher:
            raise UsageError(
                "--fsdp shards the model across the processes a launcher starts; add "
                '--launcher "torchrun --nproc_per_node N" (N GPUs or processes)'
            )
        values["fsdp"] = True
    flags = {name: getattr(args, flag) for flag, name in TRAIN_FLAGS}
    values.update({name: value for name, value in flags.items() if value is not None})
    return TrainConfig.from_mapping(values, "the training settings")
