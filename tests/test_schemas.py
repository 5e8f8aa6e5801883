"""Tests for the JSON Schemas under schemas/.

1. Every schema file is a valid draft 2020-12 schema, and its `$id` matches its place on disk.
2. Every property carries a contributor-facing title and description.
3. Small hand-written documents validate (or fail) as expected.
4. Against the read-only upstream corpus (when present): our schema verdicts agree with
   upstream's (instructlab-schema 0.4.2) verdicts in verdicts.tsv.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / "schemas"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "upstream-taxonomy"
BASE_URI = "https://taxonbot.dev/schemas/"
VERSIONS = ("1", "2", "3")
SCHEMA_FILES = sorted(SCHEMA_DIR.rglob("*.json"))


# --------------------------------------------------------------------------- helpers


def _load_all() -> dict[str, dict[str, Any]]:
    schemas: dict[str, dict[str, Any]] = {}
    for path in SCHEMA_FILES:
        contents = json.loads(path.read_text(encoding="utf-8"))
        schemas[contents["$id"]] = contents
    return schemas


SCHEMAS = _load_all()
REGISTRY: Registry = Registry().with_resources(
    (uri, Resource.from_contents(contents, default_specification=DRAFT202012))
    for uri, contents in SCHEMAS.items()
)


def validator(name: str) -> Draft202012Validator:
    """A validator for e.g. "v3/skills.json" that resolves `$ref`s through the registry."""
    return Draft202012Validator(SCHEMAS[BASE_URI + name], registry=REGISTRY)


def errors(name: str, instance: Any) -> list[str]:
    return sorted(e.message for e in validator(name).iter_errors(instance))


class StringLoader(yaml.BaseLoader):
    """Keeps every scalar as a string, like taxonbot's loader, except YAML nulls.

    A plain scalar that YAML resolves to null (an empty value, `null`, `Null`, `NULL`, `~`)
    becomes None, as it does for upstream's `yaml.safe_load`; everything else stays a string.
    Merge keys (`<<: *anchor`) are applied, as `yaml.safe_load` does (one upstream file uses one).
    """

    flatten_mapping = yaml.constructor.SafeConstructor.flatten_mapping

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        return super().construct_mapping(node, deep=deep)


def _construct_str(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> str | None:
    value = loader.construct_scalar(node)
    if node.style is None and value in ("", "~", "null", "Null", "NULL"):
        return None
    return value


StringLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)
StringLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])


def _walk_properties(node: Any) -> Iterator[tuple[str, Any]]:
    """Yield (name, subschema) for every entry of every `properties` keyword."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for prop, sub in value.items():
                    yield prop, sub
                    yield from _walk_properties(sub)
            else:
                yield from _walk_properties(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_properties(item)


def _resolve(schema_id: str, sub: dict[str, Any]) -> dict[str, Any]:
    """Follow a `$ref` (if any) from within the schema with id `schema_id`."""
    if "$ref" not in sub:
        return sub
    resolved = REGISTRY.resolver(base_uri=schema_id).lookup(sub["$ref"]).contents
    return {**resolved, **{k: v for k, v in sub.items() if k != "$ref"}}


# --------------------------------------------------------------------------- 1. metaschema


def test_schema_files_exist() -> None:
    names = {p.relative_to(SCHEMA_DIR).as_posix() for p in SCHEMA_FILES}
    for version in VERSIONS:
        assert f"v{version}/knowledge.json" in names
        assert f"v{version}/skills.json" in names
    assert {"defs.json", "attribution.json"} <= names


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.relative_to(SCHEMA_DIR).as_posix())
def test_schema_is_valid_draft_2020_12(path: Path) -> None:
    contents = json.loads(path.read_text(encoding="utf-8"))
    assert contents["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert contents["$id"] == BASE_URI + path.relative_to(SCHEMA_DIR).as_posix()
    Draft202012Validator.check_schema(contents)


@pytest.mark.parametrize("schema_id", sorted(SCHEMAS))
def test_every_property_is_described(schema_id: str) -> None:
    for name, sub in _walk_properties(SCHEMAS[schema_id]):
        resolved = _resolve(schema_id, sub)
        assert resolved.get("description"), f"{schema_id}: property {name!r} has no description"
        assert resolved.get("title"), f"{schema_id}: property {name!r} has no title"


@pytest.mark.parametrize("version", VERSIONS)
def test_version_is_a_string_const(version: str) -> None:
    for kind in ("knowledge", "skills"):
        prop = SCHEMAS[f"{BASE_URI}v{version}/{kind}.json"]["properties"]["version"]
        assert prop["type"] == "string"
        assert prop["const"] == version


def test_old_knowledge_versions_are_marked_unsupported() -> None:
    for version in ("1", "2"):
        schema = SCHEMAS[f"{BASE_URI}v{version}/knowledge.json"]
        assert schema["deprecated"] is True
        assert schema["description"].startswith(
            f"Version {version} is not supported for knowledge. Minimum supported version is 3."
        )
    assert not SCHEMAS[f"{BASE_URI}v3/knowledge.json"].get("deprecated")


# --------------------------------------------------------------------------- 2. instances

SKILL_V3: dict[str, Any] = {
    "version": "3",
    "created_by": "jdoe",
    "task_description": "Writing a limerick about an animal",
    "seed_examples": [
        {"question": f"Write a limerick about animal {i}.", "answer": f"Limerick {i}"}
        for i in range(4)
    ]
    + [{"context": "A cat sat.", "question": "Rewrite as a limerick.", "answer": "There once..."}],
}

KNOWLEDGE_V3: dict[str, Any] = {
    "version": "3",
    "created_by": "jdoe",
    "domain": "Astronomy",
    "document_outline": "Overview of the planet Jupiter.",
    "document": {
        "repo": "https://github.com/jdoe/docs",
        "commit": "951999afdc59c46d325493568193b40bd5439c9e",
        "patterns": ["jupiter.md"],
    },
    "seed_examples": [
        {
            "context": f"Passage {i} about Jupiter.",
            "questions_and_answers": [
                {"question": f"Question {i}.{j}?", "answer": f"Answer {i}.{j}."} for j in range(3)
            ],
        }
        for i in range(5)
    ],
}


def test_valid_v3_skill() -> None:
    assert errors("v3/skills.json", SKILL_V3) == []


def test_valid_v3_knowledge() -> None:
    assert errors("v3/knowledge.json", KNOWLEDGE_V3) == []


def test_skill_with_three_seed_examples_fails() -> None:
    doc = copy.deepcopy(SKILL_V3)
    doc["seed_examples"] = doc["seed_examples"][:3]
    assert [e.validator for e in validator("v3/skills.json").iter_errors(doc)] == ["minItems"]


def test_knowledge_with_three_seed_examples_fails() -> None:
    doc = copy.deepcopy(KNOWLEDGE_V3)
    doc["seed_examples"] = doc["seed_examples"][:3]
    assert [e.validator for e in validator("v3/knowledge.json").iter_errors(doc)] == ["minItems"]


def test_knowledge_with_two_questions_fails() -> None:
    doc = copy.deepcopy(KNOWLEDGE_V3)
    doc["seed_examples"][2]["questions_and_answers"].pop()
    errs = list(validator("v3/knowledge.json").iter_errors(doc))
    assert [(e.validator, e.json_path) for e in errs] == [
        ("minItems", "$.seed_examples[2].questions_and_answers")
    ]


def test_null_task_description_fails() -> None:
    doc = copy.deepcopy(SKILL_V3)
    doc["task_description"] = None
    assert errors("v3/skills.json", doc) == ["None is not of type 'string'"]


def test_empty_strings_fail() -> None:
    doc = copy.deepcopy(SKILL_V3)
    doc["task_description"] = ""
    doc["seed_examples"][0]["answer"] = ""
    assert errors("v3/skills.json", doc) == ["'' should be non-empty"] * 2


def test_extra_attribution_key_fails() -> None:
    doc = copy.deepcopy(SKILL_V3)
    doc["attribution"] = "Wikipedia"
    assert errors("v3/skills.json", doc) == [
        "Unevaluated properties are not allowed ('attribution' was unexpected)"
    ]
    doc = copy.deepcopy(SKILL_V3)
    doc["seed_examples"][0]["attribution"] = "Wikipedia"
    assert errors("v3/skills.json", doc) == [
        "Unevaluated properties are not allowed ('attribution' was unexpected)"
    ]


def test_integer_version_fails() -> None:
    # Our loader never produces integers; the version must be the string form.
    doc = copy.deepcopy(SKILL_V3)
    doc["version"] = 3
    assert errors("v3/skills.json", doc) == ["'3' was expected", "3 is not of type 'string'"]
    doc["version"] = "2"
    assert errors("v3/skills.json", doc) == ["'3' was expected"]


def test_v3_knowledge_rejects_task_description_and_needs_document_fields() -> None:
    doc = copy.deepcopy(KNOWLEDGE_V3)
    doc["task_description"] = "Teach about Jupiter"
    del doc["document"]["commit"]
    doc["document"]["branch"] = "main"
    assert errors("v3/knowledge.json", doc) == [
        "'commit' is a required property",
        "Unevaluated properties are not allowed ('branch' was unexpected)",
        "Unevaluated properties are not allowed ('task_description' was unexpected)",
    ]


def test_duplicate_seed_examples_fail() -> None:
    doc = copy.deepcopy(SKILL_V3)
    doc["seed_examples"][1] = doc["seed_examples"][0]
    assert [e.validator for e in validator("v3/skills.json").iter_errors(doc)] == ["uniqueItems"]


def test_v1_skill_without_version() -> None:
    doc = copy.deepcopy(SKILL_V3)
    del doc["version"]
    doc["seed_examples"] = doc["seed_examples"][:1]
    doc["task_description"] = ""  # upstream's version 1 allows an empty (but present) text
    assert errors("v1/skills.json", doc) == []
    assert errors("v2/skills.json", doc) != []
    doc["task_description"] = None
    assert errors("v1/skills.json", doc) == ["None is not of type 'string'"]


def test_attribution() -> None:
    fields = {
        "title_of_work": "Jupiter",
        "link_to_work": "https://en.wikipedia.org/wiki/Jupiter",
        "revision": "https://en.wikipedia.org/w/index.php?title=Jupiter&oldid=1",
        "license_of_the_work": "CC-BY-SA-4.0",
        "creator_names": "Wikipedia Authors",
    }
    assert errors("attribution.json", fields) == []
    del fields["revision"]
    assert errors("attribution.json", fields) == []
    assert errors("attribution.json", {**fields, "license_of_the_work": "Apache 2.0"}) != []
    assert errors("attribution.json", {**fields, "creator_names": ""}) != []
    missing = {k: v for k, v in fields.items() if k != "link_to_work"}
    assert errors("attribution.json", missing) == ["'link_to_work' is a required property"]


# --------------------------------------------------------------------------- 3. upstream corpus

# Upstream's schema messages look like "ERROR: <file>:1:1 [.seed_examples[0]] <message>".
UPSTREAM_SCHEMA_ERROR = re.compile(r"ERROR: \S+:\d+:\d+ \[(?P<path>\S*)\] (?P<message>.*)")


class Verdict:
    """What our schemas say of one corpus file, decided the way upstream's TaxonomyParser does."""

    def __init__(self, rel: str, text: str) -> None:
        self.ok = False
        self.reason = ""
        self.contents: Any = None
        self.schema_name = ""
        self.errors: list[tuple[str, str]] = []  # (json_path, message) from the schema
        try:
            self.contents = yaml.load(text, Loader=StringLoader)
        except yaml.YAMLError as e:
            self.reason = f"YAML error: {type(e).__name__}"
            return
        if not self.contents:
            self.ok, self.reason = True, "empty file"  # upstream only warns
            return
        if not isinstance(self.contents, dict):
            self.reason = "top level is not a mapping"
            return
        # The schema comes from the top-level folder; files outside the known folders use
        # knowledge if they have a `document`, else skills. The version comes from the file
        # (missing or unreadable: 1). Knowledge below version 3 is refused outright.
        top = rel.split("/", 1)[0]
        if top == "knowledge":
            kind = "knowledge"
        elif top in ("compositional_skills", "foundational_skills"):
            kind = "skills"
        else:
            kind = "knowledge" if "document" in self.contents else "skills"
        try:
            version = int(self.contents.get("version", "1"))
        except (TypeError, ValueError):
            version = 1
        self.schema_name = f"v{version}/{kind}.json"
        schema = SCHEMAS.get(BASE_URI + self.schema_name)
        if schema is None:
            self.reason = f"no schema {self.schema_name}"
            return
        self.errors = sorted(
            (e.json_path, e.message) for e in validator(self.schema_name).iter_errors(self.contents)
        )
        if schema.get("deprecated"):
            self.reason = schema["description"].split(". This")[0]
        elif self.errors:
            self.reason = "[{}] {}".format(*self.errors[0])
        else:
            self.ok = True


def _corpus_rows() -> list[dict[str, str]]:
    if not (CORPUS / "verdicts.tsv").is_file():
        pytest.skip(f"upstream corpus not present at {CORPUS}")
    with (CORPUS / "verdicts.tsv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert rows
    return rows


# Files where our verdict differs from upstream's for a documented reason, keyed by the corpus
# path. (Empty: every difference found so far was fixed. foundational_skills/ is never checked
# upstream, so differences there are reported but not counted as failures.)
KNOWN_DISAGREEMENTS: dict[str, str] = {}


def test_agreement_with_upstream_corpus() -> None:
    rows = _corpus_rows()
    tally: Counter[tuple[str, bool, bool]] = Counter()
    unexpected: list[str] = []
    for row in rows:
        rel = row["file"]
        verdict = Verdict(rel, (CORPUS / rel).read_text(encoding="utf-8"))
        upstream_ok = row["upstream_ok"] == "1"
        top = rel.split("/", 1)[0]
        tally[(top, upstream_ok, verdict.ok)] += 1
        if verdict.ok == upstream_ok:
            continue
        line = (
            f"{rel}: upstream_ok={int(upstream_ok)} ours={int(verdict.ok)}\n"
            f"    ours:     {verdict.reason[:200]}\n"
            f"    upstream: {row['first_upstream_error'][:200]}"
        )
        print(line)
        if top != "foundational_skills" and rel not in KNOWN_DISAGREEMENTS:
            unexpected.append(line)

    agree = sum(n for (_, up, ours), n in tally.items() if up == ours)
    print(f"\nagreement with upstream: {agree}/{len(rows)}")
    for (top, up, ours), n in sorted(tally.items()):
        print(f"  {top:22} upstream_ok={int(up)} ours_ok={int(ours)}: {n}")
    assert not unexpected, "undocumented disagreements with upstream:\n" + "\n".join(unexpected)
    assert agree >= 0.98 * len(rows)


def test_same_error_as_upstream() -> None:
    """Where upstream's first message is a schema error, we report it too, at the same place."""
    rows = _corpus_rows()
    compared = 0
    missing: list[str] = []
    for row in rows:
        match = UPSTREAM_SCHEMA_ERROR.match(row["first_upstream_error"])
        if not match:
            continue
        compared += 1
        path = "$" if match["path"] == "." else "$" + match["path"]
        message = match["message"]  # upstream keeps the last 200 characters; the tsv cuts at 300
        verdict = Verdict(row["file"], (CORPUS / row["file"]).read_text(encoding="utf-8"))
        if not any(p == path and m[-200:][:50] == message[:50] for p, m in verdict.errors):
            missing.append(
                f"{row['file']}: upstream [{path}] {message[:100]}; ours {verdict.errors[:3]}"
            )
    print(f"\nupstream schema errors reproduced: {compared - len(missing)}/{compared}")
    assert compared > 0
    assert not missing, "\n".join(missing)


def test_old_knowledge_audit() -> None:
    """Knowledge below version 3 is refused, but its schema still audits the file's shape."""
    rows = _corpus_rows()
    tally: Counter[tuple[str, bool]] = Counter()
    for row in rows:
        verdict = Verdict(row["file"], (CORPUS / row["file"]).read_text(encoding="utf-8"))
        if verdict.schema_name in ("v1/knowledge.json", "v2/knowledge.json"):
            assert not verdict.ok
            assert row["upstream_ok"] == "0"
            tally[(verdict.schema_name, not verdict.errors)] += 1
    for (name, shape_ok), n in sorted(tally.items()):
        print(f"  {name}: well-formed={int(shape_ok)}: {n}")
    assert tally
