"""The one git helper of the tests: real git with a pinned identity and date, no user config.

Every commit a test makes has the same hash on every machine: author, committer and dates come
from the environment, and neither the user's nor the system's git configuration is read
(GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM). `git()` runs one command; `Repo` is a work
tree with the usual steps (write, commit, branch, merge a pull request as GitHub's button does);
`pin()` puts the same environment in `os.environ` for the tests whose product code runs git
itself (GitPython, subprocess) in-process.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

Person = tuple[str, str]  # (name, e-mail)
JANE: Person = ("Jane Doe", "jdoe@example.invalid")
DATE = "2024-05-01T12:00:00+00:00"


def pinned(
    author: Person = JANE, committer: Person | None = None, date: str = DATE
) -> dict[str, str]:
    """The GIT_* variables that make a commit reproducible (committer: the author if None)."""
    committer = committer or author
    return {
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": committer[0],
        "GIT_COMMITTER_EMAIL": committer[1],
        "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }


def environment(
    author: Person = JANE, committer: Person | None = None, date: str = DATE
) -> dict[str, str]:
    """os.environ less every GIT_* variable (GIT_DIR when run from a git hook), plus `pinned()`."""
    outside = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return outside | pinned(author, committer, date)


def git(*args: str, cwd: Path | str | None = None, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd` (default: the current folder); its stdout, stripped. `env` defaults to
    os.environ, which `pin()` or the caller has pinned."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def commit(message: str, cwd: Path | str | None = None, env: dict[str, str] | None = None) -> str:
    """Commit everything in the tree (even nothing); the new commit's hash."""
    git("add", "--all", cwd=cwd, env=env)
    git("commit", "--quiet", "--allow-empty", "-m", message, cwd=cwd, env=env)
    return git("rev-parse", "HEAD", cwd=cwd, env=env)


def pin(
    monkeypatch: pytest.MonkeyPatch,
    ceiling: Path,
    author: Person = JANE,
    committer: Person | None = None,
    date: str = DATE,
) -> None:
    """`environment()` in os.environ for one test; git never looks for a repository above
    `ceiling` (GIT_CEILING_DIRECTORIES), so a test outside a repository stays outside."""
    for name in [n for n in os.environ if n.startswith("GIT_")]:
        monkeypatch.delenv(name)
    for name, value in pinned(author, committer, date).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(ceiling))


class Repo:
    """A work tree in `root` whose commits are pinned; `author` is the default author."""

    def __init__(
        self,
        root: Path,
        *,
        author: Person = JANE,
        committer: Person | None = None,
        date: str = DATE,
    ) -> None:
        self.root, self.author, self.committer, self.date = root, author, committer, date

    def init(self, branch: str = "main") -> Repo:
        """`git init` the repository in `root` (made if missing) on `branch`; returns self."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", f"--initial-branch={branch}")
        return self

    def git(self, *args: str, author: Person | None = None) -> str:
        return git(*args, cwd=self.root, env=self._env(author))

    def _env(self, author: Person | None) -> dict[str, str]:
        return environment(author or self.author, self.committer, self.date)

    def write(self, path: str, content: str) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, "utf-8")
        return target

    def commit(self, message: str, author: Person | None = None) -> str:
        """Commit everything in the tree (even nothing); the new commit's hash."""
        return commit(message, cwd=self.root, env=self._env(author))

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def branch(self, name: str, start: str = "main") -> None:
        """A new branch from `start`, checked out."""
        self.git("checkout", "--quiet", "-b", name, start)

    def merge_pr(self, number: int, owner: str, branch: str, title: str, by: Person) -> str:
        """What GitHub's "Create a merge commit" button makes on main, pressed by `by`."""
        self.git("checkout", "--quiet", "main")
        message = f"Merge pull request #{number} from {owner}/{branch}\n\n{title}"
        self.git("merge", "--quiet", "--no-ff", "-m", message, branch, author=by)
        return self.head()

    def tag(self, name: str, ref: str = "HEAD", annotated: bool = True) -> None:
        options = ["--annotate", "--message", f"build {name}"] if annotated else []
        self.git("tag", *options, name, ref)
