"""What `taxonbot build` is asked to do, as one value (cli/build.py fills it from the command
line; tests and benchmarks build it directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from taxonbot.runtime.open import ModelSpec
from taxonbot.sdg.generate import GenerationSettings
from taxonbot.train.config import TrainConfig


@dataclass(frozen=True)
class BuildOptions:
    repo: Path
    commit: str = "HEAD"
    out: Path = Path("builds")
    previous: Path | None = None
    base_model: Path | None = None  # a GGUF; default: the bundled SmolLM2
    teacher: ModelSpec = field(default_factory=ModelSpec)  # the SDG model
    threads: int = 2  # llama.cpp CPU threads for the start model and the build (self-replay, eval)
    gen: GenerationSettings = field(default_factory=GenerationSettings)
    train: TrainConfig | None = None  # None: TrainConfig's defaults, with `seed`
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
    seed: int = 0  # mixing, self-replay and evaluation (and training unless `train` says)

    def training(self) -> TrainConfig:
        return self.train if self.train is not None else TrainConfig(seed=self.seed)

    def local_model(self, gguf: Path) -> ModelSpec:
        """A GGUF this build asks itself: the start model (self-replay) or either side of the
        branch evaluation."""
        return ModelSpec(str(gguf), threads=self.threads, seed=self.seed)
