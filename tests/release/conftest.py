from __future__ import annotations

from pathlib import Path

import pytest

from tests.release import DATE, JANE, RELEASE_BOT, History
from tests.support.git import pin


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> History:
    pin(monkeypatch, tmp_path, JANE, RELEASE_BOT, DATE)  # for the git that taxonbot runs
    repo = tmp_path / "clone"
    repo.mkdir()
    return History(repo)
