"""attribution.txt: where the content comes from, under which licence, by whom."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from taxonbot.check.rules.context import CheckContext
from taxonbot.schemas import load
from taxonbot.taxonomy.findings import Finding, Position, error, quoted
from taxonbot.taxonomy.invisible import invisible_findings
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME

MAX_BYTES = 64 * 1024
# Labels people actually write upstream, mapped to the schema's field names.
LABELS = {
    "title of work": "title_of_work",
    "title of the work": "title_of_work",
    "link to work": "link_to_work",
    "link to the work": "link_to_work",
    "revision": "revision",
    "license of the work": "license_of_the_work",
    "license": "license_of_the_work",
    "licence of the work": "license_of_the_work",
    "creator names": "creator_names",
    "creators name": "creator_names",
    "creator name": "creator_names",
    "creators names": "creator_names",
}
SCHEMA_ID = "https://taxonbot.dev/schemas/attribution.json"


@dataclass(frozen=True)
class Field:
    value: str
    line: int
    block: int = 0  # blank lines separate the blocks of a file that credits several works


def check(ctx: CheckContext) -> Iterator[Finding]:
    path = os.path.join(os.path.dirname(ctx.path), ATTRIBUTION_NAME)
    found = read(path)
    if found is None:
        yield error(
            "attribution.missing",
            ctx.path,
            Position(),
            f"There is no readable {ATTRIBUTION_NAME} beside this qna.yaml.",
            f"Add {ATTRIBUTION_NAME} with the lines Title of work, Link to work, License of "
            "the work and Creator names (see taxonomy/CONTRIBUTING.md).",
        )
        return
    text, fields = found
    yield from invisible_findings(path, text)
    yield from duplicate_findings(path, fields)
    yield from field_findings(path, {name: seen[0] for name, seen in fields.items()})
    # Every link and licence, not only the first of each: a second block (another work) or a
    # repeated line must not carry a value nobody looked at.
    for link in fields.get("link_to_work", []):
        yield from link_findings(path, link)
    for licence in fields.get("license_of_the_work", []):
        yield from licence_findings(path, licence)


def read(path: str) -> tuple[str, dict[str, list[Field]]] | None:
    """The text and every labelled line, in order, by field name; None if there is no file."""
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            text = handle.read(MAX_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return None
    fields: dict[str, list[Field]] = {}
    block = 0
    # Lines as GitHub shows them (taxonomy/textlines.py): not str.splitlines(), which also
    # breaks at U+2028 and friends and would let one visible line hide a second field.
    for number, line in enumerate(text.split("\n"), start=1):
        block += not line.strip()
        label, sep, value = line.removesuffix("\r").partition(":")
        name = LABELS.get(" ".join(label.lower().split()))
        if sep and name:
            fields.setdefault(name, []).append(Field(value.strip(), number, block))
    return text, fields


def duplicate_findings(path: str, fields: dict[str, list[Field]]) -> Iterator[Finding]:
    properties = load(SCHEMA_ID)["properties"]
    """A field twice in one block; a second block (after a blank line) credits another work."""
    for name, every in fields.items():
        blocks: dict[int, list[Field]] = {}
        for item in every:
            blocks.setdefault(item.block, []).append(item)
        for seen in blocks.values():
            if len(seen) > 1:
                yield _duplicate(path, properties[name]["title"], seen)


def _duplicate(path: str, title: str, seen: list[Field]) -> Finding:
    times = "twice" if len(seen) == 2 else f"{len(seen)} times"
    return error(
        "attribution.duplicate",
        path,
        Position(seen[1].line, 1),
        f"`{title}` is given {times} (first at line {seen[0].line}); only the first counts.",
        "Keep one line per field: delete the others, or merge their values into one line "
        "(a blank line starts the lines of another work).",
    )


def field_findings(path: str, fields: dict[str, Field]) -> Iterator[Finding]:
    """The required fields, each given and not empty (the first of each counts)."""
    schema = load(SCHEMA_ID)
    properties = schema["properties"]
    for name in schema["required"]:
        title = properties[name]["title"]
        if name not in fields or not fields[name].value:
            where = Position(fields[name].line, 1) if name in fields else Position()
            yield error(
                "attribution.field",
                path,
                where,
                f"`{title}` is missing or empty.",
                f"Add a line `{title}: ...`. {properties[name]['description']}",
            )


def link_findings(path: str, link: Field) -> Iterator[Finding]:
    if link.value and not link.value.startswith(("https://", "http://")):
        yield error(
            "attribution.link",
            path,
            Position(link.line, 1),
            f"`Link to work` should be a web address; it is {quoted(link.value)}.",
            "Give the https:// address where the work can be read; for your own writing, "
            "a link to your GitHub profile.",
        )


def licence_findings(path: str, licence: Field) -> Iterator[Finding]:
    allowed = load(SCHEMA_ID)["properties"]["license_of_the_work"]["enum"]
    if licence.value and licence.value not in allowed:
        yield error(
            "attribution.license",
            path,
            Position(licence.line, 1),
            f"{quoted(licence.value)} is not one of the accepted licences.",
            suggest_licence(licence.value, allowed),
        )


def suggest_licence(value: str, allowed: list[str]) -> str:
    squashed = "".join(ch for ch in value.lower() if ch.isalnum())
    for name in allowed:
        if "".join(ch for ch in name.lower() if ch.isalnum()) == squashed:
            return f"Write it as its SPDX name: `{name}`."
    return (
        "Use one of " + ", ".join(allowed) + "; if the work has another licence, it cannot be "
        "contributed."
    )
