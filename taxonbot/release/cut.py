"""A release of a finished build: its manifest and assets, the notes, the plan, and publishing.

The core reads the build folder and decides (`read_manifest`, `build_assets`, `plan_release`,
`release_notes`); `publish` brings GitHub to the plan through a `ReleasesPort`, writing only
what is missing, so a re-run after a failure finishes the job and never makes a second release
or a second copy of an asset. The last section is the local git side: the previous build tag
and the annotated tag of this one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from taxonbot.jsonfile import read_capped_json
from taxonbot.markdown import code as name
from taxonbot.markdown import inline as text
from taxonbot.release.github import UPLOADED, Release, ReleasesPort
from taxonbot.taxonomy.contributions import Contribution, execute, open_git

TAG_PREFIX = "build-"  # what the next release cut looks for: `git describe --match build-*`
NOTES_NAME = "RELEASE_NOTES.md"
MANIFEST_NAME, CARD_NAME, PLOTS = "manifest.json", "README.md", "plots"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_ASSET_BYTES = 2 * 1024**3  # GitHub refuses release assets of 2 GiB and more
NOTES_LIMIT = 100_000  # GitHub refuses release bodies over 125,000 characters
LEAVES_SHOWN = 5
CONTENT_TYPES = {
    ".json": "application/json",
    ".md": "text/markdown",
    ".png": "image/png",
    ".gguf": "application/octet-stream",
}
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
BUILD_HINT = "pass --build the folder `taxonbot build` wrote"


class ReleaseError(Exception):
    """Refused or failed; the message says what to do. The CLI exits 1."""


class ReleaseUsageError(ReleaseError):
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


@dataclass(frozen=True)
class ReleasePlan:
    tag: str
    commit: str
    title: str
    notes: str
    assets: tuple[LocalAsset, ...]
    previous_tag: str | None
    forced: bool


# ---- the build folder ------------------------------------------------------------------------


def read_manifest(build_dir: str) -> BuildManifest:
    path = os.path.join(build_dir, MANIFEST_NAME)
    if not os.path.isdir(build_dir):
        raise ReleaseUsageError(f"no such folder: {build_dir}; {BUILD_HINT}.")
    if not os.path.isfile(path):
        raise ReleaseError(
            f"{path} is missing: the build did not finish; run `taxonbot build` again or "
            f"{BUILD_HINT}."
        )
    data = read_capped_json(path, MAX_MANIFEST_BYTES)
    if isinstance(data, str):
        raise ReleaseError(
            f"{data} Run `taxonbot build` again; a build is never released from a damaged record."
        )
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
    if not isinstance(version, str) or not _VERSION.match(version):
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
            f"{path} is {_size(size)}; GitHub takes release assets under 2 GiB: quantize "
            "smaller or publish the file elsewhere and link it from the model card."
        )
    base = os.path.basename(path)
    kind = CONTENT_TYPES.get(os.path.splitext(base)[1], "application/octet-stream")
    return LocalAsset(base, path, size, kind)


# ---- the plan and its notes ------------------------------------------------------------------


def plan_release(
    manifest: BuildManifest,
    contributions: Sequence[Contribution],
    assets: Sequence[LocalAsset],
    previous_tag: str | None,
    tag: str | None = None,
    *,
    force: bool = False,
) -> ReleasePlan:
    check_publishable(manifest, force=force)
    tag = tag or manifest.default_tag
    check_tag_name(tag)
    title = f"Community build {manifest.version}"
    notes = release_notes(manifest, contributions, assets, previous_tag, forced=force)
    return ReleasePlan(
        tag, manifest.taxonomy_commit, title, notes, tuple(assets), previous_tag, force
    )


def check_publishable(manifest: BuildManifest, *, force: bool = False) -> None:
    if not manifest.publishable and not force:
        summary = manifest.evaluation.get("summary")
        why = f" ({' '.join(summary.split())[:300]})" if isinstance(summary, str) else ""
        raise ReleaseError(
            f"build {manifest.version} is not publishable by its own branch evaluation{why}; "
            "fix the regression and build again, or pass --force to release it anyway (the "
            "notes will say so)."
        )


def check_tag_name(tag: str) -> None:
    well_formed = _VERSION.match(tag) and ".." not in tag and not tag.endswith(".lock")
    if not tag.startswith(TAG_PREFIX) or len(tag) == len(TAG_PREFIX) or not well_formed:
        raise ReleaseUsageError(
            f"`{tag}` cannot be a build tag: use {TAG_PREFIX}<letters, digits, . _ -> so the "
            "next release cut finds it."
        )


def release_notes(
    manifest: BuildManifest,
    contributions: Sequence[Contribution],
    assets: Sequence[LocalAsset],
    previous_tag: str | None,
    *,
    forced: bool = False,
) -> str:
    """GitHub Markdown; every string from the history or the manifest is escaped (no pings,
    no backlinks, no HTML), and the whole stays under GitHub's size limit."""
    since = (
        f"since {name(previous_tag)}"
        if previous_tag
        else "since the first commit (no earlier build tag)"
    )
    lines = [
        f"## Community build {text(manifest.version)}",
        "",
        f"Trained on taxonomy commit {name(manifest.taxonomy_commit)}; "
        f"contributions merged {since}.",
        "",
    ]
    if forced and not manifest.publishable:
        lines += [
            "> **Not publishable by its own branch evaluation: released anyway with `--force` "
            "by the release manager.**",
            "",
        ]
    lines += _evaluation(manifest)
    credited = [c for c in contributions if c.changes_taxonomy]
    lines += [f"### Contributions ({len(credited)})", ""]
    lines += [_credit(c) for c in credited] or ["No taxonomy changes since the last build."]
    other = [c for c in contributions if not c.changes_taxonomy]
    if other:
        lines += ["", f"### Also merged, no taxonomy change ({len(other)})", ""]
        lines += [_credit(c) for c in other]
    lines += ["", "### Assets", "", "| File | Size |", "| --- | ---: |"]
    lines += [f"| {name(a.name)} | {_size(a.size)} |" for a in assets]
    return _capped(lines)


