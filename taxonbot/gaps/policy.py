"""The coverage policy, `taxonomy/wanted.yaml`: which domains the community wants, what is thin.

The file is read with the same safe loader as `qna.yaml` (every scalar stays text), because a
pull request can change it too. Every problem becomes a `Finding` with file:line:col and a fix;
all of them are collected, and none escapes as a traceback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from taxonbot.taxonomy.findings import Finding, error
from taxonbot.taxonomy.leaf import ROOTS
from taxonbot.taxonomy.loader import load
from taxonbot.taxonomy.yamlnode import Node

POLICY_NAME = "wanted.yaml"
# Not a `taxonbot check` rule (check never reads this file); tests/gaps shows every case of it.
POLICY_RULE = "policy.invalid"
FORMAT_VERSION = "1"
_SEGMENT = re.compile(r"[a-z0-9_]+")
_NUMBER = re.compile(r"[0-9]{1,9}")
_TOP_KEYS = ("version", "thin", "wanted")
_THIN_KEYS = ("min_leaves", "min_seed_examples")
_WANTED_KEYS = ("path", "why")
_DOC = "Follow the commented example in taxonomy/wanted.yaml: `version`, `thin`, `wanted`."


@dataclass(frozen=True)
class Thresholds:
    """A branch is thin when it has fewer leaves, or fewer seed examples, than these."""

    min_leaves: int = 2
    min_seed_examples: int = 10


@dataclass(frozen=True)
class WantedDomain:
    path: str  # a taxonomy path, e.g. `knowledge/science/earth_science`
    why: str  # one line for the person who might write the leaf


@dataclass(frozen=True)
class Policy:
    wanted: tuple[WantedDomain, ...] = ()
    thin: Thresholds = Thresholds()
    source: str = "built-in default (no taxonomy/wanted.yaml)"


@dataclass(frozen=True)
class PolicyError:
    """The policy file exists but cannot be used; every problem found, in file order."""

    path: str
    findings: tuple[Finding, ...]

    def render(self) -> str:
        """`file:line:col: message` and a `fix:` line per problem, as `taxonbot check` prints."""
        return "\n".join(f"{f.location}: {f.message}\n    fix: {f.hint}" for f in self.findings)


DEFAULT_POLICY = Policy()


def policy_path(taxonomy_root: str) -> str:
    return os.path.join(taxonomy_root, POLICY_NAME)


def load_policy(path: str) -> Policy | PolicyError:
    """The policy at `path`; the default when there is no such file (a tree needs no policy)."""
    if not os.path.lexists(path):
        return DEFAULT_POLICY
    loaded = load(path)
    if loaded.root is None and [f.rule for f in loaded.findings] == ["file.empty"]:
        return Policy(source=path)  # a file of comments only: nothing wanted yet
    if loaded.root is None or loaded.findings:
        return PolicyError(path, tuple(loaded.findings))
    problems: list[Finding] = []
    policy = _read_policy(path, loaded.root, problems)
    return PolicyError(path, tuple(problems)) if problems else policy


def _read_policy(path: str, root: Node, problems: list[Finding]) -> Policy:
    if root.kind != "map":
        problems.append(_problem(path, root, "The policy must be `key: value` fields.", _DOC))
        return DEFAULT_POLICY
    _check_keys(path, root, _TOP_KEYS, problems)
    version = root.child("version")
    if version is not None and version.value != FORMAT_VERSION:
        problems.append(
            _problem(
                path,
                version,
                f"This taxonbot reads policy version {FORMAT_VERSION}; the file says "
                f"`{version.value}`.",
                f"Write `version: {FORMAT_VERSION}`, or upgrade taxonbot.",
            )
        )
    thin = _read_thin(path, root.child("thin"), problems)
    wanted = _read_wanted(path, root.child("wanted"), problems)
    return Policy(wanted, thin, path)


def _read_thin(path: str, node: Node | None, problems: list[Finding]) -> Thresholds:
    if node is None:
        return Thresholds()
    if node.kind != "map":
        hint = "Write `thin:` and, indented below it, `min_leaves: 2` and `min_seed_examples: 10`."
        problems.append(_problem(path, node, "`thin` must hold `key: value` fields.", hint))
        return Thresholds()
    _check_keys(path, node, _THIN_KEYS, problems)
    default = Thresholds()
    return Thresholds(
        *(_number(path, node, key, getattr(default, key), problems) for key in _THIN_KEYS)
    )


def _number(path: str, parent: Node, key: str, default: int, problems: list[Finding]) -> int:
    node = parent.child(key)
    if node is None:
        return default
    if node.kind == "scalar" and node.value is not None and _NUMBER.fullmatch(node.value):
        return int(node.value)
    shown = f"`{node.value}`" if node.kind == "scalar" and node.value else "empty or not a number"
    problems.append(
        _problem(
            path,
            node,
            f"`{key}` must be a whole number of 0 or more; it is {shown}.",
            f"Write digits only, for example `{key}: {default}`.",
        )
    )
    return default


def _read_wanted(path: str, node: Node | None, problems: list[Finding]) -> tuple[WantedDomain, ...]:
    if node is None or (node.kind == "scalar" and node.value is None):
        return ()
    if node.kind != "seq":
        hint = "Write `wanted:` and below it one `- path: ...` item per domain, each with `why:`."
        problems.append(_problem(path, node, "`wanted` must be a list of domains.", hint))
        return ()
    out: list[WantedDomain] = []
    for item in node.items:
        domain = _read_domain(path, item, problems)
        if domain is None:
            continue
        if any(domain.path == seen.path for seen in out):
            hint = "Delete one of the two items, or merge their `why`."
            problems.append(_problem(path, item, f"`{domain.path}` is listed twice.", hint))
            continue
        out.append(domain)
    return tuple(out)


def _read_domain(path: str, item: Node, problems: list[Finding]) -> WantedDomain | None:
    if item.kind != "map":
        hint = "Give each item a `path:` and a `why:` line, as in the examples in the file."
        problems.append(_problem(path, item, "A wanted domain needs `path` and `why`.", hint))
        return None
    _check_keys(path, item, _WANTED_KEYS, problems)
    where, why = _text(path, item, "path", problems), _text(path, item, "why", problems)
    if where is None or why is None:
        return None
    bad = _path_problem(where)
    if bad:
        hint = "Use a path as in the tree, e.g. `knowledge/science/earth_science`."
        problems.append(_problem(path, item.child("path") or item, bad, hint))
        return None
    return WantedDomain(where, " ".join(why.split()))


def _text(path: str, item: Node, key: str, problems: list[Finding]) -> str | None:
    node = item.child(key)
    if node is not None and node.kind == "scalar" and node.value and node.value.strip():
        return node.value.strip()
    what = {"path": "the taxonomy path", "why": "one line on why the community wants it"}[key]
    hint = f"Add `{key}:` with {what}."
    problems.append(_problem(path, node or item, f"This wanted domain has no `{key}`.", hint))
    return None


def _path_problem(where: str) -> str:
    parts = where.split("/")
    if parts[0] not in ROOTS:
        return f"`{where}` must start with one of {', '.join(ROOTS)}."
    odd = [part for part in parts if not _SEGMENT.fullmatch(part)]
    if odd:
        return f"`{odd[0]}` in `{where}` is not a lower_snake_case folder name."
    return ""


def _check_keys(path: str, node: Node, allowed: tuple[str, ...], problems: list[Finding]) -> None:
    for key in node.keys:
        if key.value not in allowed:
            problems.append(
                _problem(
                    path,
                    key,
                    f"`{key.value}` is not a policy field here.",
                    f"Use only {', '.join(f'`{name}`' for name in allowed)} (check the spelling).",
                )
            )


def _problem(path: str, node: Node, message: str, hint: str) -> Finding:
    return error(POLICY_RULE, path, node.pos, message, hint)
