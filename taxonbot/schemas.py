"""Find, load and compile the JSON Schemas in `schemas/` (data, never code)."""

from __future__ import annotations

import json
import os
import sys
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

if TYPE_CHECKING:  # jsonschema costs ~70 ms to import; only commands that validate pay it
    from jsonschema.protocols import Validator

SUPPORTED_VERSIONS = ("1", "2", "3")
NEWEST_VERSION = "3"
MIN_KNOWLEDGE_VERSION = "3"  # upstream instructlab-schema refuses knowledge below 3
BASE_URI = "https://taxonbot.dev/schemas/"
_COMPOSED = frozenset({"allOf", "anyOf", "oneOf", "not", "if", "dependentSchemas", "$ref"})


@cache
def schemas_dir() -> str:
    """The checkout's `schemas/`, or the copy a non-editable install puts in <prefix>/share."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = (
        os.path.join(here, "schemas"),
        os.path.join(sys.prefix, "share", "taxonbot", "schemas"),
    )
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, "defs.json")):
            return candidate
    raise FileNotFoundError(
        "taxonbot's schemas/ folder is missing; reinstall with `pip install -e .` from a checkout"
    )


@cache
def load(uri: str) -> dict[str, Any]:
    """One schema by its `$id` (files are read only when needed: a check needs three)."""
    if not uri.startswith(BASE_URI):
        raise KeyError(f"not one of taxonbot's schemas: {uri}")
    path = os.path.join(schemas_dir(), *uri[len(BASE_URI) :].split("/"))
    with open(path, encoding="utf-8") as handle:
        contents: dict[str, Any] = json.load(handle)
    return contents


def schema_id(kind: str, version: str) -> str:
    name = "knowledge" if kind == "knowledge" else "skills"
    return f"{BASE_URI}v{version}/{name}.json"


def bundled(uri: str) -> dict[str, Any]:
    """The schema at `uri` with every `$ref` replaced by what it points to.

    Our schemas are not recursive, so inlining is finite; it saves a registry lookup per
    reference per file, which was a third of the validation time on the upstream corpus.
    """
    return _inline(load(uri), uri)


def _inline(node: Any, base: str) -> Any:
    if isinstance(node, list):
        return [_inline(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline(v, base) for k, v in node.items() if k != "$ref"}
    if "$ref" in node:
        target_uri, _, pointer = urljoin(base, node["$ref"]).partition("#")
        target: Any = load(target_uri)
        for step in filter(None, pointer.split("/")):
            target = target[step]
        out = {**_inline(target, target_uri), **out}
    if out.get("unevaluatedProperties") is False and not _COMPOSED & out.keys():
        # Same meaning once $refs are inlined, and jsonschema checks it several times faster.
        del out["unevaluatedProperties"]
        out["additionalProperties"] = False
    return out


@cache
def fast_validator(uri: str) -> Any:
    """jsonschema-rs (Rust) for the yes/no question, ~70x faster than jsonschema per file and
    ~3x cheaper to import. Only a file it rejects goes to jsonschema, whose errors we rewrite
    for people; tests/test_schema_gate.py keeps the two verdicts equal."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(bundled(uri))


@cache
def validator(uri: str) -> Validator:
    from jsonschema import Draft202012Validator

    schema = bundled(uri)
    schema.pop("$id", None)
    return Draft202012Validator(schema)
