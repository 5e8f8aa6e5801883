"""Shared by the release tests: a taxonomy history in a real git repository, and a build folder.

Every repository is made in a temp folder with pinned names, e-mails and dates (the `history`
fixture in conftest.py sets them); authors differ per commit through the environment.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

JANE = ("Jane Doe", "jdoe@example.invalid")
BOB = ("Bob Stone", "4242+bobstone@users.noreply.github.com")
MAINTAINER = ("Mia Maintainer", "mia@example.invalid")
VERSION = "2026.11.21-1"


class History:
    """A clone of a community taxonomy: the tree lives in `taxonomy/` beside other files."""

    def __init__(self, root: Path, tree: str = "taxonomy") -> None:
        self.root, self.tree = root, root / tree
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str, author: tuple[str, str] = JANE) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1]}
        done = subprocess.run(
            ["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def leaf(self, path: str, topic: str, attribution: bool = True) -> None:
        folder = self.tree / path
        folder.mkdir(parents=True, exist_ok=True)
        seeds = "".join(f"  - question: {topic} {n}?\n    answer: {n}.\n" for n in range(5))
        (folder / "qna.yaml").write_text(f"version: 3\nseed_examples:\n{seeds}", "utf-8")
        if attribution:
            (folder / "attribution.txt").write_text(f"Title of work: {topic}\n", "utf-8")

    def write(self, path: str, content: str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, "utf-8")

    def commit(self, message: str, author: tuple[str, str] = JANE) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message, author=author)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def branch(self, name: str) -> None:
        self.git("checkout", "--quiet", "-b", name, "main")

    def merge_pr(self, number: int, owner: str, branch: str, title: str) -> str:
        """What GitHub's "Create a merge commit" button makes, pressed by a maintainer."""
        self.git("checkout", "--quiet", "main")
        message = f"Merge pull request #{number} from {owner}/{branch}\n\n{title}"
        self.git("merge", "--quiet", "--no-ff", "-m", message, branch, author=MAINTAINER)
        return self.head()

    def tag(self, name: str, ref: str = "HEAD", annotated: bool = True) -> None:
        options = ["--annotate", "--message", f"build {name}"] if annotated else []
        self.git("tag", *options, name, ref)


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
