"""What a training phase is told (`TrainConfig`) and what it reports back (`TrainResult`)."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from taxonbot.jsontext import dumps
from taxonbot.taxonomy.findings import quoted
from taxonbot.train import TrainError

# Settings that change only how often state is saved, not what is computed: a run may resume
# under other values of these.
NOT_IN_FINGERPRINT = ("checkpoint_every", "keep_checkpoints")
RESULT_FILE = "train_result.json"  # a phase's TrainResult, in its final folder
# What a setting's annotation asks of a value read from JSON (Literal settings are strings; which
# strings, `problems` says).
_KINDS: dict[str, tuple[str, tuple[type, ...]]] = {
    "float": ("a number", (int, float)),
    "int": ("a whole number", (int,)),
    "bool": ("true or false", (bool,)),
    "str": ("a string", (str,)),
}


@dataclass(frozen=True)
class TrainConfig:
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.05
    epochs: float = 1.0
    max_steps: int | None = None  # overrides epochs
    max_len: int = 2048  # tokens per packed row
    micro_batch_size: int = 1  # packed rows per forward pass
    grad_accum: int = 8  # micro-batches per optimizer step (and per process)
    weight_decay: float = 0.0  # applied to matrices only, never to norms or biases
    max_grad_norm: float | None = 1.0
    seed: int = 42
    checkpoint_every: int = 0  # optimizer steps; 0 writes none
    keep_checkpoints: int = 2
    on_long: Literal["drop", "truncate"] = "drop"  # samples longer than max_len
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"  # bf16 on GPUs that have it
    attn_implementation: str | None = None  # transformers' default (sdpa) unless set
    fsdp: bool = False  # shard weights, gradients, optimizer state over the processes (FSDP2)
    # An HF model folder: samples marked "distill" learn its next-token distribution (KL)
    # instead of their written tokens. Each process holds a whole copy of it (not sharded).
    distill_from: str | None = None

    @classmethod
    def from_mapping(cls, values: Any, source: str) -> TrainConfig:
        """The settings in `values` (a JSON object; `source` names where it came from), or a
        TrainError with a sentence for an unknown setting or a value of the wrong type. Which
        values are sensible is `check`'s question."""
        if not isinstance(values, Mapping):
            raise TrainError(f"{source}: training settings must be a JSON object")
        fields = {f.name: str(f.type) for f in dataclasses.fields(cls)}
        unknown = [key for key in values if key not in fields]
        if unknown:
            raise TrainError(f"{source}: {_unknown(unknown, sorted(fields))}")
        wrong = [
            p for key, value in values.items() if (p := _type_problem(key, fields[key], value))
        ]
        if wrong:
            raise TrainError(f"{source}: " + "; ".join(wrong))
        return cls(**values)

    def problems(self) -> list[str]:
        found = []
        positive = ("max_len", "micro_batch_size", "grad_accum", "keep_checkpoints")
        found += [f"{name} must be at least 1" for name in positive if getattr(self, name) < 1]
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            found.append("learning_rate must be a positive number")
        if not 0 <= self.warmup_ratio < 1:
            found.append("warmup_ratio must be in [0, 1)")
        if self.max_steps is None and not self.epochs > 0:
            found.append("epochs must be positive (or set max_steps)")
        if self.max_steps is not None and self.max_steps < 1:
            found.append("max_steps must be at least 1")
        if self.checkpoint_every < 0:
            found.append("checkpoint_every must be 0 (none) or a number of steps")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            found.append('mixed_precision must be "no", "bf16" or "fp16"')
        if self.fsdp and self.mixed_precision == "fp16":
            found.append('fsdp runs in full precision or bf16: set mixed_precision to "bf16"')
        if self.on_long not in ("drop", "truncate"):
            found.append('on_long must be "drop" or "truncate"')
        return found

    def check(self) -> None:
        if found := self.problems():
            raise TrainError("training settings: " + "; ".join(found))

    def fingerprinted(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {k: v for k, v in values.items() if k not in NOT_IN_FINGERPRINT}


@dataclass
class TrainResult:
    steps: int
    losses: list[float] = field(default_factory=list)  # mean loss per supervised token, per step
    learning_rates: list[float] = field(default_factory=list)  # the rate each step used
    tokens_seen: int = 0  # tensor positions fed, padding included
    useful_tokens: int = 0  # real tokens (not padding)
    supervised_tokens: int = 0  # tokens the loss counts (assistant turns)
    tokens_per_s: float = 0.0  # useful tokens per second, this process, warm-up step excluded
    wall_s: float = 0.0  # this call, setup and saving included
    step_seconds: list[float] = field(default_factory=list)  # steps run by this call
    resumed_from: int | None = None
    final_dir: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # samples, drops, rows, fill
    fingerprint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def read(cls, path: Path) -> TrainResult:
        values = json.loads(path.read_text(encoding="utf-8"))
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in names})


def _unknown(keys: list[str], names: list[str]) -> str:
    said = []
    for key in keys:
        close = difflib.get_close_matches(str(key), names, n=1)
        text = dumps(str(key))[1:-1]  # escaped as in JSON, without its quotes
        said.append(quoted(text) + (f" (did you mean {quoted(close[0])}?)" if close else ""))
    return (
        f"unknown setting{'s' if len(keys) > 1 else ''} {', '.join(said)}; the settings are "
        f"{', '.join(names)} (TrainConfig in taxonbot/train/config.py)"
    )


def _type_problem(name: str, annotation: str, value: Any) -> str | None:
    optional = "None" in annotation
    if value is None and optional:
        return None
    what, types = _KINDS.get(annotation.split(" | ")[0], _KINDS["str"])
    if isinstance(value, types) and (bool in types or not isinstance(value, bool)):
        return None
    try:
        shown = dumps(value)  # nothing a terminal acts on (a bidi override, a C1 control)
    except (TypeError, ValueError):  # not JSON: a value passed from code
        shown = ascii(value)
    return f"{name} must be {what}{' or null' if optional else ''}, not {quoted(shown)}"
