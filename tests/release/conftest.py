from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.release import History

PINNED = {
    "GIT_AUTHOR_DATE": "2026-11-01T12:00:00+00:00",
    "GIT_COMMITTER_NAME": "Release Bot",
    "GIT_COMMITTER_EMAIL": "release@example.invalid",
    "GIT_COMMITTER_DATE": "2026-11-01T12:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> History:
    for name in [n for n in os.environ if n.startswith("GIT_")]:
        monkeypatch.delenv(name)  # e.g. GIT_DIR when the suite runs from a git hook
    for name, value in PINNED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find an outer repo
    repo = tmp_path / "clone"
    repo.mkdir()
    return History(repo)
