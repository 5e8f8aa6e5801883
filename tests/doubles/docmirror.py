"""An offline stand-in for GitHub's document repositories, for demos and tests.

Each folder under `tests/fixtures/knowledge_docs/<repo>/` becomes a bare repository at
`<root>/taxonbot-docs/<repo>.git`, committed with a pinned author, date and message, so its
commit hash is the one the community taxonomy pins. `DocumentSource(mirror=<root>)` then serves
https://github.com/<owner>/<repo> from it. Production never uses a mirror.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tests.support.git import Repo

OWNER = "taxonbot-docs"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge_docs"
AUTHOR = ("Doc Author", "author@example.invalid")  # with DATE: the hashes the taxonomy pins
DATE = "2024-01-01T00:00:00+00:00"


def docs_repo(root: Path) -> Repo:
    """A work tree in `root` whose commits have the documents' pinned author and date."""
    return Repo(root, author=AUTHOR, date=DATE)


def build_mirror(root: Path, fixtures: Path = FIXTURES) -> dict[str, str]:
    """Publish every fixture folder; returns {"owner/repo": commit}."""
    published: dict[str, str] = {}
    for folder in sorted(p for p in fixtures.iterdir() if p.is_dir()):
        bare = root / OWNER / f"{folder.name}.git"
        with tempfile.TemporaryDirectory() as tmp:
            work = docs_repo(Path(tmp) / folder.name).init()
            for source in sorted(folder.rglob("*")):
                if source.is_file():
                    target = work.root / source.relative_to(folder)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(source.read_bytes())
            published[f"{OWNER}/{folder.name}"] = work.commit("documents")
            if not bare.exists():
                bare.parent.mkdir(parents=True, exist_ok=True)
                work.git("clone", "--quiet", "--bare", str(work.root), str(bare))
    return published
