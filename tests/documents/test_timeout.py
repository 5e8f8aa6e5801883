"""A stalled server cannot hold a PR check hostage: the timeout kills git and its children."""

from __future__ import annotations

import os
import threading

from taxonbot.documents.fetch import fetch_documents
from taxonbot.documents.rules import DocumentError, DocumentRef, FetchLimits

from .gitrepos import Served

WATCHDOG_S = 60  # generous: only here to turn a hang into a failure, not to time anything


def stalled_repo(served: Served, owner_repo: str) -> None:
    """A "repository" whose HEAD is a FIFO with no writer: git-upload-pack, checking that it is
    a repository, blocks forever on open(), exactly like a server that stops answering."""
    bare = served.root / f"{owner_repo}.git"
    (bare / "objects").mkdir(parents=True)
    (bare / "refs").mkdir()
    os.mkfifo(bare / "HEAD")


def test_a_hanging_git_is_killed_at_the_timeout(served: Served) -> None:
    stalled_repo(served, "owner/stuck")
    ref = DocumentRef("https://github.com/owner/stuck", "a" * 40, ("docs/*.md",))

    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            fetch_documents(
                ref,
                served.cache,
                FetchLimits(timeout_s=1),
                git_env=served.git_env,
                allow_file_protocol=True,
            )
        except BaseException as raised:
            outcome.append(raised)

    # A daemon thread: if the kill ever regresses, the test fails instead of hanging the run.
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(WATCHDOG_S)

    assert not worker.is_alive(), f"git still running {WATCHDOG_S}s after a 1s timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], DocumentError)
    assert "took longer than 1s and was stopped" in str(outcome[0])
    assert [p.name for p in served.cache.iterdir()] == []
