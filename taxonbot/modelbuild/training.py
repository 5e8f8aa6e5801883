"""The build's training: the leaves' data mixed into two phases (train/mixing.py), each trained
from where the one before left off (train/loop.py, or train/launch.py through a launcher)."""

from __future__ import annotations

from pathlib import Path

from taxonbot.modelbuild import BuildError
from taxonbot.modelbuild.options import BuildOptions
from taxonbot.modelbuild.previous import Previous
from taxonbot.modelbuild.stages import GeneratedData, Mixing, SelfReplayData, TrainedPhases
from taxonbot.train.config import TrainConfig, TrainResult
from taxonbot.train.launch import launch_phase


def mix_phases(
    options: BuildOptions, data: GeneratedData, previous: Previous | None, own: SelfReplayData
) -> Mixing:
    from taxonbot.train.mixing import mix

    phase1, phase2, record = mix(
        data.samples("knowledge"),
        data.samples("skills"),
        previous.samples if previous else [],
        replay_knowledge=options.replay_knowledge,
        replay_previous=options.replay_previous,
        seed=options.seed,
        self_replay=own.samples,
        replay_self=options.replay_self,
    )
    ratios = {
        "replay_knowledge": options.replay_knowledge,
        "replay_previous": options.replay_previous,
        "replay_self": options.replay_self,
    }
    return Mixing(tuple(phase1), tuple(phase2), record, ratios, own)


def train_phases(
    options: BuildOptions, config: TrainConfig, mixing: Mixing, start: Path, work: Path
) -> TrainedPhases:
    """Phase 1 (knowledge), then phase 2 (skills and replay) from phase 1's model; a phase
    without samples is skipped. Each resumes from its last checkpoint when run again."""
    from taxonbot.train.loop import train_phase

    settings = config.fingerprinted()
    if config.distill_from:  # a folder of this machine's work dir: the record says what it is
        settings["distill_from"] = "start model"
    results: dict[str, TrainResult | None] = {}
    model = start
    for name, samples in (("phase1", mixing.phase1), ("phase2", mixing.phase2)):
        if not samples:
            results[name] = None
            continue
        out = work / "train" / name
        if options.launcher:
            result = launch_phase(options.launcher, model, samples, config, out)
        else:
            result = train_phase(model, samples, config, out, resume=True)
        results[name] = result
        model = Path(result.final_dir)
    if model == start:
        raise BuildError("no leaf produced training data: nothing to train (see the leaves)")
    return TrainedPhases(model, settings, results)
