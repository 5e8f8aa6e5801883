"""Which model actually ran, and why: the value the preview records and the comment shows.

`resolve` (taxonbot/runtime/open.py) makes one from what a command asked for (`--teacher`): a
catalogue name, a .gguf path, a server URL, or the default. When the asked-for model cannot be
used (not fetched, hash mismatch) and a fallback runs instead, `reason` says why in a sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ModelChoice:
    requested: str  # what the command was asked for, as written ("llama.cpp", a name, a path)
    name: str  # what ran: a catalogue name, or the file/model name when it is not in the catalogue
    source: str  # "catalogue" | "file" | "server" | "bundled"
    reason: str = ""  # why this model and not the requested one; "" when it is the requested one
    licence: str = ""  # SPDX id when the catalogue knows it
    # A judge block's measured separation on this model (ROC AUC on the labelled set, 0.5 =
    # chance): from the catalogue; empty when the model was never measured.
    judges: Mapping[str, float] = field(default_factory=dict)

    def record(self) -> dict[str, object]:
        return {
            "requested": self.requested,
            "name": self.name,
            "source": self.source,
            "reason": self.reason,
            "licence": self.licence,
            "judges": dict(self.judges),
        }
