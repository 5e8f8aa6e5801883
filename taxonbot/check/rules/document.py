"""Knowledge documents: only an allowlisted https repo, a pinned commit, and safe .md patterns.

These values later reach `git fetch` (in the unprivileged SDG job), so anything that could be
read as an option, a local path or another protocol is refused before it gets that far. The
rules are the fetch's own (taxonbot/documents/rules.py), so the check and the fetch give one
verdict: what passes here is fetched, and what the fetch would refuse fails here first.
"""

from __future__ import annotations

from collections.abc import Iterator

from taxonbot.check.rules.context import CheckContext
from taxonbot.documents import rules
from taxonbot.taxonomy.findings import Finding, error
from taxonbot.taxonomy.yamlnode import format_path, locate


def check(ctx: CheckContext) -> Iterator[Finding]:
    document = ctx.data.get("document")
    if ctx.leaf.kind != "knowledge" or not isinstance(document, dict):
        return
    repo, commit, patterns = document.get("repo"), document.get("commit"), document.get("patterns")
    problem = rules.repo_problem(repo, ctx.options.allowed_hosts) if isinstance(repo, str) else ""
    if problem:
        yield _finding(
            ctx,
            "document.repo",
            ("document", "repo"),
            f"The repository address {rules.shown(repo)} {problem}.",
            "Use the address of a public GitHub repository: `https://github.com/<owner>/<repo>`.",
        )
    problem = rules.commit_problem(commit) if isinstance(commit, str) else ""
    if problem:
        yield _finding(
            ctx,
            "document.commit",
            ("document", "commit"),
            f"The commit {rules.shown(commit)} {problem}.",
            "Copy the full 40-character commit SHA (lowercase hex) from GitHub.",
        )
    for index, pattern in enumerate(patterns if isinstance(patterns, list) else []):
        problem = rules.pattern_problem(pattern) if isinstance(pattern, str) else ""
        if problem:
            yield _finding(
                ctx,
                "document.pattern",
                ("document", "patterns", index),
                f"The pattern {rules.shown(pattern)} {problem}.",
                "Write a path inside the repository such as `docs/topic.md` or `docs/*.md`.",
            )


def _finding(
    ctx: CheckContext, rule: str, path: tuple[str | int, ...], message: str, hint: str
) -> Finding:
    return error(rule, ctx.path, locate(ctx.root, path), message, hint, format_path(path))
