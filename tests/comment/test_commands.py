"""`/taxonbot` commands, as people type them in pull request comments."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from taxonbot.comment.commands import HELP, PAIRS_DEFAULT, REFUSAL, CommandDecision, parse_command
from tests.comment import html_of
from tests.doubles.fake_github import PAYLOADS


def payload(
    body: str,
    association: str = "MEMBER",
    *,
    action: str = "created",
    on_pr: bool = True,
    user_type: str = "User",
) -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 7, "title": "Add thank-you notes"}
    if on_pr:
        issue["pull_request"] = {"url": "https://api.github.com/repos/acme/taxonomy/pulls/7"}
    comment = {
        "body": body,
        "author_association": association,
        "user": {"login": "dana", "type": user_type},
    }
    return {"action": action, "issue": issue, "comment": comment}


def decide(body: str, association: str = "MEMBER") -> CommandDecision:
    return parse_command(payload(body, association))


# ---- honoured commands ---------------------------------------------------------------------


@pytest.mark.parametrize("association", ["OWNER", "MEMBER", "COLLABORATOR"])
def test_a_maintainer_asks_for_a_recheck(association: str) -> None:
    decision = decide("/taxonbot recheck", association)
    assert decision.kind == "recheck" and decision.pairs is None
    assert "Running the checks again" in decision.reply_markdown


@pytest.mark.parametrize("body", ["/taxonbot help", "/taxonbot", "  /TaxonBot   HELP  "])
def test_help_lists_every_command(body: str) -> None:
    decision = decide(body)
    assert decision == CommandDecision("help", None, HELP)
    for command in ("help", "recheck", "preview", "preview --pairs N"):
        assert f"`/taxonbot {command}`" in HELP
    assert "<table>" in html_of(HELP)


def test_preview_without_options_makes_the_default_number_of_pairs() -> None:
    decision = decide("Looks promising!\n\n/taxonbot preview\n\nThanks")
    assert (decision.kind, decision.pairs) == ("preview", PAIRS_DEFAULT)
    assert f"{PAIRS_DEFAULT} pairs per changed leaf" in decision.reply_markdown


@pytest.mark.parametrize(
    ("body", "pairs"),
    [
        ("/taxonbot preview --pairs 5", 5),
        ("/taxonbot preview --pairs=50", 50),
        ("/taxonbot preview --pairs 1", 1),
        ("/taxonbot preview --pairs 007", 7),
    ],
)
def test_preview_takes_a_number_of_pairs_within_bounds(body: str, pairs: int) -> None:
    assert decide(body) == CommandDecision("preview", pairs, decide(body).reply_markdown)
    assert decide(body).pairs == pairs


@pytest.mark.parametrize(
    "option", ["0", "51", "-1", "1000", "1e3", "five", "٣", "", "3.5", "2 --pairs 3"]
)
def test_pairs_out_of_bounds_or_not_a_number_is_explained(option: str) -> None:
    decision = decide(f"/taxonbot preview --pairs {option}".rstrip())
    assert decision.kind == "unknown" and decision.pairs is None
    assert decision.reply_markdown.endswith(HELP)
    assert (
        "from 1 to 50" in decision.reply_markdown
        or "takes only `--pairs N`" in decision.reply_markdown
    )


# ---- refused, unknown, ignored -------------------------------------------------------------


@pytest.mark.parametrize(
    "association", ["CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE", "", "member"]
)
def test_people_outside_the_project_get_a_polite_refusal(association: str) -> None:
    for body in ("/taxonbot preview --pairs 50", "/taxonbot recheck", "/taxonbot help"):
        assert decide(body, association) == CommandDecision("refused", None, REFUSAL)
    assert "Thanks" in REFUSAL and "ask a reviewer" in REFUSAL


def test_an_unknown_command_gets_the_help_text() -> None:
    decision = decide("/taxonbot deploy production")
    assert decision.kind == "unknown"
    assert decision.reply_markdown.startswith(
        "I don't know the command `/taxonbot deploy production`."
    )
    assert decision.reply_markdown.endswith(HELP)


def test_recheck_takes_no_options() -> None:
    assert decide("/taxonbot recheck --force").kind == "unknown"


def test_the_reply_never_echoes_live_markup() -> None:
    decision = decide("/taxonbot @org/team #1 <img src=x onerror=alert(1)> <!-- `x` $(id)")
    html = html_of(decision.reply_markdown)
    assert "<img" not in html
    assert not re.search(r"@[A-Za-z0-9]", html) and not re.search(r"#\d", html)
    assert "<!--" not in decision.reply_markdown


@pytest.mark.parametrize(
    "body",
    [
        "Thanks, looks good to me.",
        "Run `/taxonbot recheck` if it fails again.",  # mentioned, not on a line of its own
        "> /taxonbot recheck\n\nDone.",  # quoting someone's command
        "```\n/taxonbot preview --pairs 50\n```",  # an example in a code block
        "~~~~\n```\n/taxonbot recheck\n~~~~~~",
        "/taxonbotx help",
    ],
)
def test_comments_without_a_command_are_ignored(body: str) -> None:
    assert decide(body) == CommandDecision("ignore", None, "")


def test_a_command_after_a_closed_code_block_counts() -> None:
    assert decide("```sh\ntaxonbot check\n```\n/taxonbot recheck").kind == "recheck"


def test_only_new_comments_on_pull_requests_by_people_count() -> None:
    assert parse_command(payload("/taxonbot recheck", action="edited")).kind == "ignore"
    assert parse_command(payload("/taxonbot recheck", on_pr=False)).kind == "ignore"
    assert parse_command(payload("/taxonbot recheck", user_type="Bot")).kind == "ignore"
    assert parse_command({"action": "created"}).kind == "ignore"
    broken = payload("/taxonbot recheck")
    broken["comment"]["body"] = None
    assert parse_command(broken).kind == "ignore"


def test_a_real_issue_comment_payload() -> None:
    """GitHub's example delivery: a comment on an issue, then the same on a pull request."""
    path = PAYLOADS / "issue_comment" / "created.payload.json"
    event = json.loads(path.read_text())
    assert parse_command(event).kind == "ignore"  # not a command, not a pull request
    on_pr = copy.deepcopy(event)
    on_pr["issue"]["pull_request"] = {"url": event["issue"]["url"].replace("issues", "pulls")}
    on_pr["comment"]["body"] = "/taxonbot preview --pairs 3"
    assert event["comment"]["author_association"] == "OWNER"
    assert parse_command(on_pr).pairs == 3
    on_pr["comment"]["author_association"] = "CONTRIBUTOR"
    assert parse_command(on_pr).kind == "refused"
