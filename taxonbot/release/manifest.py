"""A finished build as a release sees it: its manifest, its assets, and the errors of a cut.

`read_manifest` checks the record `taxonbot build` wrote (version, taxonomy commit, verdict)
and `build_assets` lists what goes on the release (manifest, model card, every GGUF, the
plots), refusing a build that did not finish or would not fit on GitHub. The tag a build gets is
`TAG_PREFIX` + its version: the next cut, the release workflow and `taxonbot announce` look
for exactly that.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from taxonbot.errors import Refused, UsageError
from taxonbot.jsonfile import UnreadableJson, read_capped_json

TAG_PREFIX = "build-"  # what the next release cut looks for: `git describe --match build-*`
MANIFEST_NAME, CARD_NAME, PLOTS = "manifest.json", "README.md", "plots"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_ASSET_BYTES = 2 * 1024**3  # GitHub refuses release assets of 2 GiB and more
CONTENT_TYPES = {
    ".json": "application/json",
    ".md": "text/markdown",
    ".png": "image/png",
    ".gguf": "application/octet-stream",
}
VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")  # a build version; a tag's tail
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
BUILD_HINT = "pass --build the folder `taxonbot build` wrote"


class ReleaseError(Refused):
    """Refused or failed; the message says what to do. The CLI exits 1."""


class ReleaseUsageError(UsageError):
    """The arguments cannot work (a bad tag name, an unknown ref). The CLI exits 2."""


@dataclass(frozen=True)
class BuildManifest:
    version: str
    taxonomy_commit: str
    publishable: bool
    evaluation: dict[str, Any]

    @property
    def default_tag(self) -> str:
        return TAG_PREFIX + self.version


@dataclass(frozen=True)
class LocalAsset:
    name: str  # the asset's name on the release
    path: str
    size: int
    content_type: str


def read_manifest(build_dir: str) -> BuildManifest:
    path = os.path.join(build_dir, MANIFEST_NAME)
    if not os.path.isdir(build_dir):
        raise ReleaseUsageError(f"no such folder: {build_dir}; {BUILD_HINT}.")
    if not os.path.isfile(path):
        raise ReleaseError(
            f"{path} is missing: the build did not finish; run `taxonbot build` again or "
            f"{BUILD_HINT}."
        )
    try:
        data = read_capped_json(path, MAX_MANIFEST_BYTES)
    except UnreadableJson as exc:
        raise ReleaseError(
            f"{exc} Run `taxonbot build` again; a build is never released from a damaged record."
        ) from None
    return _manifest(path, data)


def _manifest(path: str, data: Any) -> BuildManifest:
    def bad(key: str, wanted: str) -> ReleaseError:
        return ReleaseError(
            f"{path}: `{key}` must be {wanted}; the build record is damaged or from another "
            "tool: run `taxonbot build` again."
        )

    if not isinstance(data, dict):
        raise bad("the top level", "an object")
    version, commit = data.get("version"), data.get("taxonomy_commit")
    if not isinstance(version, str) or not VERSION.match(version):
        raise bad("version", "a version like 2026.11.21-1 (letters, digits, . _ -)")
    if not isinstance(commit, str) or not _COMMIT.match(commit):
        raise bad("taxonomy_commit", "a full commit id (40 or 64 hex digits)")
    if not isinstance(data.get("publishable"), bool):
        raise bad("publishable", "true or false (the branch evaluation's verdict)")
    evaluation = data.get("evaluation", {})
    if not isinstance(evaluation, dict):
        raise bad("evaluation", "an object")
    return BuildManifest(version, commit, data["publishable"], evaluation)


def build_assets(build_dir: str) -> tuple[LocalAsset, ...]:
    """manifest.json, the model card, every top-level .gguf and plots/*.png, by name."""
    top = sorted(os.listdir(build_dir))
    files = [MANIFEST_NAME, CARD_NAME, *(f for f in top if f.endswith(".gguf"))]
    missing = [f for f in files[:2] if not os.path.isfile(os.path.join(build_dir, f))]
    if missing or len(files) == 2:
        absent = ", ".join(missing + ([] if len(files) > 2 else ["a .gguf model"]))
        raise ReleaseError(
            f"{build_dir} has no {absent}: the export did not finish; run `taxonbot build` "
            "again (a release without its model card and GGUF is never made)."
        )
    paths = [os.path.join(build_dir, f) for f in files]
    plots = os.path.join(build_dir, PLOTS)
    if os.path.isdir(plots):
        paths += [os.path.join(plots, f) for f in sorted(os.listdir(plots)) if f.endswith(".png")]
    assets = tuple(_asset(p) for p in paths if os.path.isfile(p))
    names = [a.name for a in assets]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ReleaseError(
            f"{build_dir}: two files would be the asset {', '.join(twice)}; rename one."
        )
    return assets


def _asset(path: str) -> LocalAsset:
    size = os.path.getsize(path)
    if size >= MAX_ASSET_BYTES:
        raise ReleaseError(
            f"{path} is {human_size(size)}; GitHub takes release assets under 2 GiB: quantize "
            "smaller or publish the file elsewhere and link it from the model card."
        )
    base = os.path.basename(path)
    kind = CONTENT_TYPES.get(os.path.splitext(base)[1], "application/octet-stream")
    return LocalAsset(base, path, size, kind)


def human_size(size: int) -> str:
    """A size for people, in 1000s: "512 B", "3.1 MB" (the notes, the plan, the refusals)."""
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{size} B"  # unreachable
