"""Publishing reconciles: GitHub ends up with one tag, one release and one copy of each asset,
however many times the release cut runs and wherever an earlier run stopped.

Unit tests over our own port kept in memory (`InMemoryReleases`); tests/release/test_cli.py
runs the same stories through PyGithub against the HTTP fake.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from taxonbot.github.port import GitHubError
from taxonbot.release.cut import publish
from taxonbot.release.manifest import ReleaseError, build_assets
from taxonbot.release.memory import InMemoryReleases
from taxonbot.release.notes import ReleasePlan
from taxonbot.release.port import Asset, DryRunReleases
from tests.release import make_build

REPO = "community/taxonomy"
COMMIT, OTHER = "c" * 40, "d" * 40
TAG = "build-2026.11.21-1"


@pytest.fixture
def plan(tmp_path: Path) -> ReleasePlan:
    assets = build_assets(str(make_build(tmp_path / "build", COMMIT)))
    title = "Community build 2026.11.21-1"
    return ReleasePlan(TAG, COMMIT, title, "## notes\n", assets, "build-2026.11.14-1", False)


def run(plan: ReleasePlan, github: InMemoryReleases | DryRunReleases) -> list[str]:
    said: list[str] = []
    publish(plan, REPO, github, said.append)
    return said


def names_of_writes(github: InMemoryReleases) -> list[str]:
    return [call.name for call in github.writes]


def test_a_first_release_tags_drafts_uploads_then_publishes(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    said = run(plan, github)

    assert names_of_writes(github) == [
        "create_tag",
        "create_release",
        *["upload_asset"] * 5,
        "edit_release",
    ]
    assert said[0] == f"create tag {TAG} at {COMMIT} on {REPO}"
    assert said[-1] == "publish release 'Community build 2026.11.21-1'"
    assert github.tag_commit(REPO, TAG) == COMMIT
    release = github.find_release(REPO, TAG)
    assert release is not None and not release.draft and release.body == plan.notes
    assert [a.name for a in github.assets(REPO, release)] == [a.name for a in plan.assets]


def test_the_same_release_cut_again_writes_nothing(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    run(plan, github)
    github.calls.clear()

    assert run(plan, github) == []
    assert github.writes == []


def test_a_run_that_failed_mid_upload_is_completed_by_the_next_without_duplicates(
    plan: ReleasePlan,
) -> None:
    github = InMemoryReleases()
    github.failing_uploads.add("model.Q4_K_M.gguf")
    with pytest.raises(GitHubError, match=r"model\.Q4_K_M\.gguf"):
        run(plan, github)
    draft = github.find_release(REPO, TAG)
    assert draft is not None and draft.draft
    assert [a.name for a in github.assets(REPO, draft)] == ["manifest.json", "README.md"]
    github.calls.clear()

    said = run(plan, github)

    assert names_of_writes(github) == ["upload_asset"] * 3 + ["edit_release"]
    assert said[0] == "upload model.Q4_K_M.gguf (10.2 KB)"
    assert len(github.releases) == 1
    assert [a.name for a in github.assets(REPO, draft)] == [a.name for a in plan.assets]


def test_an_upload_that_broke_off_is_removed_and_sent_again(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    release = github.create_release(REPO, TAG, COMMIT, plan.title, plan.notes)
    github.tags[(REPO, TAG)] = (COMMIT, "")
    _, stored = github.releases[release.id]
    stored.assets.append(Asset(99, "README.md", 3, state="starter"))

    said = run(plan, github)

    assert "remove the incomplete README.md left by an earlier try" in said
    readme = [a for a in github.assets(REPO, release) if a.name == "README.md"]
    assert len(readme) == 1 and readme[0].state == "uploaded" and readme[0].id != 99


def test_a_tag_on_github_at_another_commit_is_never_moved(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    github.tags[(REPO, TAG)] = (OTHER, "someone else's")
    with pytest.raises(ReleaseError, match=rf"points at {OTHER}, not .*pass --tag"):
        run(plan, github)
    assert github.writes == []


def test_a_published_asset_is_never_replaced(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    run(plan, github)
    bigger = replace(plan, assets=(replace(plan.assets[2], size=plan.assets[2].size + 1),))
    github.calls.clear()
    with pytest.raises(ReleaseError, match=r"published release .* different model\.Q4_K_M\.gguf"):
        run(bigger, github)
    assert github.writes == []


def test_new_notes_update_a_published_release_in_place(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    run(plan, github)
    github.calls.clear()

    assert run(replace(plan, notes="## notes, corrected\n"), github) == ["update the release notes"]
    assert names_of_writes(github) == ["edit_release"]


def test_a_dry_run_reads_the_real_state_and_writes_nothing(plan: ReleasePlan) -> None:
    github = InMemoryReleases()
    github.failing_uploads.add("loss.png")
    with pytest.raises(GitHubError):
        run(plan, github)
    before = names_of_writes(github)
    dry = DryRunReleases(github)

    said = run(plan, dry)

    assert said == [
        "upload loss.png (308 B)",
        "upload scores.png (208 B)",
        "publish release 'Community build 2026.11.21-1'",
    ]
    assert [c.name for c in dry.calls] == ["upload_asset", "upload_asset", "edit_release"]
    assert names_of_writes(github) == before


def test_a_dry_run_of_a_first_release_plans_every_step() -> None:
    dry = DryRunReleases(InMemoryReleases())
    plan = ReleasePlan(TAG, COMMIT, "t", "n", (), None, False)
    assert run(plan, dry) == [
        f"create tag {TAG} at {COMMIT} on {REPO}",
        "create draft release 't'",
        "publish release 't'",
    ]
