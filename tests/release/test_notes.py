"""The pure side of a release: the build folder, the plan and the notes, read as GitHub reads them.

Stories: a release manager points at a build whose record is missing, damaged or says the build
is not publishable, and is told what to do; contributors' hostile titles and names never ping,
backlink or render HTML in the notes; the notes say when a release was forced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from taxonbot.release.manifest import (
    BuildManifest,
    LocalAsset,
    ReleaseError,
    ReleaseUsageError,
    build_assets,
    read_manifest,
)
from taxonbot.release.notes import NOTES_LIMIT, plan_release, release_notes
from taxonbot.taxonomy.contributions import Contribution, Person
from taxonbot.taxonomy.diff import LeafChange
from tests.release import VERSION, make_build

COMMIT = "c0ffee" + "0" * 34
OUR_TAGS = {"h2", "h3", "p", "ul", "li", "code", "strong", "blockquote"} | {
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
HOSTILE_TITLE = '"; curl x|sh # @org/team fixes #1 <img src=x onerror=alert(1)> GH-2'


def html_of(markdown: str) -> str:
    """cmark-gfm with raw HTML let through, as GitHub's renderer before its sanitizer."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def manifest(publishable: bool = True, **evaluation: object) -> BuildManifest:
    return BuildManifest(VERSION, COMMIT, publishable, dict(evaluation))


def contribution(number: int | None, title: str, *leaves: str, **person: str) -> Contribution:
    changes = tuple(LeafChange("added", f"{leaf}/qna.yaml", None, "b" * 40) for leaf in leaves)
    who = Person(person.get("name", "Jane Doe"), person.get("login"))
    kind = "squash" if number else "direct"
    return Contribution(number, title, "a" * 40, "2026-11-01T12:00:00+00:00", kind, (who,), changes)


ASSETS = (LocalAsset("model.Q4_K_M.gguf", "/x/model.Q4_K_M.gguf", 80_123_456, "x"),)


# ---- the build folder ------------------------------------------------------------------------


def test_a_finished_build_gives_its_manifest_and_assets_in_a_stable_order(tmp_path: Path) -> None:
    build = make_build(tmp_path / "build", COMMIT)
    (build / "model.F16.gguf").write_bytes(b"GGUF")
    (build / "notes.txt").write_text("not an asset", "utf-8")

    assert read_manifest(str(build)) == BuildManifest(
        VERSION,
        COMMIT,
        True,
        {"summary": "new leaves +0.31, regression -0.002", "new_leaves": 0.31},
    )
    assets = build_assets(str(build))
    assert [(a.name, a.content_type) for a in assets] == [
        ("manifest.json", "application/json"),
        ("README.md", "text/markdown"),
        ("model.F16.gguf", "application/octet-stream"),
        ("model.Q4_K_M.gguf", "application/octet-stream"),
        ("loss.png", "image/png"),
        ("scores.png", "image/png"),
    ]
    assert assets[3].size == (build / "model.Q4_K_M.gguf").stat().st_size


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda m: m.unlink(), r"manifest\.json is missing.*run `taxonbot build` again"),
        (lambda m: m.write_text("{not json", "utf-8"), r"is not JSON.*damaged record"),
        (lambda m: m.write_text("[1, 2]", "utf-8"), r"`the top level` must be an object"),
        (lambda m: _edit(m, version="../../etc"), r"`version` must be a version like"),
        (lambda m: _edit(m, version=None), r"`version` must be"),
        (lambda m: _edit(m, taxonomy_commit="main"), r"`taxonomy_commit` must be a full commit"),
        (lambda m: _edit(m, publishable="yes"), r"`publishable` must be true or false"),
        (lambda m: _edit(m, evaluation=[0.3]), r"`evaluation` must be an object"),
    ],
)
def test_a_missing_or_damaged_record_is_refused_with_what_to_do(
    tmp_path: Path, damage: object, said: str
) -> None:
    build = make_build(tmp_path / "build", COMMIT)
    damage(build / "manifest.json")  # type: ignore[operator]
    with pytest.raises(ReleaseError, match=said) as caught:
        read_manifest(str(build))
    assert not isinstance(caught.value, ReleaseUsageError)


