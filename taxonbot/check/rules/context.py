"""What every content rule sees about one qna.yaml."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taxonbot.documents.rules import DEFAULT_ALLOWED_HOSTS
from taxonbot.taxonomy.leaf import LeafPath
from taxonbot.taxonomy.yamlnode import Node


@dataclass(frozen=True)
class CheckOptions:
    """Policy knobs. `changed` is True for files a pull request touches (newest version only)."""

    changed: bool = False
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    max_bytes: int = 256 * 1024
    verbose: bool = False


@dataclass
class CheckContext:
    path: str
    leaf: LeafPath
    root: Node
    data: dict[str, Any]
    options: CheckOptions = field(default_factory=CheckOptions)

    def seeds(self) -> list[dict[str, Any]]:
        seeds = self.data.get("seed_examples")
        if not isinstance(seeds, list):
            return []
        return [seed for seed in seeds if isinstance(seed, dict)]
