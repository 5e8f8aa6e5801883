"""attribution.txt: where the content comes from, under which licence, by whom."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from taxonbot.check.rules.context import CheckContext
from taxonbot.schemas import load
from taxonbot.taxonomy.findings import Finding, Position, error
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


def check(ctx: CheckContext) -> Iterator[Finding]:
    path = os.path.join(os.path.dirname(ctx.path), ATTRIBUTION_NAME)
    fields = read(path)
    if fields is None:
        yield error(
            "attribution.missing",
            ctx.path,
            Position(),
            f"There is no readable {ATTRIBUTION_NAME} beside this qna.yaml.",
            f"Add {ATTRIBUTION_NAME} with the lines Title of work, Link to work, License of "
            "the work and Creator names (see taxonomy/CONTRIBUTING.md).",
        )
        return
    yield from field_findings(path, fields)


def read(path: str) -> dict[str, Field] | None:
    try:
        if os.path.islink(path) or not os.path.isfile(path):
            return None
        with open(path, "rb") as handle:
            text = handle.read(MAX_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return None
    fields: dict[str, Field] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        label, sep, value = line.partition(":")
        name = LABELS.get(" ".join(label.lower().split()))
        if sep and name and name not in fields:
            fields[name] = Field(value.strip(), number)
    return fields


def field_findings(path: str, fields: dict[str, Field]) -> Iterator[Finding]:
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
    link = fields.get("link_to_work")
    if link and link.value and not link.value.startswith(("https://", "http://")):
        yield error(
            "attribution.link",
            path,
            Position(link.line, 1),
            f"`Link to work` should be a web address; it is `{link.value[:80]}`.",
            "Give the https:// address where the work can be read; for your own writing, "
            "a link to your GitHub profile.",
        )
    licence = fields.get("license_of_the_work")
    allowed = properties["license_of_the_work"]["enum"]
    if licence and licence.value and licence.value not in allowed:
        yield error(
            "attribution.license",
            path,
            Position(licence.line, 1),
            f"`{licence.value[:80]}` is not one of the accepted licences.",
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
