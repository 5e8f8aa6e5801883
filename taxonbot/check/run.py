"""`taxonbot check`: every rule over every file, collecting findings, never stopping early."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from taxonbot.check.rules import RULES, CheckContext
from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.rules.path_names import entry_findings, path_findings
from taxonbot.check.schemacheck import schema_findings
from taxonbot.check.seedcap import cap_seeds
from taxonbot.check.textrules import text_findings
from taxonbot.check.versions import decide
from taxonbot.taxonomy.findings import Finding, Position, error
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME, QNA_NAME, in_taxonomy, leaf_path, wants_check
from taxonbot.taxonomy.loader import LoadLimits, load

SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__"})
SCHEMA_LIMIT = 10  # per file, unless --verbose: the first problems matter most


def check_files(files: Iterable[str], options: CheckOptions) -> list[Finding]:
    found: list[Finding] = []
    for path in files:
        found.extend(check_file(path, options))
    return found


def check_file(path: str, options: CheckOptions) -> list[Finding]:
    entry = entry_findings(path)
    if entry is not None:
        return entry
    leaf = leaf_path(path)
    loaded = load(path, LoadLimits(max_bytes=options.max_bytes))
    found = list(loaded.findings)
    if loaded.text is not None:
        found += text_findings(path, loaded)
    root = loaded.root
    if root is None or root.kind != "map":
        if root is not None:
            found.append(not_a_mapping(path, root.pos))
        found += path_findings(leaf)
        return sorted(found, key=Finding.sort_key)
    data, capped = cap_seeds(path, root, root.to_python())
    found += capped
    ctx = CheckContext(path, leaf, root, data, options)
    decision = decide(ctx)
    found += decision.findings
    limit = None if options.verbose else SCHEMA_LIMIT
    for item in schema_findings(path, ctx.data, root, decision.schema_uri, limit):
        if not (decision.ignore_version_errors and item.yaml_path == "version"):
            found.append(item)
    for rule in RULES:
        found.extend(rule(ctx))
    return sorted(found, key=Finding.sort_key)


def not_a_mapping(path: str, pos: Position) -> Finding:
    return error(
        "structure.top-level",
        path,
        pos,
        "The file must be a set of `key: value` fields at the top level (version, created_by, "
        "task_description, seed_examples, ...), not a list or a single value.",
        "Start the file with `version: 3` on the first line; see taxonomy/CONTRIBUTING.md.",
    )


def discover(paths: Iterable[str]) -> Iterator[str]:
    """Files to check: what `wants_check` selects, and under a taxonomy root every symbolic link
    and submodule (each a finding: nothing behind it would be checked)."""
    seen: set[str] = set()
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            found = list(_walk(path))
        elif os.path.basename(path) == ATTRIBUTION_NAME:  # pre-commit passes it on its own
            found = [os.path.join(os.path.dirname(path), QNA_NAME)]
        else:
            found = [path]
        for item in found:
            if item not in seen:
                seen.add(item)
                yield item


def _walk(top: str) -> Iterator[str]:
    submodules = _gitmodules(top)
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in list(dirs):
            path = os.path.join(folder, name)
            if in_taxonomy(path) and (os.path.islink(path) or _submodule(path, submodules)):
                dirs.remove(name)
                yield path
        for name in sorted(files):
            path = os.path.join(folder, name)
            if wants_check(path) or (os.path.islink(path) and in_taxonomy(path)):
                yield path


def _submodule(folder: str, declared: frozenset[str]) -> bool:
    """A checked-out submodule has a `.git` entry; one not checked out is an empty folder that
    the walk's top `.gitmodules` names."""
    return os.path.normpath(folder) in declared or os.path.lexists(os.path.join(folder, ".git"))


def _gitmodules(top: str) -> frozenset[str]:
    try:
        with open(os.path.join(top, ".gitmodules"), encoding="utf-8", errors="replace") as handle:
            text = handle.read(1 << 20)
    except OSError:
        return frozenset()
    found = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return frozenset(
        os.path.normpath(os.path.join(top, value.strip()))
        for key, value in found
        if key.strip() == "path" and value.strip()
    )