def _evaluation(manifest: BuildManifest) -> list[str]:
    verdict = "yes" if manifest.publishable else "**no**"
    lines = ["### Evaluation", "", f"Publishable: {verdict}", ""]
    summary = manifest.evaluation.get("summary")
    if isinstance(summary, str) and summary.strip():
        lines += [text(summary, 1000), ""]
    numbers = [
        (key, value)
        for key, value in manifest.evaluation.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if numbers:
        lines += ["| Measure | Value |", "| --- | ---: |"]
        lines += [f"| {name(key)} | {_number(value)} |" for key, value in numbers] + [""]
    return lines


def _credit(contribution: Contribution) -> str:
    where = (
        f"PR {contribution.number}"
        if contribution.number is not None
        else f"commit {name(contribution.sha[:12])}"
    )
    people = ", ".join(
        text(p.name, 100) + (f" ({name(p.login)})" if p.login else "") for p in contribution.authors
    )
    line = f"- {where}: {text(contribution.title, 200)}, by {people or 'unknown'}"
    leaves = [_leaf(c.status, c.path, c.old_path) for c in contribution.leaves]
    if len(leaves) > LEAVES_SHOWN:
        leaves = [*leaves[:LEAVES_SHOWN], f"and {len(leaves) - LEAVES_SHOWN} more"]
    return line + (f": {'; '.join(leaves)}" if leaves else "")


def _leaf(status: str, path: str, old_path: str | None) -> str:
    shown = name(os.path.dirname(path) or path)
    if old_path is not None:
        return f"{name(os.path.dirname(old_path))} renamed to {shown}"
    return f"{shown} {status}"


def _capped(lines: list[str]) -> str:
    out, total = [], 0
    for index, line in enumerate(lines):
        total += len(line) + 1
        if total > NOTES_LIMIT:
            out.append(f"\n_…and {len(lines) - index} more lines: see the build's manifest.json._")
            break
        out.append(line)
    return "\n".join(out) + "\n"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _size(size: int) -> str:
    amount = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1000 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1000
    return f"{size} B"  # unreachable


# ---- GitHub: reconcile, write only what is missing -------------------------------------------


def publish(plan: ReleasePlan, repo: str, port: ReleasesPort, say: Callable[[str], None]) -> None:
    """Tag, draft release, assets, then publish. Safe to re-run after any failure."""
    remote = port.tag_commit(repo, plan.tag)
    if remote is None:
        say(f"create tag {plan.tag} at {plan.commit} on {repo}")
        port.create_tag(repo, plan.tag, plan.commit, tag_message(plan))
    elif remote != plan.commit:
        raise ReleaseError(
            f"tag {plan.tag} on {repo} points at {remote}, not at this build's commit "
            f"{plan.commit}; pass --tag with a new name (an existing tag is never moved)."
        )
    release = port.find_release(repo, plan.tag)
    if release is None:
        say(f"create draft release {plan.title!r}")
        release = port.create_release(repo, plan.tag, plan.commit, plan.title, plan.notes)
    _upload_missing(plan, repo, release, port, say)
    if release.draft or (release.title, release.body) != (plan.title, plan.notes):
        say(f"publish release {plan.title!r}" if release.draft else "update the release notes")
        port.edit_release(repo, release, plan.title, plan.notes, draft=False)


def _upload_missing(
    plan: ReleasePlan, repo: str, release: Release, port: ReleasesPort, say: Callable[[str], None]
) -> None:
    present = {a.name: a for a in port.assets(repo, release)}
    for asset in plan.assets:
        have = present.get(asset.name)
        if have is not None and have.state == UPLOADED and have.size == asset.size:
            continue
        if have is not None and have.state == UPLOADED and not release.draft:
            raise ReleaseError(
                f"the published release {plan.tag} already has a different {asset.name} "
                f"({_size(have.size)}, here {_size(asset.size)}); a published asset is never "
                "replaced: build again and release under a new tag."
            )
        if have is not None:
            say(f"remove the incomplete {asset.name} left by an earlier try")
            port.delete_asset(repo, have.id)
        say(f"upload {asset.name} ({_size(asset.size)})")
        port.upload_asset(repo, release, asset.path, asset.name, asset.content_type)


def tag_message(plan: ReleasePlan) -> str:
    since = plan.previous_tag or "the first commit"
    return f"{plan.title}\n\nTaxonomy commit {plan.commit}; contributions since {since}.\n"


# ---- local git: the previous build tag, this build's tag --------------------------------------


def check_build_commit(repo_dir: str, commit: str) -> None:
    """The build's taxonomy commit must be here, and on the checked-out history."""
    status, _, err = execute(open_git(repo_dir), "merge-base", "--is-ancestor", commit, "HEAD")
    if status == 1:
        raise ReleaseError(
            f"the build's taxonomy commit {commit} is not in the history of HEAD; check out "
            "main (the branch the build was made from) and run again."
        )
    if status != 0:
        raise ReleaseError(
            f"the build's taxonomy commit {commit} is not in this clone ({_last(err)}); fetch "
            "the full history (`git fetch origin main`, or actions/checkout with fetch-depth: 0)."
        )


def previous_build_tag(repo_dir: str, commit: str, exclude: str) -> str | None:
    """The nearest annotated build-* tag reachable from `commit`, other than `exclude`."""
    git = open_git(repo_dir)
    pattern = f"{TAG_PREFIX}*"
    status, out, err = execute(
        git, "describe", "--abbrev=0", f"--match={pattern}", f"--exclude={exclude}", commit
    )
    if status == 0:
        return out.decode("utf-8", "replace").strip()
    if "No names found" in err or "can describe" in err:
        return None  # no build was tagged before: credit everything since the first commit
    raise ReleaseError(f"git could not find the previous build tag ({_last(err)}).")


def ensure_local_tag(
    repo_dir: str, tag: str, commit: str, message: str, *, dry_run: bool = False
) -> bool:
    """Create the annotated tag unless it is already there at `commit`; True if it was not
    there (and, unless `dry_run`, is now)."""
    git = open_git(repo_dir)
    status, out, _ = execute(git, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    if status == 0:
        here = out.decode().strip()
        if here != commit:
            raise ReleaseError(
                f"tag {tag} already exists here at {here}, not at the build's commit {commit}; "
                "pass --tag with a new name (an existing tag is never moved)."
            )
        return False
    if dry_run:
        return True
    status, _, err = execute(
        git, "tag", "--annotate", "--cleanup=verbatim", "--message", message, tag, commit
    )
    if status != 0:
        unknown = "identity" in err or "tell me who" in err.lower()
        hint = " (set `git config user.name` and `user.email` first)" if unknown else ""
        raise ReleaseError(f"git could not create tag {tag}: {_last(err)}{hint}.")
    return True


def _last(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no detail"
