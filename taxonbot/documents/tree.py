"""Choose the documents from a commit's tree listing, before any blob is read.

Pure: takes `git ls-tree -r -z` output and the limits, returns what to read or a
DocumentError. The listing of a partial repository has no sizes (asking would download every
blob): the fetch learns them with the chosen blobs, whose download is capped at the total limit,
and calls `check_sizes` again. Matching stops at the fetch's deadline (PastDeadline).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from taxonbot.documents.patterns import matches_any
from taxonbot.documents.rules import DocumentError, DocumentRef, FetchLimits, shown

REGULAR_FILE_MODES = frozenset({"100644", "100755"})
_WHY_NOT_REGULAR = {
    "120000": "symbolic link; only regular files are read, commit the file itself",
    "160000": "submodule; only files stored in this repository are read",
}


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    kind: str  # "blob" or "commit" (a submodule); -r leaves no trees
    oid: str
    size: int | None  # None for a submodule, or until the blob is fetched
    path: str  # decoded with surrogateescape: bytes that are not UTF-8 survive as surrogates


class PastDeadline(Exception):
    """The fetch's deadline passed while matching patterns."""


@dataclass(frozen=True)
class SkippedPath:
    path: str  # ascii-escaped when the real name has control or non-UTF-8 characters
    reason: str


@dataclass(frozen=True)
class Selection:
    chosen: tuple[TreeEntry, ...]
    skipped: tuple[SkippedPath, ...]


def parse_ls_tree(output: bytes) -> list[TreeEntry]:
    """Parse `<mode> SP <type> SP <oid> [SP+ <size>] TAB <path> NUL` records (sizes: --long)."""
    entries = []
    for record in output.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, oid, *size = meta.decode("ascii").split()
        path = raw_path.decode("utf-8", "surrogateescape")
        known = size and size[0] != "-"
        entries.append(TreeEntry(mode, kind, oid, int(size[0]) if known else None, path))
    return entries


def select_entries(
    entries: Iterable[TreeEntry],
    ref: DocumentRef,
    limits: FetchLimits,
    deadline: float | None = None,
) -> Selection:
    """The entries the patterns choose, sorted, and those matched but skipped; sizes that are
    known are checked too."""
    chosen, skipped = [], []
    for entry in entries:
        if deadline is not None and time.monotonic() > deadline:
            raise PastDeadline
        if not matches_any(ref.patterns, entry.path):
            continue
        reason = why_skipped(entry)
        if reason:
            skipped.append(SkippedPath(printable_path(entry.path), reason))
        else:
            chosen.append(entry)
    check_limits(chosen, skipped, ref, limits)
    return Selection(tuple(sorted(chosen, key=lambda e: e.path)), tuple(skipped))


def why_skipped(entry: TreeEntry) -> str:
    if entry.mode not in REGULAR_FILE_MODES or entry.kind != "blob":
        return _WHY_NOT_REGULAR.get(entry.mode, f"not a regular file (mode {entry.mode})")
    if any(part in {"", ".", ".."} for part in entry.path.split("/")):
        # git refuses to check such a tree out, but stores it; a pattern like "docs/.*/x.md"
        # could match "docs/../x.md", and a consumer writing documents to disk must never see it.
        return "the path has '.', '..' or empty segments; git cannot check it out either"
    if not entry.path.isprintable():
        # Control characters or non-UTF-8 bytes would reach logs and PR comments verbatim.
        return "the file name has control characters or is not valid UTF-8; rename it"
    return ""


def printable_path(path: str) -> str:
    return path if path.isprintable() else shown(path)


def check_limits(
    chosen: list[TreeEntry], skipped: list[SkippedPath], ref: DocumentRef, limits: FetchLimits
) -> None:
    if not chosen:
        raise DocumentError(no_match_message(ref, skipped))
    if len(chosen) > limits.max_files:
        raise DocumentError(
            f"document.patterns {list(ref.patterns)} match {len(chosen)} files in "
            f"{ref.repo} at {ref.commit}; the limit is {limits.max_files}. Narrow the patterns "
            "to the documents you need"
        )
    check_sizes(chosen, ref, limits)


def with_sizes(chosen: Iterable[TreeEntry], sizes: dict[str, int]) -> tuple[TreeEntry, ...]:
    """`chosen` with the sizes of their blobs, once fetched."""
    return tuple(replace(entry, size=sizes.get(entry.oid, entry.size)) for entry in chosen)


def check_sizes(chosen: Iterable[TreeEntry], ref: DocumentRef, limits: FetchLimits) -> None:
    """The per-file and total caps, over the sizes known so far."""
    chosen = list(chosen)
    where = f"{ref.repo} at {ref.commit}"
    for entry in chosen:
        if (entry.size or 0) > limits.max_file_bytes:
            raise DocumentError(
                f"{entry.path} in {where} is {entry.size:,} bytes; the limit is "
                f"{limits.max_file_bytes:,} bytes per file. Split it, or leave it out of "
                "document.patterns"
            )
    total = sum(entry.size or 0 for entry in chosen)
    if total > limits.max_total_bytes:
        raise DocumentError(too_large_message(len(chosen), where, f"{total:,}", limits))


def too_large_message(count: int, where: str, held: str, limits: FetchLimits) -> str:
    return (
        f"the {count} documents matched in {where} hold {held} bytes; the limit "
        f"is {limits.max_total_bytes:,}. Narrow document.patterns"
    )


def no_match_message(ref: DocumentRef, skipped: list[SkippedPath]) -> str:
    message = (
        f"no regular .md file in {ref.repo} at commit {ref.commit} matches "
        f"document.patterns {list(ref.patterns)}; check the paths exist at that commit "
        f"(git ls-tree -r --name-only {ref.commit})"
    )
    if skipped:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
        message += f". Skipped {len(skipped)} matching path(s): {reasons}"
    return message
