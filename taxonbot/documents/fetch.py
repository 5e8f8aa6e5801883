"""Fetch the documents a knowledge leaf names: a cached bare repository per repo and commit.

Runs in the unprivileged PR job and in retrain, never in a job holding a write token
(ARCHITECTURE.md, trust boundary). Only `validate_ref`-approved URLs reach git.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from taxonbot.documents.gitrepo import (
    BareRepo,
    GitFailed,
    GitTimedOut,
    GitTooBig,
    git_environment,
)
from taxonbot.documents.rules import (
    DEFAULT_LIMITS,
    MIB,
    DocumentError,
    DocumentRef,
    FetchLimits,
    validate_ref,
)
from taxonbot.documents.tree import (
    PastDeadline,
    SkippedPath,
    TreeEntry,
    check_sizes,
    parse_ls_tree,
    select_entries,
    too_large_message,
    with_sizes,
)

# The commit and its trees, fetched without blobs: a tree listing of ~500,000 files. More means
# a very large repository, or a server that ignored the blob filter and sent every file.
MAX_TREE_BYTES = 64 * MIB


@dataclass
class FetchedDocument:
    path: str  # relative to the repository root, "/"-separated
    text: str
    sha256: str  # of the blob bytes as stored at the commit


@dataclass(frozen=True)
class DocumentSet:
    documents: list[FetchedDocument]  # sorted by path
    skipped: tuple[SkippedPath, ...]  # matched a pattern but not read, with why


def fetch_documents(
    ref: DocumentRef,
    cache_dir: Path,
    limits: FetchLimits = DEFAULT_LIMITS,
    git_env: Mapping[str, str] | None = None,
    allow_file_protocol: bool = False,
) -> list[FetchedDocument]:
    """The documents `ref` selects, sorted by path; DocumentError says what to fix.

    `git_env` and `allow_file_protocol` exist for tests, which serve "https://github.com/..."
    from local bare repositories: `git_env` adds a `url.file:///tmp/x/.insteadOf` rewrite
    through GIT_CONFIG_COUNT/KEY/VALUE, and `allow_file_protocol` lets git follow it, since
    git's protocol allowlist applies to the rewritten URL. Production passes neither, so git
    speaks https to an allowlisted host and nothing else. Never build either from PR content.

    `limits.timeout_s` bounds the whole call, pattern matching included: every git command
    shares one deadline. Only the commit, its trees and the chosen blobs are downloaded, each
    download capped in bytes.
    """
    return fetch_document_set(ref, cache_dir, limits, git_env, allow_file_protocol).documents


def fetch_document_set(
    ref: DocumentRef,
    cache_dir: Path,
    limits: FetchLimits = DEFAULT_LIMITS,
    git_env: Mapping[str, str] | None = None,
    allow_file_protocol: bool = False,
) -> DocumentSet:
    """Like `fetch_documents`, and also reports matching paths that were skipped, and why."""
    validate_ref(ref, limits)
    deadline = time.monotonic() + limits.timeout_s
    env = git_environment(git_env)
    try:
        repo = cached_commit(ref, Path(cache_dir), env, deadline, allow_file_protocol)
        entries = parse_ls_tree(repo.ls_tree(ref.commit))
        selection = select_entries(entries, ref, limits, deadline)
        chosen = with_blobs(repo, ref, selection.chosen, limits)
        documents = [read_document(repo, ref, entry) for entry in chosen]
    except (GitTimedOut, PastDeadline):
        raise DocumentError(
            f"fetching {ref.repo} at {ref.commit} took longer than {limits.timeout_s:g}s and "
            "was stopped; retry, or keep the documents in a smaller repository"
        ) from None
    except GitFailed as failure:  # the cache itself is broken: not the contributor's doing
        raise DocumentError(
            f"reading {ref.repo} at {ref.commit} from the document cache failed "
            f"({failure.said}); delete {cache_dir} and retry, or report it to the maintainers"
        ) from None
    return DocumentSet(documents, selection.skipped)


def cached_commit(
    ref: DocumentRef, cache_dir: Path, env: Mapping[str, str], deadline: float, allow_file: bool
) -> BareRepo:
    """A bare repository holding `ref.commit`, reused from the cache without network."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / cache_name(ref)
    if final.is_dir():
        if BareRepo(final, env, deadline, allow_file).has_commit(ref.commit):
            return BareRepo(final, env, deadline, allow_file)
        shutil.rmtree(final)  # published but unreadable: fetch it again
    # Fetch beside the cache and rename into place only when complete: an interrupted fetch
    # never leaves a half repository that a later run would trust.
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=cache_dir))
    try:
        fetch_into(BareRepo(partial / "repo.git", env, deadline, allow_file), ref)
        publish(partial / "repo.git", final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return BareRepo(final, env, deadline, allow_file)


def cache_name(ref: DocumentRef) -> str:
    repo_key = hashlib.sha256(ref.repo.encode()).hexdigest()[:16]
    return f"{ref.commit}-{repo_key}.git"


def fetch_into(repo: BareRepo, ref: DocumentRef) -> None:
    repo.init()
    try:
        repo.ls_remote(ref.repo)
    except GitFailed as failure:
        raise DocumentError(
            f"could not read repository {ref.repo} (git said: {failure.said}); check the URL "
            "and that the repository is public"
        ) from None
    try:
        repo.fetch(ref.repo, ref.commit, MAX_TREE_BYTES)
    except GitFailed as failure:
        raise DocumentError(commit_not_found(ref, failure.said)) from None
    except GitTooBig:
        raise DocumentError(
            f"the file listing of {ref.repo} at {ref.commit} is over {MAX_TREE_BYTES:,} bytes "
            "(the limit) without any file contents; keep the documents in a smaller repository"
        ) from None
    if not repo.has_commit(ref.commit):
        raise DocumentError(commit_not_found(ref, "the object is not a commit"))


def with_blobs(
    repo: BareRepo, ref: DocumentRef, chosen: tuple[TreeEntry, ...], limits: FetchLimits
) -> tuple[TreeEntry, ...]:
    """`chosen` with sizes, after downloading the blobs the cache lacks, in one request capped
    at the total limit (so one oversized file stops the download), then the size caps."""
    sizes = repo.blob_sizes()
    missing = sorted({entry.oid for entry in chosen} - sizes.keys())
    if missing:
        cap = blob_download_cap(limits)
        try:
            repo.fetch_blobs(ref.repo, missing, cap)
        except GitTooBig:
            where = f"{ref.repo} at {ref.commit}"
            held = f"over {limits.max_total_bytes:,}"
            raise DocumentError(too_large_message(len(chosen), where, held, limits)) from None
        except GitFailed as failure:
            raise DocumentError(
                f"could not download the documents from {ref.repo} (git said: {failure.said}); "
                "retry later"
            ) from None
        sizes = repo.blob_sizes()
    sized = with_sizes(chosen, sizes)
    check_sizes(sized, ref, limits)
    return sized


def blob_download_cap(limits: FetchLimits) -> int:
    """The total limit plus what git adds: pack headers, an index, zlib's few bytes a block."""
    return limits.max_total_bytes + limits.max_total_bytes // 64 + MIB


def commit_not_found(ref: DocumentRef, said: str) -> str:
    return (
        f"commit {ref.commit} not found in repo {ref.repo}; check the 40-character commit hash "
        f"and that the commit is pushed there (git said: {said})"
    )


def publish(built: Path, final: Path) -> None:
    try:
        built.rename(final)
    except OSError:
        # Another run published the same repo and commit first; its copy is as good as ours.
        if not final.is_dir():
            raise


def read_document(repo: BareRepo, ref: DocumentRef, entry: TreeEntry) -> FetchedDocument:
    data = repo.read_blob(entry.oid)
    if len(data) != entry.size:
        raise DocumentError(f"{entry.path} in {ref.repo} changed size while being read; retry")
    try:
        # utf-8-sig: a byte-order mark is an editor habit, not document text.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{entry.path} in {ref.repo} at {ref.commit} is not valid UTF-8 (byte "
            f"{error.start}); save it as UTF-8 and commit again"
        ) from None
    return FetchedDocument(entry.path, text, hashlib.sha256(data).hexdigest())
