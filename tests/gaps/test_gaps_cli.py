"""`taxonbot gaps` end to end: the maintainer's view of a pull request.

Stories: a PR adds a leaf whose question another leaf already asks → `overlap` label and both
questions in the Markdown; the fake model knows nothing → `gap:confirmed`; a PR touching nothing
gets coverage only and a note; a leaf that does not parse is skipped with its reason; a broken
policy file stops the command with file:line; every gaps.json validates against its schema.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import taxonbot.gaps.run  # noqa: F401 - imported so monkeypatch can reach it
from taxonbot.cli.main import main
from taxonbot.schemas import validator
from tests.doubles.fake_backend import FakeBackend
from tests.support.git import Repo

REPO = Path(__file__).resolve().parents[2]
HAIKU = "compositional_skills/writing/freeform/poetry/haiku_about_weather"
COPYCAT = "compositional_skills/writing/freeform/poetry/weather_poems"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "taxonomy", tmp_path / "taxonomy")
    monkeypatch.chdir(tmp_path)
    # The model that novelty asks: knows nothing, says so politely.
    monkeypatch.setattr(
        "taxonbot.gaps.run.open_model", lambda spec: FakeBackend({"novelty": "I am not sure."})
    )
    return tmp_path / "taxonomy"


def gaps(tmp: Path, *argv: str) -> tuple[int, dict[str, Any], str]:
    out = tmp / "out"
    code = main(["gaps", *argv, "--out", str(out), "--cache", str(tmp / "cache")])
    body = json.loads((out / "gaps.json").read_text("utf-8")) if code == 0 else {}
    markdown = (out / "gaps.md").read_text("utf-8") if code == 0 else ""
    if body:
        errors = list(validator("https://taxonbot.dev/schemas/gaps.json").iter_errors(body))
        assert errors == [], errors[0].message
    return code, body, markdown


def add_copycat(tree: Path) -> Path:
    """A new leaf that asks, in other words, what the haiku leaf already asks."""
    source = (tree / HAIKU / "qna.yaml").read_text("utf-8")
    target = tree / COPYCAT / "qna.yaml"
    target.parent.mkdir(parents=True)
    target.write_text(
        source.replace(
            "Write a haiku about a summer thunderstorm.",
            "Write a haiku about a thunderstorm in summer.",
        ),
        "utf-8",
    )
    shutil.copy(tree / HAIKU / "attribution.txt", target.parent / "attribution.txt")
    return target


@pytest.mark.model
def test_a_pr_that_repeats_another_leaf_gets_the_overlap_label(tree: Path) -> None:
    copy = add_copycat(tree)
    code, body, markdown = gaps(tree.parent, str(copy.relative_to(tree.parent)))
    assert code == 0
    assert body["labels"] == ["gap:confirmed", "overlap"]
    (leaf,) = body["overlap"]["leaves"]
    assert any(d["other_leaf"] == HAIKU for d in leaf["near_duplicates"])
    assert "Also asked in" in markdown and HAIKU in markdown
    (report,) = body["novelty"]
    assert report["verdict"] == "gap_confirmed"
    assert (tree.parent / "out" / "coverage.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.model
def test_changed_leaves_can_come_from_git(tree: Path) -> None:
    repo = Repo(tree.parent).init()
    repo.commit("tree")
    repo.branch("pr")
    add_copycat(tree)
    repo.commit("copycat")
    code, body, _ = gaps(tree.parent, "--base", "main", "--overlap")
    assert code == 0 and body["changed"] == [f"taxonomy/{COPYCAT}/qna.yaml"]
    assert body["coverage"] is None and body["novelty"] is None and body["labels"] == ["overlap"]


def test_a_pr_with_no_leaf_gets_coverage_and_a_note(tree: Path) -> None:
    code, body, markdown = gaps(tree.parent)
    assert code == 0 and body["overlap"] is None and body["novelty"] is None
    assert body["coverage"]["format"] == "taxonbot-coverage/1"
    assert "No changed leaves" in body["notes"][0] and "No changed leaves" in markdown


@pytest.mark.model
def test_a_leaf_that_does_not_parse_is_skipped_with_its_reason(tree: Path) -> None:
    broken = tree / HAIKU / "qna.yaml"
    broken.write_text("version: 3\nseed_examples: [unclosed\n", "utf-8")
    code, body, _ = gaps(
        tree.parent, str(broken.relative_to(tree.parent)), "--overlap", "--novelty"
    )
    assert code == 0
    (leaf,) = body["overlap"]["leaves"]
    assert leaf["status"] == "skipped" and leaf["reason"]
    (report,) = body["novelty"]
    assert report["verdict"] == "skipped" and "Fix the check findings" in report["reason"]


def test_a_broken_policy_file_stops_with_file_and_line(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "wanted.yaml").write_text("version: 1\nthin:\n  min_leaves: two\n", "utf-8")
    code, _, _ = gaps(tree.parent, "--coverage")
    assert code == 2
    assert "wanted.yaml:3" in capsys.readouterr().err


def test_a_missing_base_ref_is_a_usage_error(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = gaps(tree.parent, "--base", "no-such-branch")
    assert code == 2 and "taxonbot gaps:" in capsys.readouterr().err
