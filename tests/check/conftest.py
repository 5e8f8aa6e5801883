"""Fixtures the check tests share."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.git import Repo, pin

VALID = Path(__file__).resolve().parents[1] / "data" / "check" / "valid" / "limerick_skill"
LIMERICK = "compositional_skills/writing/freeform/limerick"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """main: one valid leaf; the branch `contribution` is checked out, nothing on it yet."""
    pin(monkeypatch, tmp_path)
    repo = Repo(tmp_path / "taxonomy").init()
    shutil.copytree(VALID / LIMERICK, repo.root / LIMERICK)
    repo.commit("one leaf")
    repo.branch("contribution")
    monkeypatch.chdir(repo.root)
    return repo
