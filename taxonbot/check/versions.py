"""The version policy: one rule for PRs, one for whole-tree audits.

A file a pull request changes must use the newest format (version 3): new contributions should
not start life deprecated. A whole-tree audit accepts every supported version it can check and
warns on old ones, so the existing tree stays green while it migrates. Knowledge below version 3
is refused everywhere, as upstream instructlab-schema does.
"""

from __future__ import annotations

from dataclasses import dataclass

from taxonbot.check.rules.context import CheckContext
from taxonbot.schemas import MIN_KNOWLEDGE_VERSION, NEWEST_VERSION, SUPPORTED_VERSIONS, schema_id
from taxonbot.taxonomy.findings import Finding, Severity, error, quoted, warning
from taxonbot.taxonomy.yamlnode import locate


@dataclass(frozen=True)
class VersionDecision:
    schema_uri: str
    findings: tuple[Finding, ...]
    ignore_version_errors: bool  # the version problem is already reported in plain words


def decide(ctx: CheckContext) -> VersionDecision:
    declared = ctx.data.get("version")
    kind = ctx.leaf.kind
    newest = schema_id(kind, NEWEST_VERSION)
    if declared is None and kind == "skills" and not ctx.options.changed:
        declared = "1"  # upstream's v1 made `version` optional; the audit reads it as 1
    pos = locate(ctx.root, ("version",))
    if not isinstance(declared, str) or declared not in SUPPORTED_VERSIONS:
        if declared is None:
            return VersionDecision(newest, (), False)  # the schema says "version is missing"
        found = error(
            "version.unsupported",
            ctx.path,
            pos,
            f"{quoted(f'version: {declared}')} is not a qna.yaml format version taxonbot knows.",
            f"Use `version: {NEWEST_VERSION}` and the fields of that format "
            "(see taxonomy/CONTRIBUTING.md).",
            "version",
        )
        return VersionDecision(newest, (found,), True)
    if kind == "knowledge" and int(declared) < int(MIN_KNOWLEDGE_VERSION):
        found = error(
            "version.knowledge-minimum",
            ctx.path,
            pos,
            f"Version {declared} is not supported for knowledge; the minimum is "
            f"{MIN_KNOWLEDGE_VERSION}.",
            f"Change to `version: {NEWEST_VERSION}` and add what that format needs "
            "(domain, document_outline, questions_and_answers per seed example).",
            "version",
        )
        return VersionDecision(newest, (found,), True)
    if declared != NEWEST_VERSION:
        make = error if ctx.options.changed else warning
        found = make(
            "version.outdated",
            ctx.path,
            pos,
            f"This file uses format version {declared}; the newest is {NEWEST_VERSION}.",
            f"Change to `version: {NEWEST_VERSION}`"
            + (
                " (required for files changed in a pull request)."
                if ctx.options.changed
                else " when you next edit this file."
            ),
            "version",
        )
        return VersionDecision(schema_id(kind, declared), (found,), False)
    return VersionDecision(newest, (), False)


def is_blocking(finding: Finding) -> bool:
    return finding.severity is Severity.ERROR
