"""The fixed regression set of branch evaluation: general questions with short reference answers.

A build must not learn its new leaves by forgetting everything else, so both the previous and the
new build answer the same general questions (taxonbot/modelbuild/regression.yaml by default). The
file is read with the same safe loader as contributor YAML (a caller may pass its own file),
checked in full, and every problem is reported at once with its line and column.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from taxonbot.errors import CannotRun
from taxonbot.taxonomy.loader import load
from taxonbot.taxonomy.yamlnode import Node

REGRESSION_FILE = Path(__file__).with_name("regression.yaml")
FIELDS = ("id", "category", "question", "answer")
MIN_ITEMS = 10  # fewer and one answer moves the score by more than the usual threshold
MAX_ITEMS = 500  # each costs two model calls per build
MAX_CHARS = {"id": 64, "category": 64, "question": 500, "answer": 300}
REGRESSION_HINT = "Fix the file, or use the default set taxonbot/modelbuild/regression.yaml."
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_SHOWN = 8  # problems spelled out in the error; the rest are counted

Locate = Callable[[Node, str, str], str]  # (node, YAML path, message) -> "file:line:col: ..."


class RegressionSetError(CannotRun):
    """The regression file cannot be used; the message lists each problem and where it is."""


@dataclass(frozen=True)
class RegressionItem:
    id: str
    category: str
    question: str
    answer: str


@dataclass(frozen=True)
class RegressionSet:
    path: str
    version: str
    sha256: str  # of the file's bytes: the build record says which set the scores come from
    items: tuple[RegressionItem, ...]


def load_regression(path: str | Path = REGRESSION_FILE) -> RegressionSet:
    """The set at `path`, or RegressionSetError naming the file and every problem in it."""
    version, digest, rows = read_item_file(path, FIELDS, "the regression set", REGRESSION_HINT)
    items = tuple(RegressionItem(**row) for row in rows)
    return RegressionSet(str(path), version, digest, items)


def read_item_file(
    path: str | Path, fields: tuple[str, ...], what: str, hint: str
) -> tuple[str, str, list[dict[str, str]]]:
    """(version, sha256 of the bytes, the items as {field: text}) of a versioned list of short
    texts — the regression set, the self-replay prompts — or RegressionSetError naming `what`,
    the file and every problem in it with its line and column, and ending with `hint`."""
    loaded = load(str(path))
    problems = [f"{f.location}: {f.message}" for f in loaded.findings]
    if loaded.root is not None:
        problems += list(_problems(str(path), loaded.root, fields))
    if problems or loaded.root is None or loaded.text is None:
        raise _error(what, str(path), problems or [f"{path}:1:1: the file could not be read"], hint)
    digest = hashlib.sha256(loaded.text.encode("utf-8")).hexdigest()
    root = loaded.root.to_python()
    rows = [{k: str(item[k]).strip() for k in fields} for item in root["items"]]
    return str(root["version"]), digest, rows


def _problems(path: str, root: Node, fields: tuple[str, ...]) -> Iterator[str]:
    def at(node: Node, where: str, message: str) -> str:
        return f"{path}:{node.pos.line}:{node.pos.col}: {where}: {message}"

    if root.kind != "map":
        yield at(root, "top level", "must be a mapping with `version` and `items`")
        return
    yield from (
        at(k, k.value or "key", "unknown key")
        for k in root.keys
        if k.value not in {"version", "items"}
    )
    version = root.child("version")
    # The list's own version, bumped whenever its items change: recorded with every score.
    if version is None or not re.fullmatch(r"[1-9][0-9]{0,5}", str(version.value)):
        shown = "missing" if version is None else repr(version.value)
        yield at(version or root, "version", f"must be a whole number from 1; it is {shown}")
    items = root.child("items")
    if items is None or items.kind != "seq":
        yield at(items or root, "items", "must be a list of items")
        return
    if not MIN_ITEMS <= len(items.items) <= MAX_ITEMS:
        yield at(
            items, "items", f"needs {MIN_ITEMS} to {MAX_ITEMS} items; it has {len(items.items)}"
        )
    seen: dict[str, int] = {}
    for i, item in enumerate(items.items):
        yield from _item_problems(item, f"items[{i}]", fields, at)
        ident = item.child("id") if item.kind == "map" else None
        if ident is not None and ident.value:
            if ident.value in seen:
                yield at(
                    ident,
                    f"items[{i}].id",
                    f"{ident.value!r} is also the id of items[{seen[ident.value]}]",
                )
            seen.setdefault(ident.value, i)


def _item_problems(item: Node, where: str, fields: tuple[str, ...], at: Locate) -> Iterator[str]:
    if item.kind != "map":
        yield at(item, where, f"must be a mapping with {', '.join(fields)}")
        return
    yield from (
        at(k, f"{where}.{k.value}", "unknown key") for k in item.keys if k.value not in fields
    )
    for field in fields:
        node = item.child(field)
        text = (node.value or "").strip() if node is not None and node.kind == "scalar" else ""
        if node is None or not text:
            yield at(node or item, f"{where}.{field}", "is missing or empty; write a short text")
        elif len(text) > MAX_CHARS[field]:
            yield at(
                node, f"{where}.{field}", f"is {len(text)} characters; at most {MAX_CHARS[field]}"
            )
        elif field in ("id", "category") and not _SLUG.fullmatch(text):
            yield at(
                node, f"{where}.{field}", f"{text!r} must be lowercase letters, digits, - or _"
            )


def _error(what: str, path: str, problems: list[str], hint: str) -> RegressionSetError:
    shown = "\n".join(f"  {p}" for p in problems[:_SHOWN])
    more = f"\n  ... {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    return RegressionSetError(
        f"{what} {path} cannot be used ({len(problems)} problem"
        f"{'s' if len(problems) != 1 else ''}):\n{shown}{more}\n{hint}"
    )
