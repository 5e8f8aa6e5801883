"""A build tells the pull requests it trained on: one short comment each, written once.

Stories: a build that trained 2 leaves from PRs 4 and 7 gives each one comment with the version,
its leaf's score before → after and the link; the same run again writes nothing; once the
release is published the same comments link it instead. A direct push, a PR that changed no
leaf and a PR whose leaf failed generation get nothing. A PR GitHub refuses or lost is one line
and the others still get theirs. Nothing in a comment pings anyone.

The planning is tested as plain functions; GitHub is `RecordingPulls` (tests/doubles/announce.py),
an in-memory fake of the port the command talks to.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.github.values import Comment
from taxonbot.release.announce import (
    AnnounceError,
    BuildNews,
    Credit,
    LeafScore,
    Link,
    Write,
    choose_link,
    comment_body,
    marker,
    plan_announcements,
    publish,
    read_news,
    reconcile,
)
from taxonbot.release.announce_github import DryRunAnnounce
from taxonbot.release.manifest import read_manifest
from taxonbot.taxonomy.contributions import contributions_between
from tests.doubles.announce import RecordingPulls
from tests.release import BOB, JANE, MAINTAINER, VERSION, History

REPO = "community/taxonomy"
BOT = "github-actions[bot]"
RUN_URL = "https://github.com/community/taxonomy/actions/runs/42"
RELEASE_URL = f"https://github.com/community/taxonomy/releases/tag/build-{VERSION}"
HAIKU = "compositional_skills/writing/haiku"
ROME = "knowledge/history/rome"
MARS = "knowledge/astronomy/mars"
LIMERICK = "compositional_skills/writing/limerick"
JUPITER = "knowledge/astronomy/jupiter"
SCORES = {HAIKU: (0.412, 0.498), ROME: (0.301, 0.455), MARS: (0.2, 0.25)}


# ---- a build as `taxonbot build` records it --------------------------------------------------


def merged_history(history: History) -> tuple[str, dict[str, str]]:
    """Since the previous build: PR 4 (a fork's merge commit), PR 7 (squash), a direct push,
    PR 8 (docs only) and PR 9 (a leaf whose generation failed)."""
    history.leaf(JUPITER, "Jupiter")
    base = history.commit("Initial tree", author=MAINTAINER)
    history.branch("haiku")
    history.leaf(HAIKU, "Haiku")
    history.commit("Add a haiku skill", author=BOB)
    shas = {"4": history.merge_pr(4, "bobstone", "haiku", "Add haiku writing")}
    history.leaf(ROME, "Rome")
    shas["7"] = history.commit("Knowledge: Rome (#7)", author=JANE)
    history.leaf(MARS, "Mars")
    history.commit("Mars facts", author=MAINTAINER)
    history.write("README.md", "docs\n")
    history.commit("Contributor docs (#8)", author=JANE)
    history.leaf(LIMERICK, "Limerick")
    shas["9"] = history.commit("Limericks (#9)", author=JANE)
    return base, shas


def manifest_of(history: History, base: str, **changes: Any) -> dict[str, Any]:
    head = history.head()
    credited = contributions_between(
        str(history.root), base, head
    )  # as taxonbot/modelbuild/run.py credits
    trained = [JUPITER, HAIKU, ROME, MARS]
    leaves = [{"leaf": x, "path": f"taxonomy/{x}/qna.yaml", "status": "generated"} for x in trained]
    leaves.append({"leaf": LIMERICK, "path": f"taxonomy/{LIMERICK}/qna.yaml", "status": "failed"})
    scored = [
        {"path": f"/work/tree/taxonomy/{x}/qna.yaml", "name": x, "before": b, "after": a}
        for x, (b, a) in SCORES.items()
    ]
    return {
        "format": "taxonbot-build/1",
        "version": VERSION,
        "taxonomy_commit": head,
        "previous": {"version": "2026.11.14-1", "taxonomy_commit": base},
        "data": {"leaves": leaves},
        "evaluation": {"publishable": True, "baseline": "previous_build", "leaves": scored},
        "publishable": True,
        "contributions": [c.to_json() for c in credited if c.changes_taxonomy],
        **changes,
    }


def record(folder: Path, manifest: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return folder


@pytest.fixture
def built(history: History, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    base, shas = merged_history(history)
    return record(tmp_path / "build-record", manifest_of(history, base)), shas


def news_of(folder: Path) -> BuildNews:
    raw = json.loads((folder / "manifest.json").read_text("utf-8"))
    return read_news(read_manifest(str(folder)), raw)


def github_with(shas: dict[str, str]) -> RecordingPulls:
    github = RecordingPulls(BOT)
    for number, sha in shas.items():
        github.add_pull(REPO, int(number), sha)
    return github


def announce(folder: Path, github: Any, run_url: str | None = RUN_URL) -> Any:
    news = news_of(folder)
    link = choose_link(news, github.release_url(REPO, news.tag), run_url)
    plan = plan_announcements(news, news.credits or (), link)
    lines: list[str] = []
    return publish(plan, news, REPO, github, lines.append), lines


# ---- the story -------------------------------------------------------------------------------


def test_a_build_from_prs_4_and_7_comments_once_on_each_and_a_rerun_writes_nothing(
    built: tuple[Path, dict[str, str]],
) -> None:
    folder, shas = built
    github = github_with(shas)

    outcome, _ = announce(folder, github)

    assert [(c.name, c.args[1]) for c in github.writes] == [
        ("create_comment", 4),
        ("create_comment", 7),
    ]
    assert outcome.written["create"] == 2 and outcome.failed == 0
    (haiku,) = github.bodies(REPO, 4)
    assert haiku.startswith(marker(VERSION))
    assert f"Community build `{VERSION}`" in haiku
    assert f"`{HAIKU}`: score 0.412 → 0.498 (+0.086)" in haiku
    assert f"]({RUN_URL})" in haiku
    (rome,) = github.bodies(REPO, 7)
    assert f"`{ROME}`: score 0.301 → 0.455 (+0.154)" in rome and HAIKU not in rome
    assert github.bodies(REPO, 9) == [], "its leaf failed generation: not trained"

    github.calls.clear()
    outcome, lines = announce(folder, github)

    assert github.writes == [] and outcome.unchanged == 2 and lines == []


def test_once_the_release_is_published_the_same_comments_link_it(
    built: tuple[Path, dict[str, str]],
) -> None:
    folder, shas = built
    github = github_with(shas)
    announce(folder, github)
    github.releases[(REPO, f"build-{VERSION}")] = RELEASE_URL
    github.calls.clear()

    announce(folder, github, run_url=None)

    assert [c.name for c in github.writes] == ["edit_comment", "edit_comment"]
    (body,) = github.bodies(REPO, 4)
    assert f"[Release build-{VERSION}]({RELEASE_URL})" in body and RUN_URL not in body
    github.calls.clear()
    announce(folder, github, run_url=RUN_URL)
    assert github.writes == [], "a release, once published, stays the link"


def test_the_dry_run_reads_and_records_what_it_would_write(
    built: tuple[Path, dict[str, str]],
) -> None:
    folder, shas = built
    github = github_with(shas)
    dry = DryRunAnnounce(github)

    outcome, lines = announce(folder, dry)

    assert github.writes == [] and [c.name for c in dry.calls] == ["create_comment"] * 2
    assert lines == ["PR 4: post the comment", "PR 7: post the comment"]
    assert outcome.written["create"] == 2


# ---- which pull requests ---------------------------------------------------------------------


def test_direct_pushes_and_prs_without_a_trained_leaf_get_nothing(
    built: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = built
    news = news_of(folder)
    assert news.credits is not None
    assert [c.number for c in news.credits] == [4, 7, 9], "the push has no number; 8 no leaf"
    plan = plan_announcements(news, news.credits, Link("Release", RELEASE_URL))
    assert [(a.number, a.leaves) for a in plan] == [(4, (HAIKU,)), (7, (ROME,))]


def test_a_deleted_leaf_is_not_trained_and_a_pr_listed_twice_gets_one_comment() -> None:
    news = build_news(trained={HAIKU, ROME})
    credits = [
        Credit(3, "a" * 40, ()),  # only deleted leaves: nothing left to train on
        Credit(5, "b" * 40, (HAIKU,)),
        Credit(5, "c" * 40, (ROME,)),  # reverted and merged again
    ]
    (only,) = plan_announcements(news, credits, None)
    assert (only.number, only.sha, only.leaves) == (5, "c" * 40, (HAIKU, ROME))


def test_a_manifest_that_is_not_a_build_record_is_refused(tmp_path: Path) -> None:
    folder = record(tmp_path / "b", {"version": VERSION, "taxonomy_commit": "a" * 40})
    raw = {"version": VERSION, "taxonomy_commit": "a" * 40, "publishable": True}
    (folder / "manifest.json").write_text(json.dumps(raw), "utf-8")
    with pytest.raises(AnnounceError, match=r"data\.leaves"):
        news_of(folder)


# ---- the comment -----------------------------------------------------------------------------


def build_news(**changes: Any) -> BuildNews:
    fields: dict[str, Any] = {
        "version": VERSION,
        "taxonomy_commit": "f" * 40,
        "previous_commit": "e" * 40,
        "publishable": True,
        "baseline": "the previous build",
        "trained": frozenset({HAIKU}),
        "scores": {HAIKU: LeafScore(0.412, 0.498)},
        "credits": (),
    }
    fields.update(changes)
    fields["trained"] = frozenset(fields["trained"])
    return BuildNews(**fields)


def test_the_comment_says_the_version_the_score_and_the_link() -> None:
    body = comment_body(build_news(), [HAIKU], Link(f"Release build-{VERSION}", RELEASE_URL))
    assert body == (
        f"<!-- taxonbot:build {VERSION} -->\n"
        f"Community build `{VERSION}` trained on this pull request's leaf:\n"
        "\n"
        f"- `{HAIKU}`: score 0.412 → 0.498 (+0.086)\n"
        "\n"
        "Score: how close the model's answers to the leaf's seed questions come to their "
        "answers, 0 to 1, before (the previous build) and after. By its own evaluation the "
        "build is publishable.\n"
        "\n"
        f"[Release build-{VERSION}]({RELEASE_URL})\n"
    )


def test_a_leaf_the_evaluation_did_not_score_and_a_rejected_build_say_so() -> None:
    news = build_news(publishable=False, trained={HAIKU, ROME}, baseline="the base model")
    body = comment_body(news, [HAIKU, ROME], None)
    assert "this pull request's 2 leaves" in body
    assert f"`{ROME}`: trained, not scored" in body
    assert "before (the base model)" in body and "the build is not publishable" in body
    assert "](" not in body, "no link without one to give"


def test_untrusted_leaf_names_ping_nobody_and_link_nothing() -> None:
    hostile = "compositional_skills/@org/team #12 <img src=x> `x` https://evil.example/pr/1"
    body = comment_body(build_news(trained={hostile}), [hostile], Link("Release", RELEASE_URL))
    text = body.replace(f"({RELEASE_URL})", "")
    assert not re.search(r"@[A-Za-z0-9]", text) and not re.search(r"#\d", text)
    assert "https://evil" not in text
    (line,) = [x for x in body.splitlines() if x.startswith("- ")]
    span = re.fullmatch(r"- `([^`]*)`: trained, not scored .*", line)
    assert span is not None and "<img" in span[1], "HTML shown as code, never rendered"
    assert body.count("<!--") == 1


def test_only_our_own_safe_addresses_become_links() -> None:
    news = build_news()
    assert choose_link(news, RELEASE_URL, RUN_URL) == Link(f"Release build-{VERSION}", RELEASE_URL)
    assert choose_link(news, None, RUN_URL).url == RUN_URL  # type: ignore[union-attr]
    assert choose_link(news, "javascript:alert(1)", None) is None
    assert choose_link(news, None, "https://x.example/a) [y](https://z") is None


# ---- reconcile -------------------------------------------------------------------------------


def test_reconcile_writes_only_the_difference() -> None:
    body = comment_body(build_news(), [HAIKU], None)
    ours = Comment(10, BOT, body)
    assert reconcile([], BOT, VERSION, body) == [Write("create", None, body)]
    assert reconcile([ours], BOT, VERSION, body) == []
    assert reconcile([Comment(10, BOT, marker(VERSION) + "\nold")], BOT, VERSION, body) == [
        Write("edit", 10, body)
    ]
    twice = [Comment(12, BOT, body), ours]
    assert reconcile(twice, BOT, VERSION, body) == [Write("delete", 12)]


def test_reconcile_leaves_other_builds_and_other_peoples_copies_alone() -> None:
    body = comment_body(build_news(), [HAIKU], None)
    others = [
        Comment(1, BOT, marker("2026.11.14-1") + "\nan older build"),
        Comment(2, "someone", body),  # a quote of our comment by a person
        Comment(3, BOT, "<!-- taxonbot:comment -->\nthe PR bot's sticky comment"),
    ]
    assert reconcile(others, BOT, VERSION, body) == [Write("create", None, body)]


# ---- errors: one line each, the others still done --------------------------------------------


def test_a_refused_or_deleted_pr_is_one_line_and_the_others_still_get_theirs(
    built: tuple[Path, dict[str, str]],
) -> None:
    folder, shas = built
    github = RecordingPulls(BOT)
    github.add_pull(REPO, 7, shas["7"])
    github.refusing[(REPO, 4)] = (
        "GitHub refused reading pull request 4 of community/taxonomy: 403 Forbidden"
    )

    outcome, lines = announce(folder, github)

    assert [c.args[1] for c in github.writes] == [7]
    assert outcome.failed == 1 and len(lines) == 2
    assert lines[0].startswith("PR 4: GitHub refused") and "\n" not in lines[0]

    del github.refusing[(REPO, 4)]  # then deleted: GitHub answers 404
    outcome, lines = announce(folder, github)
    assert outcome.failed == 1 and outcome.unchanged == 1
    assert lines == [
        "PR 4: GitHub refused reading pull request 4 of community/taxonomy: 404; nothing "
        "more written there"
    ]


def test_a_pr_github_says_was_merged_as_another_commit_is_skipped(
    built: tuple[Path, dict[str, str]],
) -> None:
    folder, shas = built
    github = github_with({**shas, "4": "0" * 40})
    github.add_pull(REPO, 7, shas["7"], merged=False)

    outcome, lines = announce(folder, github)

    assert github.writes == [] and outcome.skipped == 2
    assert lines[0] == f"PR 4: GitHub says it is merged as {'0' * 40}, not as {shas['4']}; skipped"
    assert lines[1].startswith("PR 7: GitHub says it is not merged")


# ---- the command line ------------------------------------------------------------------------


def test_the_offline_dry_run_prints_each_comment_and_writes_nothing(
    built: tuple[Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, _ = built
    for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)

    assert main(["announce", "--build", str(folder), "--run-url", RUN_URL]) == 0

    out = capsys.readouterr().out
    assert "dry run, offline" in out and "with a leaf this build trained: 2" in out
    assert out.count(marker(VERSION)) == 2 and "--- PR 4 ---" in out and "--- PR 7 ---" in out


def test_the_command_lists_the_prs_from_git_when_asked(
    built: tuple[Path, dict[str, str]],
    history: History,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, shas = built
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    del manifest["contributions"]
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)

    assert main(["announce", "--build", str(folder)]) == 2
    assert "--taxonomy" in capsys.readouterr().err

    assert main(["announce", "--build", str(folder), "--taxonomy", str(history.root)]) == 0
    out = capsys.readouterr().out
    assert f"PR 4 (merged as {shas['4'][:12]}): {HAIKU}" in out
    assert f"PR 7 (merged as {shas['7'][:12]}): {ROME}" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--post"], "--post needs GITHUB_TOKEN"),
        (["--run-url", "http://insecure.example/run"], "not an https address"),
        (["--repo", "no-slash"], "OWNER/NAME"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    built: tuple[Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    said: str,
) -> None:
    folder, _ = built
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    assert main(["announce", "--build", str(folder), *argv]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_missing_build_record_says_what_to_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["announce", "--build", str(tmp_path / "nothing")]) == 2
    assert "pass --build the folder" in capsys.readouterr().err
