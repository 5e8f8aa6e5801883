"""`taxonbot release cut` end to end: a real taxonomy history, a build folder, and PyGithub
talking over real HTTP to the fake GitHub on loopback.

Stories: a release manager looks at the plan first (nothing is written to GitHub), then posts:
one annotated tag, one release, every asset once; the same command again writes nothing; an
upload that breaks off midway fails the run, and the next run finishes it without duplicates; a
build its own evaluation rejected is refused unless forced.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxonbot.cli.main import main
from tests.doubles.fake_github import APP_TOKEN, FakeGitHubReleases, serve_releases
from tests.release import BOB, JANE, VERSION, History, make_build

REPO = "community/taxonomy"
TAG, PREVIOUS = f"build-{VERSION}", "build-2026.11.14-1"
HAIKU = "compositional_skills/writing/haiku"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHubReleases]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)  # requests would send loopback to a proxy
    with serve_releases() as server:
        monkeypatch.setenv("GITHUB_TOKEN", APP_TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
        # PyGithub paces requests and the adapter backs off between tries; the fake needs neither.
        monkeypatch.setattr("taxonbot.github.retry.time.sleep", lambda s: None)
        yield server


@pytest.fixture
def build(history: History, tmp_path: Path) -> Path:
    """Two builds ago the tree had Jupiter; since, a fork's PR and a squash merge came in."""
    history.leaf("knowledge/astronomy/jupiter", "Jupiter")
    history.commit("Initial tree")
    history.tag("build-2026.11.07-1")
    history.leaf("knowledge/history/rome", "Rome")
    history.commit("Add Rome (#3)")
    history.tag(PREVIOUS)
    history.branch("haiku")
    history.leaf(HAIKU, "Haiku")
    history.commit("Add a haiku skill", author=BOB)
    history.merge_pr(12, "bobstone", "haiku", "Add haiku writing <img src=x> @org/team #1")
    history.tag("build-9999-lightweight", annotated=False)  # nearer, but not a build record
    history.write("README.md", "docs\n")
    history.commit("Contributor docs (#13)", author=JANE)
    history.git("commit", "--quiet", "--allow-empty", "-m", "After the build")
    return make_build(tmp_path / "build", history.head("HEAD~1"))


def cut(history: History, build: Path, *extra: str) -> int:
    return main(["release", "cut", "--build", str(build), "--taxonomy", str(history.tree), *extra])


def writes(fake: FakeGitHubReleases) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.writes()]


