"""What each stage of a build hands the next, as values; `to_manifest()` is each one's part of
manifest.json (its JSON is the build record's format: change it only with MANIFEST_FORMAT).

  generate_data ─► GeneratedData      self_replay_data ─► SelfReplayData      (run.py)
  mix_phases    ─► Mixing             train_phases     ─► TrainedPhases       (training.py)
  export_build  ─► ExportRecord       evaluate         ─► Evaluation          (run.py)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxonbot.modelbuild.sdgdata import LeafData
from taxonbot.sdg.generate import GenerationSettings
from taxonbot.train.config import TrainResult

if TYPE_CHECKING:
    from taxonbot.modelbuild.evaluate import EvalReport

Sample = Mapping[str, Any]
STATUSES = ("cached", "generated", "failed")
NOT_EVALUATED = "not evaluated (--no-eval)"


@dataclass(frozen=True)
class GeneratedData:
    """Every leaf's data at the build's commit (from the cache or generated now)."""

    leaves: tuple[LeafData, ...]
    teacher: dict[str, str]  # the teacher's describe()
    settings: GenerationSettings  # as used: the knowledge pipeline chosen
    code_sha256: str  # the generation code's hash (taxonbot/sdg/codehash.py)

    def samples(self, phase_kind: str) -> list[Sample]:
        return [s for d in self.leaves if d.phase_kind == phase_kind for s in d.samples]

    def to_manifest(self) -> dict[str, Any]:
        counts = {s: sum(1 for d in self.leaves if d.status == s) for s in STATUSES}
        return {
            "leaves": [d.record() for d in self.leaves],
            **counts,
            "kept": sum(len(d.samples) for d in self.leaves),
            "settings": {**asdict(self.settings), "pipelines": pipelines_name(self.settings)},
            "generation_code_sha256": self.code_sha256,
        }


def pipelines_name(gen: GenerationSettings) -> str:
    return "taxonbot/sdg/pipelines" if gen.pipelines is None else f"custom: {gen.pipelines.name}"


@dataclass(frozen=True)
class SelfReplayData:
    """The start model's own answers to general prompts (selfreplay.py), to replay."""

    samples: tuple[Sample, ...]
    record: dict[str, Any]  # self_replay's record, or why there is none
    distilled: bool = False  # learned as the start model's distributions (KL), not its tokens

    def distill(self) -> SelfReplayData:
        """The same answers, marked to be learned as the start model's distributions."""
        marked = tuple({**sample, "distill": True} for sample in self.samples)
        return SelfReplayData(marked, self.record, distilled=True)

    def to_manifest(self) -> dict[str, Any]:
        if not self.samples:
            return dict(self.record)
        learned = (
            "KL toward the start model's next-token distributions"
            if self.distilled
            else "cross-entropy on the answers' tokens"
        )
        return {**self.record, "learned_as": learned}


@dataclass(frozen=True)
class Mixing:
    """Each phase's samples, and how they were drawn (train/mixing.py's record)."""

    phase1: tuple[Sample, ...]
    phase2: tuple[Sample, ...]
    record: dict[str, Any]  # as `mix` reports it
    ratios: dict[str, float]  # the replay shares asked for
    self_replay: SelfReplayData

    def to_manifest(self) -> dict[str, Any]:
        body = {**self.record, "ratios": dict(self.ratios)}
        body["self_replay"] = self.self_replay.to_manifest()
        body["phase1"] = {**self.record["phase1"], "samples": len(self.phase1)}
        body["phase2"] = {**self.record["phase2"], "samples": len(self.phase2)}
        return body


@dataclass(frozen=True)
class TrainedPhases:
    """The trained model, and each phase's result (None: the phase had no samples)."""

    final_dir: Path
    settings: dict[str, Any]  # the training settings as recorded
    results: dict[str, TrainResult | None]  # "phase1", "phase2"

    @property
    def losses(self) -> dict[str, list[float]]:
        return {name: r.losses for name, r in self.results.items() if r is not None}

    def to_manifest(self) -> dict[str, Any]:
        body: dict[str, Any] = {"config": self.settings}
        for name, result in self.results.items():
            if result is None:
                body[name] = {"skipped": "no samples"}
                continue
            body[name] = {k: v for k, v in result.to_dict().items() if k != "losses"}
            body[name]["losses"] = [round(x, 5) for x in result.losses]
        return body


@dataclass(frozen=True)
class ExportRecord:
    """The build's model as files: the HF folder (each file's size and hash) and the GGUF."""

    files: tuple[dict[str, Any], ...]  # name, bytes, sha256 of each file under model/
    gguf: dict[str, Any]  # the GGUF export's description, with its file name and sha256

    @property
    def gguf_file(self) -> str:
        return str(self.gguf["file"])

    def to_manifest(self) -> dict[str, Any]:
        return {"hf": {"folder": "model", "files": list(self.files)}, "gguf": self.gguf}


@dataclass(frozen=True)
class Evaluation:
    """The branch evaluation (evaluate.py), or None when the build was not evaluated."""

    report: EvalReport | None = None
    regression_set: dict[str, str] | None = None  # the set's version and sha256
    markdown: str = ""  # its section of the model card

    @property
    def publishable(self) -> bool:
        return bool(self.report and self.report.publishable)

    @property
    def summary(self) -> str:
        return self.report.summary if self.report else NOT_EVALUATED

    def to_manifest(self) -> dict[str, Any]:
        if self.report is None:
            return {"publishable": False, "summary": NOT_EVALUATED}
        return {**self.report.to_json(), "regression_set": self.regression_set}
