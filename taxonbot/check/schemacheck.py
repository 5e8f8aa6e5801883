"""Schema findings, with jsonschema's messages rewritten for contributors.

jsonschema says "[] is too short" or "None is not of type 'string'"; a contributor needs
"seed_examples needs at least 5 items; it has 3" and where to type. We order errors the way
`jsonschema.exceptions.best_match` would, so the most useful one comes first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from taxonbot.schemas import fast_validator, validator
from taxonbot.taxonomy.findings import Finding, Position, error, quoted
from taxonbot.taxonomy.yamlnode import Node, format_path, locate

if TYPE_CHECKING:
    from jsonschema import ValidationError

_SUGGESTED_KEYS = 20  # "did you mean" for the first unexpected keys of a mapping, not 50,000
_TYPE_WORDS = {"string": "text", "array": "a list", "object": "a mapping of fields"}


def schema_findings(path: str, data: Any, root: Node, uri: str, limit: int | None) -> list[Finding]:
    try:
        if fast_validator(uri).is_valid(data):
            return []  # the common case never imports jsonschema
    except ValueError:
        pass  # a key jsonschema-rs cannot take (`~:` is a null key): let jsonschema explain
    from jsonschema.exceptions import best_match

    errors = list(validator(uri).iter_errors(data))
    if not errors:
        return []
    # The most relevant problem first (what jsonschema's best_match picks), then the rest in
    # the order they appear in the file, so a capped list shows the first ones a person meets.
    best = max(errors, key=lambda e: _relevance(root, e))
    rest: list[Finding] = []
    for err in errors:
        if err is not best:
            rest.extend(explain(path, best_match(err.context) if err.context else err, root))
    first = list(explain(path, best_match(best.context) if best.context else best, root))
    found = _dedupe(first + sorted(rest, key=lambda f: f.pos))
    if limit is not None and len(found) > limit:
        more = len(found) - limit
        found = found[:limit]
        found.append(
            error(
                "schema.more",
                path,
                Position(),
                f"{more} more schema problem{'s' if more > 1 else ''} in this file.",
                "Fix the ones above first, or run `taxonbot check --verbose` to see all.",
            )
        )
    return found


def _relevance(root: Node, err: ValidationError) -> tuple[int, bool, int, int]:
    """jsonschema's `relevance` (shallow errors first, anyOf/oneOf weakest), except that ties
    go to the problem nearest the top of the file rather than the largest path."""
    line, col = locate(root, tuple(err.absolute_path))
    return (-len(err.path), err.validator not in ("anyOf", "oneOf"), -line, -col)


def _dedupe(found: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, Position]] = set()
    out = []
    for item in found:
        key = (item.rule, item.message, item.pos)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def explain(path: str, err: ValidationError, root: Node) -> Iterator[Finding]:
    where = tuple(err.absolute_path)
    name = format_path(where) or "the file"
    keyword = str(err.validator)
    if keyword == "required":
        yield from _missing(path, err, root, where)
    elif keyword in ("unevaluatedProperties", "additionalProperties"):
        yield from _unexpected(path, err, root, where)
    else:
        message, hint = _describe(keyword, err, name)
        yield error(
            f"schema.{_rule(keyword)}", path, locate(root, where), message, hint, format_path(where)
        )


def _rule(keyword: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", keyword).lower()


def _describe(keyword: str, err: ValidationError, name: str) -> tuple[str, str]:
    value, want = err.instance, err.validator_value
    about = _about(err.schema)
    if keyword == "type" and value is None:
        return f"`{name}` is empty.", f"Write the value after the colon. {about}".strip()
    if keyword == "type":
        wanted = _TYPE_WORDS.get(str(want), str(want))
        return f"`{name}` should be {wanted}.", about or "Compare with taxonomy/CONTRIBUTING.md."
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        count = len(value) if isinstance(value, list) else 0
        return f"`{name}` needs {bound} {want} items; it has {count}.", about
    if keyword == "minLength":
        return f"`{name}` is empty.", f"Write the value after the colon. {about}".strip()
    if keyword in ("const", "enum"):
        allowed = [want] if keyword == "const" else list(want)
        shown = ", ".join(f"`{a}`" for a in allowed)
        return f"`{name}` is {quoted(value)}; it must be {shown}.", about
    if keyword == "uniqueItems":
        return f"`{name}` holds two identical items.", "Change or remove the repeated item."
    if keyword == "pattern":
        return f"`{name}` has the wrong form: {quoted(value)}.", about
    return f"`{name}`: {err.message}.", about or "Compare with taxonomy/CONTRIBUTING.md."


def _missing(
    path: str, err: ValidationError, root: Node, where: tuple[Any, ...]
) -> Iterator[Finding]:
    present = err.instance if isinstance(err.instance, dict) else {}
    properties = err.schema.get("properties", {}) if isinstance(err.schema, dict) else {}
    for field in err.validator_value:
        if field in present:
            continue
        about = _about(properties.get(field, {}))
        yield error(
            "schema.required",
            path,
            locate(root, where),
            f"`{format_path((*where, field))}` is missing.",
            f"Add a `{field}:` line. {about}".strip(),
            format_path(where),
        )


def _unexpected(
    path: str, err: ValidationError, root: Node, where: tuple[Any, ...]
) -> Iterator[Finding]:
    known = list(err.schema.get("properties", {})) if isinstance(err.schema, dict) else []
    for count, key in enumerate(_extras(err)):
        hint = f"Remove {quoted(key)}, or check its spelling and indentation."
        close = difflib.get_close_matches(str(key), known, n=1) if count < _SUGGESTED_KEYS else []
        if key == "attribution":
            hint = (
                "Move the source details into attribution.txt beside qna.yaml and delete them here."
            )
        elif close:
            hint = f"Did you mean `{close[0]}`? Rename the key."
        yield error(
            "schema.unexpected-key",
            path,
            locate(root, (*where, key), key=True),
            f"`{format_path((*where, key))}` is not a field of this format.",
            hint,
            format_path((*where, key)),
        )


def _extras(err: ValidationError) -> list[Any]:
    """The instance's keys that jsonschema's message names, in file order.

    jsonschema names them with repr(): 'x', "it's", None, joined by ", ". Each key's repr is
    looked up among the pieces of that list: one set lookup per key, where `repr(key) in
    message` scanned the message once per key (quadratic for 50,000 keys)."""
    if not isinstance(err.instance, dict):
        return []
    listed = err.message.split("(", 1)[-1]
    body = re.sub(r" (?:was|were) [a-z ]+\)$", "", listed)
    items = set(body.split(", "))
    return [key for key in err.instance if _named(repr(key), items, body)]


def _named(name: str, items: set[str], body: str) -> bool:
    return name in items or (", " in name and name in body)


def _about(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    text = str(schema.get("description", ""))
    return text if len(text) < 400 else text[:397] + "..."