def test_the_dry_run_shows_the_plan_and_writes_nothing_to_github(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cut(history, build) == 0

    out = capsys.readouterr().out
    commit = json.loads((build / "manifest.json").read_text("utf-8"))["taxonomy_commit"]
    assert f"tag:           {TAG} at {commit} (annotated)" in out
    assert f"since:         {PREVIOUS}" in out
    counted = "1 changing the taxonomy (1 pull requests, 0 direct commits); 1 other"
    assert f"contributions: {counted}" in out
    size = (build / "model.Q4_K_M.gguf").stat().st_size
    assert f"model.Q4_K_M.gguf          {size:,} bytes" in out
    assert f"GitHub {REPO} would get:\n    create tag {TAG} at {commit} on {REPO}" in out
    assert "    upload scores.png (208 B)\n    publish release" in out
    assert writes(fake) == [] and fake.requests  # it read, it did not write
    assert history.git("tag", "--list", TAG) == ""
    notes = (build / "RELEASE_NOTES.md").read_text("utf-8")
    assert f"contributions merged since `{PREVIOUS}`" in notes
    title = "Add haiku writing &lt;img src=x&gt; @\u200borg/team #\u200b1"
    assert f"- PR 12: {title}, by Bob Stone (`bobstone`)" in notes


def test_without_a_token_the_plan_is_made_offline(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    assert cut(history, build) == 0
    assert "a repository with no release yet (set GITHUB_TOKEN" in capsys.readouterr().out
    assert fake.requests == []


def test_post_makes_one_tag_one_release_and_every_asset_once_and_again_writes_nothing(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    commit = json.loads((build / "manifest.json").read_text("utf-8"))["taxonomy_commit"]
    assert cut(history, build, "--post") == 0

    (release,) = fake.releases_of(REPO)
    assert (release.tag, release.name, release.draft) == (TAG, f"Community build {VERSION}", False)
    assert release.body == (build / "RELEASE_NOTES.md").read_text("utf-8")
    assets = {a.name: a for a in fake.assets_of(release.id)}
    assert sorted(assets) == sorted(
        ["manifest.json", "README.md", "model.Q4_K_M.gguf", "loss.png", "scores.png"]
    )
    assert assets["model.Q4_K_M.gguf"].data == (build / "model.Q4_K_M.gguf").read_bytes()
    assert assets["loss.png"].content_type == "image/png"
    assert fake.tag_commit(REPO, TAG) == commit
    assert fake.refs[(REPO, f"refs/tags/{TAG}")] in fake.tag_objects  # annotated on GitHub too
    assert history.git("cat-file", "-t", TAG) == "tag"  # and here
    assert history.head(f"{TAG}^{{commit}}") == commit
    capsys.readouterr()

    assert cut(history, build, "--post") == 0

    assert len(fake.releases_of(REPO)) == 1 and len(fake.assets) == 5
    assert writes(fake).count(("POST", f"/repos/{REPO}/releases")) == 1
    assert f"{REPO} has release {TAG} (" in capsys.readouterr().out
    assert fake.writes()[-1].method == "PATCH"  # the last write is still the first run's publish


def test_an_upload_that_breaks_off_fails_the_run_and_the_next_run_finishes_it(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.break_next_upload("model.Q4_K_M.gguf", times=4)  # every try of the first run

    assert cut(history, build, "--post") == 1

    err = capsys.readouterr().err
    assert "GitHub did not answer uploading model.Q4_K_M.gguf" in err and "re-run" in err
    (draft,) = fake.releases_of(REPO)
    assert draft.draft  # nobody sees a release without its model
    # Each broken try's leftover was removed before the next: none stays behind.
    assert [(a.name, a.state) for a in fake.assets_of(draft.id)] == [
        ("manifest.json", "uploaded"),
        ("README.md", "uploaded"),
    ]
    # A run killed midway (no chance to clean up) leaves GitHub's "starter" asset.
    stale = fake.add_asset(draft.id, "loss.png", b"\x89PNG", state="starter")

    assert cut(history, build, "--post") == 0

    (release,) = fake.releases_of(REPO)
    assets = fake.assets_of(release.id)
    assert not release.draft
    assert sorted(a.name for a in assets) == sorted(
        ["manifest.json", "README.md", "model.Q4_K_M.gguf", "loss.png", "scores.png"]
    )
    assert {a.state for a in assets} == {"uploaded"} and stale not in fake.assets
    assert writes(fake).count(("POST", f"/repos/{REPO}/releases")) == 1


def test_a_release_stored_but_answered_502_is_found_not_made_twice(
    fake: FakeGitHubReleases, history: History, build: Path
) -> None:
    fake.fail_next("store-then-502", method="POST", path=f"/repos/{REPO}/releases")
    fake.fail_next("store-then-drop", method="POST", path=rf"/repos/{REPO}/releases/\d+/assets")

    assert cut(history, build, "--post") == 0

    (release,) = fake.releases_of(REPO)
    assert len(fake.assets_of(release.id)) == 5 and not release.draft


def test_a_build_its_evaluation_rejected_is_refused_unless_forced(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    manifest.update(publishable=False, evaluation={"summary": "regression -4.1%"})
    (build / "manifest.json").write_text(json.dumps(manifest), "utf-8")

    assert cut(history, build, "--post") == 1

    assert (
        "not publishable by its own branch evaluation (regression -4.1%)" in capsys.readouterr().err
    )
    assert fake.requests == [] and not (build / "RELEASE_NOTES.md").exists()

    assert cut(history, build, "--post", "--force") == 0

    (release,) = fake.releases_of(REPO)
    assert "released anyway with `--force`" in release.body


def test_since_and_tag_override_the_defaults(
    fake: FakeGitHubReleases, history: History, build: Path
) -> None:
    assert cut(history, build, "--since", "build-2026.11.07-1", "--tag", "build-special") == 0
    notes = (build / "RELEASE_NOTES.md").read_text("utf-8")
    assert "since `build-2026.11.07-1`" in notes and "PR 3: Add Rome" in notes


@pytest.mark.parametrize(
    ("extra", "code", "said"),
    [
        (("--since", "build-0.1"), 2, "git does not know `build-0.1`"),
        (("--tag", "v1"), 2, "`v1` cannot be a build tag"),
        (("--repo", "just-a-name"), 2, "--repo must be OWNER/NAME"),
    ],
)
def test_bad_arguments_are_usage_errors_that_say_what_to_do(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    code: int,
    said: str,
) -> None:
    assert cut(history, build, *extra) == code
    assert said in capsys.readouterr().err
    assert writes(fake) == []


def test_post_without_a_token_is_a_usage_error(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    assert cut(history, build, "--post") == 2
    assert "--post needs GITHUB_TOKEN; nothing was tagged or released" in capsys.readouterr().err
    assert history.git("tag", "--list", TAG) == ""


def test_a_build_made_from_a_commit_this_clone_lacks_is_refused(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manifest = json.loads((build / "manifest.json").read_text("utf-8"))
    manifest["taxonomy_commit"] = "e" * 40
    (build / "manifest.json").write_text(json.dumps(manifest), "utf-8")

    assert cut(history, build) == 1
    assert f"taxonomy commit {'e' * 40} is not in this clone" in capsys.readouterr().err


def test_a_tag_here_at_another_commit_is_never_moved(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    history.tag(TAG, "HEAD")  # HEAD is one commit after the build's
    assert cut(history, build, "--post") == 1
    assert f"tag {TAG} already exists here at" in capsys.readouterr().err
    assert writes(fake) == []


def test_release_without_an_action_is_a_usage_error() -> None:
    assert main(["release"]) == 2


def test_a_rate_limit_on_the_way_is_waited_out(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("taxonbot.github.retry.time.sleep", waits.append)
    fake.fail_next(
        "secondary-rate-limit", method="GET", path=f"/repos/{REPO}/releases", retry_after=7
    )

    assert cut(history, build, "--post") == 0

    assert 7.0 in waits
    assert len(fake.releases_of(REPO)) == 1


def test_an_upload_held_back_by_a_rate_limit_is_sent_again_whole(
    fake: FakeGitHubReleases, history: History, build: Path
) -> None:
    """The file is opened again for each try, so the second try sends it from its first byte."""
    fake.fail_next(
        "secondary-rate-limit", method="POST", path=rf"/repos/{REPO}/releases/\d+/assets"
    )

    assert cut(history, build, "--post") == 0

    (release,) = fake.releases_of(REPO)
    sent = {a.name: a.data for a in fake.assets_of(release.id)}
    assert len(sent) == 5 and sent["manifest.json"] == (build / "manifest.json").read_bytes()
    uploads = [w for w in writes(fake) if w[1].endswith("/assets")]
    assert len(uploads) == 6  # five assets, one of them twice


def test_a_rate_limit_wait_beyond_the_cap_stops_with_what_to_do(
    fake: FakeGitHubReleases,
    history: History,
    build: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake.fail_next("secondary-rate-limit", method="GET", retry_after=3600)

    assert cut(history, build, "--post") == 1

    assert "asks us to wait 3600s" in capsys.readouterr().err
    assert writes(fake) == []
