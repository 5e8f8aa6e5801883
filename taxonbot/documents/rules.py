"""What a knowledge `qna.yaml` points at, and the rules it must follow before git sees it.

Pure: no git, network or environment. Every rejection names the field, the value and the fix,
because the contributor reads it in a PR check, not a stack trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from taxonbot.errors import CannotRun

MIB = 1024 * 1024

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")
# GitHub owners: letters, digits, hyphens; repositories add "." and "_". `(?:\.git)?` is
# optional, so the lazy name never swallows it.
_REPO_PATH = re.compile(r"/[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}?(?:\.git)?")
_COMMIT = re.compile(r"[0-9a-f]{40}")
# `git@github.com:owner/repo(.git)` or `ssh://git@github.com/owner/repo(.git)`: say the https form.
_SSH = re.compile(
    r"(?:ssh://)?git@github\.com[:/](?P<owner>[A-Za-z0-9-]{1,39})/(?P<name>[A-Za-z0-9._-]{1,100}?)"
    r"(?:\.git)?"
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]{0,15}):")
_PATTERN_CHARS = re.compile(r"[\x20-\x7e]+")
MAX_PATTERNS = 32
MAX_PATTERN_CHARS = 256
# Each `**` may stand for any depth; two cover "somewhere under docs/, any .md" and
# "**/docs/**/*.md". More only multiply the ways one path can match (issue 20).
MAX_DOUBLE_STARS = 2
REPO_FORM = "https://github.com/<owner>/<repo>"
# Where knowledge documents may come from unless a maintainer adds hosts (check --allowed-host).
DEFAULT_ALLOWED_HOSTS = ("github.com",)


class DocumentError(CannotRun):
    """A knowledge document could not be used; the message says what to change."""


@dataclass(frozen=True)
class DocumentRef:
    repo: str
    commit: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class FetchLimits:
    max_file_bytes: int = 2 * MIB
    max_total_bytes: int = 16 * MIB
    max_files: int = 200
    timeout_s: float = 120.0
    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS


DEFAULT_LIMITS = FetchLimits()  # frozen, so one shared default is safe


def shown(value: object, limit: int = 120) -> str:
    """Quote untrusted text for a message: escapes look-alike and control characters."""
    text = ascii(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def ref_from_qna(data: dict[str, Any]) -> DocumentRef | None:
    """The `document` block of a parsed qna dict; None when there is none (a skill)."""
    block = data.get("document")
    if block is None:
        return None
    if not isinstance(block, dict):
        raise DocumentError("document must be a mapping with repo, commit and patterns")
    repo, commit, patterns = block.get("repo"), block.get("commit"), block.get("patterns")
    if not isinstance(repo, str) or not isinstance(commit, str):
        raise DocumentError("document needs repo and commit as text; see the knowledge docs")
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise DocumentError('document.patterns must be a list of paths such as "docs/*.md"')
    return DocumentRef(repo=repo, commit=commit, patterns=tuple(patterns))


def validate_ref(ref: DocumentRef, limits: FetchLimits = DEFAULT_LIMITS) -> None:
    """Raise DocumentError unless `ref` is safe to hand to git: see the three checks."""
    check_repo(ref.repo, limits.allowed_hosts)
    check_commit(ref.repo, ref.commit)
    check_patterns(ref)


def check_repo(repo: object, allowed_hosts: tuple[str, ...]) -> None:
    problem = repo_problem(repo, allowed_hosts)
    if problem:
        raise DocumentError(f"document.repo {shown(repo)} {problem}")


def repo_problem(repo: object, allowed_hosts: tuple[str, ...]) -> str:
    """Why `repo` cannot be fetched, ending in the fix; "" when it is fine.

    Matched as text, never parsed by urllib: urlsplit drops tabs and newlines and accepts
    userinfo and ports, and every leniency is a way around the host allowlist.
    """
    if not isinstance(repo, str) or not repo:
        return f"is empty; write it as {REPO_FORM}"
    if repo.startswith("-"):
        return f"starts with '-', which git would read as an option; write it as {REPO_FORM}"
    if not _PRINTABLE_ASCII.fullmatch(repo):
        return (
            f"has spaces, control or non-ASCII characters (look-alike letters?); "
            f"type it as {REPO_FORM}"
        )
    if not repo.startswith("https://"):
        return f"must use https://{_instead(repo)}"
    host, slash, path = repo.removeprefix("https://").partition("/")
    if host not in allowed_hosts:
        return (
            f"is refused: host {shown(host)} is not allowed (no user@, port or IP address); "
            f"documents may come from {', '.join(allowed_hosts)} only"
        )
    name = path.split("/")[-1].removesuffix(".git")
    if not _REPO_PATH.fullmatch(slash + path) or name in {"", ".", "..", ".git"}:
        return f"must be exactly {REPO_FORM}, with no extra path, query or trailing slash"
    return ""


def _instead(repo: str) -> str:
    """The fix for a repo address that is not https://: the https form when it is SSH."""
    ssh = _SSH.fullmatch(repo)
    if ssh:
        return f", not SSH: write it as `https://github.com/{ssh['owner']}/{ssh['name']}`"
    scheme = _SCHEME.match(repo)
    shown_scheme = f", not `{scheme[1]}`" if scheme else ""
    return f"{shown_scheme}; write it as {REPO_FORM}"


