"""An offline stand-in for GitHub's document repositories, for demos and tests.

Each folder under `tests/fixtures/knowledge_docs/<repo>/` becomes a bare repository at
`<root>/taxonbot-docs/<repo>.git`, committed with a pinned author, date and message, so its
commit hash is the one the community taxonomy pins. `DocumentSource(mirror=<root>)` then serves
https://github.com/<owner>/<repo> from it. Production never uses a mirror.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

OWNER = "taxonbot-docs"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge_docs"
PINNED = {
    "GIT_AUTHOR_NAME": "Doc Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "Doc Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def pinned_git(*args: str, cwd: Path) -> str:
    """git with the pinned author, committer and date, and no user or system config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")} | PINNED
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def build_mirror(root: Path, fixtures: Path = FIXTURES) -> dict[str, str]:
    """Publish every fixture folder; returns {"owner/repo": commit}."""
    published: dict[str, str] = {}
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        bare = root / OWNER / f"{folder.name}.git"
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp) / folder.name
            pinned_git("init", "--quiet", "-b", "main", str(work), cwd=Path(tmp))
            for source in sorted(folder.rglob("*")):
                if source.is_file():
                    target = work / source.relative_to(folder)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(source.read_bytes())
            pinned_git("add", "--all", cwd=work)
            pinned_git("commit", "--quiet", "-m", "documents", cwd=work)
            published[f"{OWNER}/{folder.name}"] = pinned_git("rev-parse", "HEAD", cwd=work)
            if not bare.exists():
                bare.parent.mkdir(parents=True, exist_ok=True)
                pinned_git("clone", "--quiet", "--bare", str(work), str(bare), cwd=Path(tmp))
    return published
