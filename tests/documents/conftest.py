"""Fixtures for the document tests. Every test points HTTPS_PROXY at a closed loopback port, so
a git that missed the file:// rewrite fails at once instead of reaching the network."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

from .gitrepos import A_MD, B_MD, BIG_BYTES, DocRepo, Served, git, make_repo


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that reaches for the network, in Python or in git."""
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> None:
        if sock.family != socket.AF_UNIX:
            raise AssertionError(f"test tried to reach the network: {address!r}")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def served(tmp_path: Path) -> Served:
    return Served(root=tmp_path / "served", cache=tmp_path / "cache")


@pytest.fixture
def doc_repo(tmp_path: Path, served: Served) -> DocRepo:
    work = tmp_path / "work"
    files = {
        "docs/a.md": A_MD,
        "docs/b.md": B_MD,
        "README.md": b"# Read me\n",
        "big.md": b"x" * BIG_BYTES,
        "notes.txt": b"not markdown\n",
        "latin1/old.md": "Caf\u00e9\n".encode("latin-1"),
    }
    work.mkdir()
    commit = make_repo(work, files, symlinks={"docs/link.md": "/etc/passwd"})
    os.chmod(work / "docs/b.md", 0o755)
    git("add", "docs/b.md", cwd=work)
    # A gitlink (mode 160000) is how a submodule sits in a tree; no real submodule needed.
    git("update-index", "--add", "--cacheinfo", f"160000,{commit},mods/sub.md", cwd=work)
    git("commit", "--quiet", "-m", "mode and submodule", cwd=work)
    return DocRepo(served, git("rev-parse", "HEAD", cwd=work), served.publish(work, "owner/docs"))
