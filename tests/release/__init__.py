"""Shared by the release tests: a taxonomy history in a real git repository, and a build folder.

Every repository is made in a temp folder with pinned names, e-mails and dates
(tests/support/git.py); authors differ per commit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.git import Person, Repo

JANE = ("Jane Doe", "jdoe@example.invalid")
BOB = ("Bob Stone", "4242+bobstone@users.noreply.github.com")
MAINTAINER = ("Mia Maintainer", "mia@example.invalid")
RELEASE_BOT = ("Release Bot", "release@example.invalid")  # the committer of every commit
DATE = "2026-11-01T12:00:00+00:00"
VERSION = "2026.11.21-1"


class History(Repo):
    """A clone of a community taxonomy: the tree lives in `taxonomy/` beside other files."""

    def __init__(self, root: Path, tree: str = "taxonomy") -> None:
        super().__init__(root, author=JANE, committer=RELEASE_BOT, date=DATE)
        self.tree = root / tree
        self.init()

    def leaf(self, path: str, topic: str, attribution: bool = True) -> None:
        folder = self.tree / path
        folder.mkdir(parents=True, exist_ok=True)
        seeds = "".join(f"  - question: {topic} {n}?\n    answer: {n}.\n" for n in range(5))
        (folder / "qna.yaml").write_text(f"version: 3\nseed_examples:\n{seeds}", "utf-8")
        if attribution:
            (folder / "attribution.txt").write_text(f"Title of work: {topic}\n", "utf-8")

    def merge_pr(  # type: ignore[override]
        self, number: int, owner: str, branch: str, title: str, by: Person = MAINTAINER
    ) -> str:
        """GitHub's "Create a merge commit" button, pressed by a maintainer."""
        return super().merge_pr(number, owner, branch, title, by)


def make_build(
    folder: Path,
    commit: str,
    *,
    publishable: bool = True,
    evaluation: dict[str, Any] | None = None,
    version: str = VERSION,
) -> Path:
    """What `taxonbot build` leaves behind, small."""
    (folder / "model").mkdir(parents=True)
    (folder / "plots").mkdir()
    manifest = {
        "version": version,
        "taxonomy_commit": commit,
        "publishable": publishable,
        "evaluation": {"summary": "new leaves +0.31, regression -0.002", "new_leaves": 0.31}
        if evaluation is None
        else evaluation,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# Model card\n", "utf-8")
    (folder / "model" / "config.json").write_text("{}", "utf-8")
    (folder / "model.Q4_K_M.gguf").write_bytes(b"GGUF" + bytes(range(256)) * 40)
    (folder / "plots" / "loss.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 300)
    (folder / "plots" / "scores.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\1" * 200)
    return folder
