"""Document repositories served from local bare repos, standing in for https://github.com/.

Real git, pinned author and date. Git's `url.<base>.insteadOf` (through GIT_CONFIG_COUNT) maps
https://github.com/<owner>/<repo> to file://<served>/<owner>/<repo>.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from taxonbot.documents.rules import DocumentRef
from tests.doubles.docmirror import docs_repo

REPO_URL = "https://github.com/owner/docs"
A_MD = b"# A\n\nAlpha facts.\n"
B_MD = b"# B\n\nBeta facts, caf\xc3\xa9.\n"
BIG_BYTES = 3 * 1024 * 1024


def make_repo(
    work: Path, files: Mapping[str, bytes], symlinks: Mapping[str, str] | None = None
) -> str:
    """Commit `files` and `symlinks` in a fresh work tree; return the commit hash."""
    repo = docs_repo(work).init()
    for name, content in files.items():
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        (work / name).write_bytes(content)
    for name, target in (symlinks or {}).items():
        (work / name).symlink_to(target)
    return repo.commit("documents")


def git(*args: str, cwd: Path) -> str:
    """git in `cwd` with tests.doubles.docmirror's pinned identity and date (the hashes the
    community taxonomy pins)."""
    return docs_repo(cwd).git(*args)


@dataclass
class Served:
    """Bare repos under `root`, reachable as https://github.com/<owner>/<repo> via git_env."""

    root: Path
    cache: Path

    @property
    def git_env(self) -> dict[str, str]:
        return {
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.file://{self.root}/.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/",
        }

    def publish(self, work: Path, owner_repo: str) -> Path:
        bare = self.root / f"{owner_repo}.git"
        bare.parent.mkdir(parents=True, exist_ok=True)
        git("clone", "--quiet", "--bare", str(work), str(bare), cwd=work.parent)
        # As GitHub does: partial clone, so the fetch downloads only the blobs it reads.
        git("config", "uploadpack.allowFilter", "true", cwd=bare)
        return bare


@dataclass
class DocRepo:
    """owner/docs: docs/a.md, docs/b.md (executable), a symlink docs/link.md -> /etc/passwd,
    README.md, a 3 MB big.md, notes.txt, latin1/old.md (not UTF-8) and mods/sub.md, a
    submodule entry."""

    served: Served
    commit: str
    bare: Path

    def ref(self, *patterns: str, commit: str = "", repo: str = REPO_URL) -> DocumentRef:
        return DocumentRef(repo=repo, commit=commit or self.commit, patterns=patterns)