def _edit(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text("utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), "utf-8")


def test_a_folder_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ReleaseUsageError, match=r"no such folder: .*pass --build the folder"):
        read_manifest(str(tmp_path / "nowhere"))


def test_a_build_without_its_gguf_or_model_card_is_never_released(tmp_path: Path) -> None:
    build = make_build(tmp_path / "build", COMMIT)
    (build / "model.Q4_K_M.gguf").unlink()
    (build / "README.md").unlink()
    with pytest.raises(ReleaseError, match=r"has no README\.md, a \.gguf model: the export"):
        build_assets(str(build))


# ---- the plan ---------------------------------------------------------------------------------


def test_a_build_its_evaluation_rejected_is_refused_and_force_says_so_in_the_notes() -> None:
    rejected = manifest(False, summary="regression -4.1% (threshold 2%)")
    with pytest.raises(ReleaseError, match=r"not publishable.*regression -4\.1%.*--force"):
        plan_release(rejected, [], ASSETS, "build-2026.11.14-1")

    plan = plan_release(rejected, [], ASSETS, "build-2026.11.14-1", force=True)
    assert plan.forced and plan.tag == f"build-{VERSION}" and plan.commit == COMMIT
    assert "released anyway with `--force`" in plan.notes
    assert "Publishable: **no**" in plan.notes


@pytest.mark.parametrize("tag", ["v1.0", "build-../x", "build-x.lock", "build-a b", "build-"])
def test_a_tag_the_next_release_cut_would_not_find_is_a_usage_error(tag: str) -> None:
    with pytest.raises(ReleaseUsageError, match="cannot be a build tag"):
        plan_release(manifest(), [], ASSETS, None, tag)


# ---- the notes ---------------------------------------------------------------------------------


def test_the_notes_credit_each_contribution_by_pr_and_author() -> None:
    found = [
        contribution(12, "Add haiku writing", "compositional_skills/writing/haiku", login="jdoe"),
        contribution(None, "Fix a typo", "knowledge/astronomy/jupiter", name="Mia Maintainer"),
        contribution(14, "CI: cache pip"),
    ]
    notes = release_notes(
        manifest(summary="new leaves +0.31", new_leaves=0.3141, leaves=2), found, ASSETS, "build-1"
    )
    assert notes.splitlines()[:3] == [
        f"## Community build {VERSION}",
        "",
        f"Trained on taxonomy commit `{COMMIT}`; contributions merged since `build-1`.",
    ]
    assert "- PR 12: Add haiku writing, by Jane Doe (`jdoe`): `compositional\\_skills" not in notes
    assert (
        "- PR 12: Add haiku writing, by Jane Doe (`jdoe`): "
        "`compositional_skills/writing/haiku` added" in notes
    )
    assert (
        f"- commit `{'a' * 12}`: Fix a typo, by Mia Maintainer: `knowledge/astronomy/jupiter` added"
        in notes
    )
    assert "### Also merged, no taxonomy change (1)\n\n- PR 14: CI: cache pip, by Jane Doe" in notes
    assert "| `new_leaves` | 0.3141 |" in notes and "| `leaves` | 2 |" in notes
    assert "| `model.Q4_K_M.gguf` | 80.1 MB |" in notes


def test_hostile_titles_names_and_paths_never_ping_backlink_or_render_html() -> None:
    evil = contribution(
        66,
        HOSTILE_TITLE,
        "knowledge/<img src=x>/@org/team/#1",
        name="<script>alert(1)</script> @octocat #2",
        login="octocat",
    )
    evaluation = {"summary": HOSTILE_TITLE, "<b>@x #3</b>": 1.0}
    notes = release_notes(manifest(**evaluation), [evil], ASSETS, None)

    html = html_of(notes)
    tags = {t.lower() for t in re.findall(r"<([A-Za-z][A-Za-z0-9]*)", html)}
    assert tags <= OUR_TAGS, tags - OUR_TAGS
    assert not re.search(r"@[A-Za-z0-9_-]", html), "a live @mention"
    assert not re.search(r"#\d", html), "a live #123 reference"
    assert not re.search(r"(?i)\bgh-\d", html), "a live GH-123 reference"
    assert "&quot;; curl x|sh #" in html  # shown as text, in one list item
    assert html.count("<li>") == 1


def test_the_notes_stay_under_githubs_size_limit() -> None:
    many = [
        contribution(n, "x" * 190, *[f"knowledge/t{n}/l{i}" for i in range(9)]) for n in range(2000)
    ]
    notes = release_notes(manifest(), many, ASSETS, None)
    assert len(notes) <= NOTES_LIMIT + 200
    assert notes.rstrip().endswith("see the build's manifest.json._")
    assert "and 4 more" in notes.splitlines()[10]
