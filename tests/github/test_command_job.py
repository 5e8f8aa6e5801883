"""The command job end to end: `taxonbot command` on an issue_comment event file, PyGithub
talking over real HTTP to the fake GitHub on loopback.

Stories: a maintainer's `/taxonbot help` lands in the one sticky comment (never a second one);
anyone else gets a polite refusal and starts nothing; `recheck` re-runs exactly the newest pr.yml
run of the current head, and says so plainly when there is none; `preview --pairs N` leaves its
request where that run reads it, before starting it; comments that are no command, or not on a
pull request, write nothing; a dry run writes nothing; the commenter's words never ping or link
anyone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from taxonbot.cli.main import main
from taxonbot.comment.reply import REPLY_CLOSE, preview_request
from taxonbot.comment.reply import REPLY_PREFIX as REPLY_OPEN
from taxonbot.github.markers import MARKER
from taxonbot.github.values import Comment
from tests.doubles.fake_github import PAYLOADS, FakeGitHub, serve_as_actions

REPO, FORK, NUMBER = "community/taxonomy", "contributor/taxonomy", 12
SHA, OLD_SHA = "c" * 40, "b" * 40
BOT, MAINTAINER = "github-actions[bot]", "maintainer-jo"
EVENT = PAYLOADS / "issue_comment" / "created.payload.json"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with serve_as_actions(monkeypatch, REPO) as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK)
        yield server


def event(
    body: str,
    comment_id: int,
    *,
    association: str = "MEMBER",
    login: str = MAINTAINER,
    on_pull: bool = True,
    action: str = "created",
) -> dict[str, Any]:
    """An issue_comment event: GitHub's own example (tests/fixtures/github-payloads)."""
    payload: dict[str, Any] = json.loads(EVENT.read_text("utf-8"))
    payload["action"] = action
    payload["repository"]["full_name"] = REPO
    payload["issue"]["number"] = NUMBER
    payload["issue"].pop("pull_request", None)
    if on_pull:
        payload["issue"]["pull_request"] = {"url": f"https://api.github.com/repos/{REPO}/pulls/12"}
    comment = payload["comment"]
    comment.update(id=comment_id, body=body, author_association=association)
    comment["user"].update(login=login, type="User")
    return payload


def command(tmp_path: Path, payload: dict[str, Any], *extra: str) -> int:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload), "utf-8")
    return main(["command", "--event", str(path), "--repo", REPO, *extra])


def say(fake: FakeGitHub, body: str, login: str = MAINTAINER) -> int:
    """The comment as it is on the pull request; the event refers to it by id."""
    return fake.add_comment(REPO, NUMBER, login, body)


def ours(fake: FakeGitHub) -> list[str]:
    return [c.body for c in fake.comments_on(REPO, NUMBER) if c.author == BOT]


def reruns(fake: FakeGitHub) -> list[str]:
    return [r.path for r in fake.writes() if r.path.endswith("/rerun")]


def reactions(fake: FakeGitHub, comment_id: int) -> list[str]:
    return [content for _, content in fake.comments[comment_id].reactions]


def test_a_members_help_goes_into_a_new_sticky_comment(fake: FakeGitHub, tmp_path: Path) -> None:
    said = say(fake, "/taxonbot help")
    assert command(tmp_path, event("/taxonbot help", said), "--post") == 0
    (body,) = ours(fake)
    assert body.startswith(MARKER + "\n\n" + REPLY_OPEN)
    assert body.rstrip().endswith(REPLY_CLOSE)
    assert "taxonbot commands" in body and f"`{MAINTAINER}`" in body
    assert "@" not in body, "the reply names the commenter; it never pings"
    assert reactions(fake, said) == ["eyes"]


