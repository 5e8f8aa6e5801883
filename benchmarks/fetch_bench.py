#!/usr/bin/env python3
"""A knowledge-document fetch from a repository holding a big unrelated blob: bytes transferred
and cache size, the old full fetch against today's partial one, in one run (issue 20).

    .venv/bin/python benchmarks/fetch_bench.py [--blob-mib 200] [--json]

Everything is local: a temp folder holds a work tree with `docs/a.md` (6 bytes) and `data.bin`
(random bytes, so git cannot compress it away), published as a bare repository that allows
partial clone (`uploadpack.allowFilter`, as GitHub does) and served as https://github.com/...
through the same file:// rewrite the tests use.

- before: what the fetch ran until issue 20, `git fetch --depth 1 --no-tags <url> <commit>` into
  a fresh bare repository, then `ls-tree --long` and `cat-file blob` for docs/a.md;
- after: `taxonbot.documents.fetch.fetch_documents` (trees first with `--filter=blob:none`, then
  only the chosen blob).
Bytes transferred: the pack data git received, as stored (`objects/pack/*.pack`, kept byte for
byte by index-pack, plus any loose objects unpacked from a small pack; GIT_TRACE_PACK does not see
protocol v2's side-band). Cache size: every byte under the cache folder afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taxonbot.documents.fetch import fetch_documents  # noqa: E402
from taxonbot.documents.rules import DocumentRef  # noqa: E402

URL = "https://github.com/owner/docs"
GIT_ID = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **GIT_ID, **(env or {})}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=full_env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def make_served(root: Path, blob_mib: int) -> str:
    work = root / "work"
    (work / "docs").mkdir(parents=True)
    (work / "docs/a.md").write_bytes(b"# A\nx\n")
    with open(work / "data.bin", "wb") as out:
        for _ in range(blob_mib):
            out.write(os.urandom(1024 * 1024))
    git("init", "--quiet", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "documents and a big blob", cwd=work)
    bare = root / "served/owner/docs.git"
    bare.parent.mkdir(parents=True)
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=root)
    git("config", "uploadpack.allowFilter", "true", cwd=bare)
    return git("rev-parse", "HEAD", cwd=work)


def rewrite(root: Path) -> dict[str, str]:
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{root / 'served'}/.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/",
    }


def folder_bytes(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file())


def received_bytes(cache: Path) -> int:
    """Packs as received, plus loose objects (a pack under fetch.unpackLimit is unpacked)."""
    objects = [p for p in cache.rglob("objects/*/*") if p.is_file()]
    return sum(p.lstat().st_size for p in objects if p.suffix in {"", ".pack"})


def measured(cache: Path, seconds: float) -> dict[str, float]:
    return {"transferred": received_bytes(cache), "cache": folder_bytes(cache), "s": seconds}


def before(root: Path, commit: str) -> dict[str, float]:
    cache = root / "cache-before"
    env = {**rewrite(root), "GIT_CONFIG_PARAMETERS": "'protocol.file.allow'='always'"}
    repo = cache / "repo.git"
    started = time.perf_counter()
    git("init", "--quiet", "--bare", str(repo), cwd=root)
    git("--git-dir", str(repo), "fetch", "--quiet", "--depth", "1", "--no-tags", URL, commit,
        cwd=root, env=env)  # fmt: skip
    listing = git("--git-dir", str(repo), "ls-tree", "-r", "--long", commit, cwd=root)
    oid = next(line.split()[2] for line in listing.splitlines() if line.endswith("docs/a.md"))
    git("--git-dir", str(repo), "cat-file", "blob", oid, cwd=root)
    seconds = time.perf_counter() - started
    return measured(cache, seconds)


def after(root: Path, commit: str) -> dict[str, float]:
    cache = root / "cache-after"
    ref = DocumentRef(URL, commit, ("docs/a.md",))
    started = time.perf_counter()
    (document,) = fetch_documents(ref, cache, git_env=rewrite(root), allow_file_protocol=True)
    seconds = time.perf_counter() - started
    assert document.text == "# A\nx\n"
    return measured(cache, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blob-mib", type=int, default=200, help="size of the unrelated blob")
    parser.add_argument("--json", action="store_true", help="JSON on stdout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fetch-bench-") as temp:
        root = Path(temp)
        commit = make_served(root, args.blob_mib)
        results = {"before": before(root, commit), "after": after(root, commit)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"repository: docs/a.md (6 bytes) and a {args.blob_mib} MiB random data.bin")
    print(f"{'':8} {'transferred':>16} {'cache':>16} {'seconds':>8}")
    for name, row in results.items():
        print(f"{name:8} {row['transferred']:>16,} {row['cache']:>16,} {row['s']:>8.2f}")
    b, a = results["before"], results["after"]
    ratios = [b[key] / a[key] for key in ("transferred", "cache")]
    print(f"{'ratio':8} {ratios[0]:>15,.0f}x {ratios[1]:>15,.0f}x")


if __name__ == "__main__":
    main()