def check_commit(repo: str, commit: object) -> None:
    problem = commit_problem(commit)
    if problem:
        raise DocumentError(f"document.commit {shown(commit)} for {repo} {problem}")


def commit_problem(commit: object) -> str:
    if not isinstance(commit, str) or not _COMMIT.fullmatch(commit):
        return (
            "must be the full 40-character lowercase commit hash (git rev-parse HEAD), "
            "not a branch, tag or short hash"
        )
    return ""


def check_patterns(ref: DocumentRef) -> None:
    if isinstance(ref.patterns, str):
        raise DocumentError(f'document.patterns for {ref.repo} must be a list: ["docs/*.md"]')
    if not ref.patterns or len(ref.patterns) > MAX_PATTERNS:
        raise DocumentError(
            f"document.patterns for {ref.repo} needs 1 to {MAX_PATTERNS} entries; "
            f'it has {len(ref.patterns)}. Example: "docs/*.md"'
        )
    for pattern in ref.patterns:
        problem = pattern_problem(pattern)
        if problem:
            raise DocumentError(
                f"document.patterns entry {shown(pattern)} for {ref.repo}@{ref.commit} "
                f'{problem}. Example: "docs/*.md" or "docs/**/*.md"'
            )


def pattern_problem(pattern: object) -> str:
    """Why `pattern` is unsafe or unsupported, or "" when it is fine."""
    if not isinstance(pattern, str) or not pattern:
        return "is empty"
    if "\0" in pattern or "\\" in pattern:
        return "contains a NUL or a backslash; use forward slashes"
    if not _PATTERN_CHARS.fullmatch(pattern) or len(pattern) > MAX_PATTERN_CHARS:
        return f"must be printable ASCII of at most {MAX_PATTERN_CHARS} characters"
    if pattern.startswith(("/", "~", "-")):
        return f"must be a relative path inside the repository; drop the leading '{pattern[0]}'"
    if any(part in {"", ".", ".."} for part in pattern.split("/")):
        return "must not contain '..', '.' or empty path segments"
    if not pattern.endswith(".md"):
        return "must end with .md; only Markdown documents are used"
    double_stars = pattern.split("/").count("**")
    if double_stars > MAX_DOUBLE_STARS:
        return (
            f"has {double_stars} '**' segments; at most {MAX_DOUBLE_STARS} are allowed, "
            "since one '**' already matches any depth"
        )
    return ""
