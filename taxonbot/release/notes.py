"""The plan of a release and its words: the notes on GitHub and the annotated tag's message.

`plan_release` joins the checked build (manifest.py), the contributions merged since the
previous build tag (taxonbot/taxonomy/contributions.py) and the assets into a `ReleasePlan`;
`release_notes` writes the GitHub Markdown that credits each contribution. Every string from
the history or the manifest is escaped (no pings, no backlinks, no HTML), and the whole stays
under GitHub's size limit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from taxonbot.markdown import code, inline
from taxonbot.release.manifest import BuildManifest, LocalAsset, ReleaseError, human_size
from taxonbot.release.tags import check_tag_name
from taxonbot.taxonomy.contributions import Contribution

NOTES_NAME = "RELEASE_NOTES.md"
NOTES_LIMIT = 100_000  # GitHub refuses release bodies over 125,000 characters
LEAVES_SHOWN = 5


@dataclass(frozen=True)
class ReleasePlan:
    tag: str
    commit: str
    title: str
    notes: str
    assets: tuple[LocalAsset, ...]
    previous_tag: str | None
    forced: bool


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
        f"since {code(previous_tag)}"
        if previous_tag
        else "since the first commit (no earlier build tag)"
    )
    lines = [
        f"## Community build {inline(manifest.version)}",
        "",
        f"Trained on taxonomy commit {code(manifest.taxonomy_commit)}; "
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
    lines += [f"| {code(a.name)} | {human_size(a.size)} |" for a in assets]
    return _capped(lines)


def _evaluation(manifest: BuildManifest) -> list[str]:
    verdict = "yes" if manifest.publishable else "**no**"
    lines = ["### Evaluation", "", f"Publishable: {verdict}", ""]
    summary = manifest.evaluation.get("summary")
    if isinstance(summary, str) and summary.strip():
        lines += [inline(summary, 1000), ""]
    numbers = [
        (key, value)
        for key, value in manifest.evaluation.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    if numbers:
        lines += ["| Measure | Value |", "| --- | ---: |"]
        lines += [f"| {code(key)} | {_number(value)} |" for key, value in numbers] + [""]
    return lines


def _credit(contribution: Contribution) -> str:
    where = (
        f"PR {contribution.number}"
        if contribution.number is not None
        else f"commit {code(contribution.sha[:12])}"
    )
    people = ", ".join(
        inline(p.name, 100) + (f" ({code(p.login)})" if p.login else "")
        for p in contribution.authors
    )
    line = f"- {where}: {inline(contribution.title, 200)}, by {people or 'unknown'}"
    leaves = [_leaf(c.status, c.path, c.old_path) for c in contribution.leaves]
    if len(leaves) > LEAVES_SHOWN:
        leaves = [*leaves[:LEAVES_SHOWN], f"and {len(leaves) - LEAVES_SHOWN} more"]
    return line + (f": {'; '.join(leaves)}" if leaves else "")


def _leaf(status: str, path: str, old_path: str | None) -> str:
    shown = code(os.path.dirname(path) or path)
    if old_path is not None:
        return f"{code(os.path.dirname(old_path))} renamed to {shown}"
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


def tag_message(plan: ReleasePlan) -> str:
    since = plan.previous_tag or "the first commit"
    return f"{plan.title}\n\nTaxonomy commit {plan.commit}; contributions since {since}.\n"
