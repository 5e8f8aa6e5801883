"""The previous build a build starts from: checked whole before any work, and what the new
build's record says about it (and about the base model)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxonbot.modelbuild import BuildError
from taxonbot.modelbuild.record import MANIFEST_FORMAT, file_sha256

PREVIOUS_FILES = ("manifest.json", "model", "data/train.jsonl")
HINT = "point --previous at a complete build folder, or leave it out to start from --base-model"


@dataclass(frozen=True)
class Previous:
    folder: Path
    manifest: dict[str, Any]
    gguf: Path
    model: Path
    samples: list[dict[str, Any]]

    @property
    def commit(self) -> str:
        return str(self.manifest["taxonomy_commit"])

    def to_manifest(self) -> dict[str, Any]:
        return {
            "version": self.manifest.get("version"),
            "taxonomy_commit": self.commit,
            "gguf_sha256": self.manifest["export"]["gguf"]["sha256"],
        }


def load_previous(folder: Path) -> Previous:
    """A complete previous build, checked against its own manifest; else a clear error."""
    if not folder.is_dir():
        raise BuildError(f"the previous build {folder} does not exist: {HINT}")
    missing = [name for name in PREVIOUS_FILES if not (folder / name).exists()]
    if missing:
        raise BuildError(f"the previous build {folder} lacks {', '.join(missing)}: {HINT}")
    manifest, gguf_name, expected = _read_manifest(folder)
    gguf = folder / gguf_name
    if not gguf.is_file() or file_sha256(gguf) != expected:
        raise BuildError(f"{gguf} is missing or does not match its manifest (corrupt): {HINT}")
    for entry in manifest["export"].get("hf", {}).get("files", []):
        path = folder / "model" / entry["name"]
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            raise BuildError(f"{path} is missing or truncated (corrupt): {HINT}")
    from taxonbot.train.data import read_samples

    try:
        samples = read_samples(folder / "data" / "train.jsonl")
    except Exception as exc:  # its own message names the file and line
        raise BuildError(f"{exc}: {HINT}") from exc
    return Previous(folder, manifest, gguf, folder / "model", samples)


def _read_manifest(folder: Path) -> tuple[dict[str, Any], str, str]:
    """The previous build's manifest, its GGUF's file name and that file's sha256."""
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text("utf-8"))
        gguf = manifest["export"]["gguf"]
        name, expected, commit = str(gguf["file"]), gguf["sha256"], manifest["taxonomy_commit"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BuildError(f"{path} is unreadable or incomplete ({exc}): {HINT}") from exc
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(commit, str):
        raise BuildError(f"{path} is not a taxonbot build manifest: {HINT}")
    return manifest, name, expected


def check_history(repo: Path, previous: Previous | None) -> None:
    """The contributions `credit` lists at the end must be listable now, before hours of work
    (taxonbot/modelbuild/history.py)."""
    from taxonbot.modelbuild.history import history_problem

    name = str(previous.manifest.get("version") or "") if previous else ""
    problem = history_problem(repo, previous.commit if previous else None, name)
    if problem is not None:
        raise BuildError(problem)


def credit(repo: Path, previous: Previous | None, commit: str) -> list[dict[str, Any]]:
    """The contributions merged since the previous build (all of them for a first build)."""
    from taxonbot.taxonomy.contributions import ContributionError, contributions_between

    try:
        found = contributions_between(str(repo), previous.commit if previous else None, commit)
    except ContributionError as exc:
        raise BuildError(f"could not list the contributions to credit: {exc}") from exc
    return [c.to_json() for c in found if c.changes_taxonomy]


def base_record(previous: Previous | None, base_gguf: Path) -> dict[str, Any]:
    """The base model: the one the previous build started from, or `base_gguf`."""
    if previous is not None:
        return dict(previous.manifest["base"])
    return {"name": base_gguf.name, "gguf": base_gguf.name, "sha256": file_sha256(base_gguf)}
