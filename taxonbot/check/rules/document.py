"""Knowledge documents: only an allowlisted https repo, a pinned commit, and safe .md patterns.

These values later reach `git fetch` (in the unprivileged SDG job), so anything that could be
read as an option, a local path or another protocol is refused here, before it gets that far.
The verdict is the fetch's own (taxonbot/documents/rules.py): what passes here is fetched, and
what the fetch would refuse fails here first; this module only words the common mistakes for
a contributor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from taxonbot.check.rules.context import CheckContext
from taxonbot.documents import rules
from taxonbot.taxonomy.findings import Finding, error
from taxonbot.taxonomy.yamlnode import format_path, locate

_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPO_PATH = re.compile(r"/([A-Za-z0-9][A-Za-z0-9-]{0,38})/([A-Za-z0-9_][A-Za-z0-9_.-]{0,99})")


def check(ctx: CheckContext) -> Iterator[Finding]:
    document = ctx.data.get("document")
    if ctx.leaf.kind != "knowledge" or not isinstance(document, dict):
        return
    repo, commit, patterns = document.get("repo"), document.get("commit"), document.get("patterns")
    if isinstance(repo, str):
        problem = repo_problem(repo, ctx.options.allowed_hosts)
        if problem:
            yield _finding(
                ctx,
                "document.repo",
                ("document", "repo"),
                problem,
                "Use the address of a public GitHub repository: "
                "`https://github.com/<owner>/<repo>`.",
            )
    if isinstance(commit, str) and not _COMMIT.fullmatch(commit):  # the fetch's rule too
        yield _finding(
            ctx,
            "document.commit",
            ("document", "commit"),
            f"`{commit[:60]}` is not a full commit hash.",
            "Copy the full 40-character commit SHA (lowercase hex) from GitHub.",
        )
    for index, pattern in enumerate(patterns if isinstance(patterns, list) else []):
        problem = pattern_problem(pattern) if isinstance(pattern, str) else None
        if problem:
            yield _finding(
                ctx,
                "document.pattern",
                ("document", "patterns", index),
                problem,
                "Write a path inside the repository such as `docs/topic.md` or `docs/*.md`.",
            )


def repo_problem(repo: str, allowed_hosts: tuple[str, ...]) -> str | None:
    if repo.startswith("git@"):
        owner_repo = repo.partition(":")[2].removesuffix(".git")
        return (
            f"`{repo[:80]}` is an SSH address; write it as `https://github.com/{owner_repo[:80]}`."
        )
    if repo.startswith("-"):
        return "The repository address starts with `-`, which git would read as an option."
    try:
        parts = urlsplit(repo)
        port = parts.port
    except ValueError:
        return "The repository address is not a valid URL."
    if parts.scheme != "https":
        return f"The repository must be an https:// address, not `{parts.scheme or repo}`."
    if parts.username or parts.password or port is not None:
        return "The repository address must not hold a user name, password or port."
    if parts.hostname not in allowed_hosts:
        hosts = ", ".join(allowed_hosts)
        return f"`{parts.hostname}` is not an allowed document host (allowed: {hosts})."
    if parts.query or parts.fragment or not _REPO_PATH.fullmatch(parts.path.removesuffix("/")):
        return "The repository address must be exactly `https://github.com/<owner>/<repo>`."
    try:  # what urlsplit forgives (a tab, a trailing slash) the fetch refuses: so do we
        rules.check_repo(repo, allowed_hosts)
    except rules.DocumentError as exc:
        return f"{exc}."
    return None


def pattern_problem(pattern: str) -> str | None:
    if "\0" in pattern or "\\" in pattern:
        return "The pattern holds a backslash or NUL character."
    if pattern.startswith(("/", "~", "-")):
        return f"`{pattern}` must be a relative path inside the repository."
    if ".." in pattern.split("/"):
        return f"`{pattern}` climbs out of the repository with `..`."
    if not pattern.endswith(".md"):
        return f"`{pattern}` must select Markdown files (ending in `.md`)."
    problem = rules.pattern_problem(pattern)  # the fetch's rule: `./a.md`, `a//b.md`, `é.md`
    return f"The pattern {rules.shown(pattern)} {problem}." if problem else None


def _finding(
    ctx: CheckContext, rule: str, path: tuple[str | int, ...], message: str, hint: str
) -> Finding:
    return error(rule, ctx.path, locate(ctx.root, path), message, hint, format_path(path))
