"""`taxonbot announce --post` over real HTTP: PyGithub talking to the fake GitHub on loopback.

Stories: the two PRs a build trained on get one comment each and the same command again writes
nothing; a comment POST that GitHub stored but answered 502 is found, not posted twice; a PR
that was deleted, or that GitHub keeps failing on, is one line and the other PR still gets its
comment. (tests/doubles/fake_github.py does not know a PR's merge commit; the subclass here adds
it.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from tests.doubles.fake_github import APP_TOKEN, FakeGitHub, no_proxies
from tests.release import History
from tests.release.test_announce import REPO, RUN_URL, VERSION, manifest_of, merged_history, record

BOT = "github-actions[bot]"


class MergedPullsFake(FakeGitHub):
    def __init__(self) -> None:
        super().__init__()
        self.merge_commits: dict[tuple[str, int], str] = {}

    def merge(self, repo: str, number: int, sha: str) -> None:
        self.add_pull(repo, number, "1" * 40)
        self.close(repo, number, merged=True)
        self.merge_commits[(repo, number)] = sha

    def pull_json(self, pull: Any) -> dict[str, Any]:
        data = super().pull_json(pull)
        data["merge_commit_sha"] = self.merge_commits.get((pull.repo, pull.number))
        return data


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[MergedPullsFake]:
    no_proxies(monkeypatch)
    server = MergedPullsFake()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    monkeypatch.setenv("GITHUB_TOKEN", APP_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", server.url)
    # PyGithub paces requests and the adapter backs off between tries; the fake needs neither.
    monkeypatch.setattr("taxonbot.github.retry.time.sleep", lambda s: None)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def folder(history: History, tmp_path: Path, fake: MergedPullsFake) -> Path:
    base, shas = merged_history(history)
    for number in (4, 7):
        fake.merge(REPO, number, shas[str(number)])
    return record(tmp_path / "build-record", manifest_of(history, base))


def post(folder: Path) -> int:
    argv = ["announce", "--build", str(folder), "--repo", REPO, "--run-url", RUN_URL, "--post"]
    return main(argv)


def ours(fake: FakeGitHub, number: int) -> list[str]:
    return [c.body for c in fake.comments_on(REPO, number) if c.author == BOT]


def test_each_pr_gets_one_comment_and_the_same_command_again_writes_nothing(
    fake: MergedPullsFake, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert post(folder) == 0
    (four,), (seven,) = ours(fake, 4), ours(fake, 7)
    assert f"<!-- taxonbot:build {VERSION} -->" in four and RUN_URL in four
    assert "score 0.412 → 0.498 (+0.086)" in four and "score 0.301 → 0.455" in seven
    writes = len(fake.writes())
    assert writes == 2

    assert post(folder) == 0
    assert len(fake.writes()) == writes, "a re-run writes nothing"
    out = capsys.readouterr().out
    assert "nothing written, 2 already right" in out and "0 writes" in out.splitlines()[-1]


def test_a_comment_stored_but_answered_502_is_not_posted_twice(
    fake: MergedPullsFake, folder: Path
) -> None:
    fake.fail_next("store-then-502", method="POST", path=r".*/issues/4/comments")
    assert post(folder) == 0
    assert len(ours(fake, 4)) == 1 and len(ours(fake, 7)) == 1


def test_a_deleted_pr_and_one_github_keeps_failing_on_are_one_line_each(
    fake: MergedPullsFake, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    del fake.pulls[(REPO, 4)]  # deleted (or transferred): GitHub answers 404
    fake.fail_next("502", method="GET", path=r".*/pulls/7", times=4)

    assert post(folder) == 1

    out, err = capsys.readouterr()
    problems = [line for line in out.splitlines() if "GitHub" in line and "PR " in line]
    assert len(problems) == 2 and "Traceback" not in out + err
    assert "PR 4: GitHub refused reading pull request 4 of community/taxonomy: 404" in problems[0]
    assert problems[1].startswith("  PR 7: GitHub did not answer reading pull request 7")
    assert "2 failed" in out


def test_a_refused_comment_does_not_stop_the_next_pr(
    fake: MergedPullsFake, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail_next("500", method="POST", path=r".*/issues/4/comments", times=4)
    assert post(folder) == 1
    assert ours(fake, 4) == [] and len(ours(fake, 7)) == 1
    out = capsys.readouterr().out
    assert "PR 4: GitHub did not answer posting the comment" in out and "Traceback" not in out