def test_the_reply_replaces_the_last_one_in_the_existing_sticky_comment(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    sticky = fake.add_comment(REPO, NUMBER, BOT, f"{MARKER}\n## taxonbot\n\nAll checks passed.")
    fake.add_comment(REPO, NUMBER, "someone", f"{MARKER}\nnot ours: another author")
    for text in ("/taxonbot help", "/taxonbot frobnicate"):
        assert command(tmp_path, event(text, say(fake, text)), "--post") == 0
    (body,) = ours(fake)
    assert fake.comments[sticky].body == body
    assert body.startswith(f"{MARKER}\n## taxonbot\n\nAll checks passed.\n\n{REPLY_OPEN}")
    assert body.count(REPLY_OPEN) == body.count(REPLY_CLOSE) == 1
    assert "`/taxonbot frobnicate`" in body
    assert [r.method for r in fake.writes()].count("POST") == 2, "two reactions, no comment"


@pytest.mark.parametrize("association", ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE"])
def test_anyone_else_gets_a_reaction_and_starts_nothing(
    fake: FakeGitHub, tmp_path: Path, association: str
) -> None:
    """Only a reaction: a reply would replace a maintainer's pending one (and its preview
    request), and would let anyone make the write job edit our comment at will."""
    fake.add_run(REPO, "pr.yml", SHA, 501)
    said = say(fake, "/taxonbot recheck", login="passer-by")
    payload = event("/taxonbot recheck", said, association=association, login="passer-by")
    assert command(tmp_path, payload, "--post") == 0
    assert ours(fake) == []
    assert reruns(fake) == [] and fake.runs[501].reruns == 0
    assert reactions(fake, said) == ["-1"]
    assert [w.path for w in fake.writes()] == [f"/repos/{REPO}/issues/comments/{said}/reactions"]


def test_a_non_members_command_never_replaces_a_maintainers_pending_request(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.add_run(REPO, "pr.yml", SHA, 601)
    asked = say(fake, "/taxonbot preview --pairs 7")
    assert command(tmp_path, event("/taxonbot preview --pairs 7", asked), "--post") == 0
    (before,) = ours(fake)
    for index in range(3):
        said = say(fake, f"/taxonbot preview --pairs {index + 1}", login="passer-by")
        payload = event(
            f"/taxonbot preview --pairs {index + 1}", said, association="NONE", login="passer-by"
        )
        assert command(tmp_path, payload, "--post") == 0
    assert ours(fake) == [before]
    comments = [Comment(c.id, c.author, c.body) for c in fake.comments_on(REPO, NUMBER)]
    assert preview_request(comments, BOT, SHA) == 7


def test_recheck_reruns_exactly_the_newest_run_of_the_current_head(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.add_run(REPO, "pr.yml", SHA, 701)
    fake.add_run(REPO, "pr.yml", SHA, 702)  # the newest for this head
    fake.add_run(REPO, "pr.yml", OLD_SHA, 703)  # newer, but for a commit no longer the head
    fake.add_run(REPO, "comment.yml", SHA, 704)  # another workflow
    said = say(fake, "/taxonbot recheck")
    assert command(tmp_path, event("/taxonbot recheck", said), "--post") == 0
    assert reruns(fake) == [f"/repos/{REPO}/actions/runs/702/rerun"]
    assert [run.reruns for run in fake.runs.values()] == [0, 1, 0, 0]
    (listing,) = [r for r in fake.requests if r.path.endswith("/runs")]
    assert listing.path == f"/repos/{REPO}/actions/workflows/pr.yml/runs"
    assert listing.query["head_sha"] == SHA and listing.query["event"] == "pull_request"
    (body,) = ours(fake)
    assert "Running the checks again" in body and "actions/runs/702" in body
    assert reactions(fake, said) == ["eyes"]


def test_recheck_with_no_run_says_so_plainly(fake: FakeGitHub, tmp_path: Path) -> None:
    fake.add_run(REPO, "pr.yml", OLD_SHA, 801)
    assert command(tmp_path, event("/taxonbot recheck", say(fake, "x")), "--post") == 0
    assert reruns(fake) == []
    (body,) = ours(fake)
    assert f"No `pr.yml` run was found for the latest commit (`{SHA[:12]}`)" in body


@pytest.mark.parametrize("command_text", ["/taxonbot recheck", "/taxonbot preview --pairs 5"])
def test_a_run_still_going_is_explained_in_one_write_and_not_rerun(
    fake: FakeGitHub, tmp_path: Path, command_text: str
) -> None:
    """GitHub refuses to re-run an unfinished run; the reply says so in ONE write (it used to
    say "running again", then take it back), and asking twice writes nothing more."""
    fake.add_run(REPO, "pr.yml", SHA, 901, status="in_progress")
    said = say(fake, command_text)
    assert command(tmp_path, event(command_text, said), "--post") == 0
    (body,) = ours(fake)
    assert "still running" in body and fake.runs[901].reruns == 0
    assert "preview-pairs" not in body  # no request left for a run that will not happen
    comment_writes = [w for w in fake.writes() if not w.path.endswith("/reactions")]
    assert len(comment_writes) == 1
    assert command(tmp_path, event(command_text, said), "--post") == 0
    assert len([w for w in fake.writes() if not w.path.endswith("/reactions")]) == 1


def test_a_rerun_github_refuses_anyway_is_explained_not_crashed(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    """Finished when listed, refused when asked (another re-run won the race): one write."""
    fake.add_run(REPO, "pr.yml", SHA, 902)
    fake.before_next("POST", rf"/repos/{REPO}/actions/runs/902/rerun", _start_elsewhere)
    assert command(tmp_path, event("/taxonbot recheck", say(fake, "x")), "--post") == 0
    (body,) = ours(fake)
    assert "did not start a re-run" in body and fake.runs[902].reruns == 0
    assert len([w for w in fake.writes() if w.path.endswith(f"/{NUMBER}/comments")]) == 1
    assert not [w for w in fake.writes() if w.method == "PATCH"]


def _start_elsewhere(fake: FakeGitHub) -> None:
    fake.runs[902].status = "queued"


def test_preview_leaves_its_size_for_the_rerun_to_read_before_starting_it(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.add_run(REPO, "pr.yml", SHA, 601)
    text = "/taxonbot preview --pairs 25"
    order: list[str] = []
    fake.before_next(
        "POST",
        rf"/repos/{REPO}/actions/runs/601/rerun",
        lambda f: order.append("rerun after: " + "; ".join(ours(f))),
    )
    assert command(tmp_path, event(text, say(fake, text)), "--post") == 0
    (body,) = ours(fake)
    assert "a preview of 25 pairs per changed leaf" in body
    assert reruns(fake) == [f"/repos/{REPO}/actions/runs/601/rerun"]
    assert "preview-pairs=25" in order[0], "the request was in place when the run started"
    comments = [Comment(c.id, c.author, c.body) for c in fake.comments_on(REPO, NUMBER)]
    assert preview_request(comments, BOT, SHA) == 25
    assert preview_request(comments, BOT, OLD_SHA) is None, "another head: not this request"


@pytest.mark.parametrize(
    "payload",
    [
        event("/taxonbot help", 5, on_pull=False),  # a plain issue
        event("Looks good to me", 5),  # no command
        event("> /taxonbot recheck\n\nquoting is not asking", 5),
        event("/taxonbot help", 5, action="edited"),
        event("/taxonbot help", 5, login="other[bot]"),
    ],
    ids=["issue", "no-command", "quoted", "edited", "bot"],
)
def test_nothing_to_answer_touches_nothing(
    fake: FakeGitHub, tmp_path: Path, payload: dict[str, Any]
) -> None:
    if payload["comment"]["user"]["login"].endswith("[bot]"):
        payload["comment"]["user"]["type"] = "Bot"
    assert command(tmp_path, payload, "--post") == 0
    assert fake.requests == [], "decided from the event alone, before any API call"


def test_a_dry_run_shows_the_plan_and_writes_nothing(
    fake: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_run(REPO, "pr.yml", SHA, 702)
    assert command(tmp_path, event("/taxonbot recheck", say(fake, "x"))) == 0
    assert fake.writes() == [] and ours(fake) == [] and fake.runs[702].reruns == 0
    out = capsys.readouterr().out
    assert "would re-run pr.yml run 702" in out and "create comment on" in out


def test_the_commenters_words_stay_inert(fake: FakeGitHub, tmp_path: Path) -> None:
    text = "/taxonbot @someone #1 <!-- taxonbot:reply --> https://github.com/x/y/pull/1"
    assert command(tmp_path, event(text, say(fake, text)), "--post") == 0
    (body,) = ours(fake)
    assert "@someone" not in body and "#1" not in body and "https://github.com/x" not in body
    assert body.count(REPLY_OPEN) == 1, "a copy of our marker from the comment stays text"
    assert "I don't know the command" in body


def test_an_event_for_another_repository_or_too_big_is_refused(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    payload = event("/taxonbot help", 5)
    payload["repository"]["full_name"] = "someone/else"
    assert command(tmp_path, payload, "--post") == 1
    big = event("/taxonbot help", 5)
    big["padding"] = "x" * (1 << 20)
    assert command(tmp_path, big, "--post") == 1
    assert fake.requests == []


def test_the_command_workflow_runs_trusted_code_only() -> None:
    import yaml

    path = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "command.yml"
    workflow = yaml.safe_load(path.read_text("utf-8"))
    assert workflow[True] == {"issue_comment": {"types": ["created"]}}  # YAML 1.1: on -> True
    assert workflow["permissions"] == {}
    (job,) = workflow["jobs"].values()
    assert "github.event.issue.pull_request" in job["if"]
    assert job["permissions"] == {
        "actions": "write",
        "contents": "read",
        "pull-requests": "write",
    }
    (checkout,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"] == {"persist-credentials": False}, "no ref: the default branch"
    (answer,) = [s for s in job["steps"] if "taxonbot command" in s.get("run", "")]
    assert '--event "$GITHUB_EVENT_PATH"' in answer["run"] and "--post" in answer["run"]
    assert answer["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}
