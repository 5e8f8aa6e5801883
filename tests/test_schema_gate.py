"""The fast schema gate (jsonschema-rs) must agree with jsonschema on every file we know.

`taxonbot check` asks jsonschema-rs "is this valid?" and only asks jsonschema (slower, but its
errors are what we rewrite for people) when the answer is no. If the two ever disagreed, a bad
file could pass silently; these stories keep them in step.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taxonbot.check.rules.context import CheckContext, CheckOptions
from taxonbot.check.run import discover
from taxonbot.check.versions import decide
from taxonbot.schemas import fast_validator, validator
from taxonbot.taxonomy.leaf import leaf_path
from taxonbot.taxonomy.loader import load

HERE = Path(__file__).resolve().parent


def verdicts(folder: Path) -> list[tuple[str, bool, bool]]:
    out = []
    for path in discover([str(folder)]):
        loaded = load(path)
        if loaded.root is None or loaded.root.kind != "map":
            continue
        data = loaded.root.to_python()
        if any(not isinstance(key, str) for key in data):
            continue  # jsonschema-rs refuses non-text keys; the gate then defers to jsonschema
        ctx = CheckContext(path, leaf_path(path), loaded.root, data, CheckOptions())
        uri = decide(ctx).schema_uri
        out.append((path, fast_validator(uri).is_valid(data), validator(uri).is_valid(data)))
    return out


def test_the_gate_agrees_on_every_example_case_and_the_community_tree() -> None:
    """A maintainer adds a case folder: both validators give it the same verdict."""
    rows = verdicts(HERE / "data" / "check") + verdicts(HERE.parent / "taxonomy")
    assert len(rows) > 40
    assert [r for r in rows if r[1] != r[2]] == []


def test_the_gate_agrees_on_the_upstream_corpus(shared_dir: Path) -> None:
    """Every real upstream contribution: the fast verdict equals jsonschema's."""
    corpus = shared_dir / "corpus" / "upstream-taxonomy"
    if not corpus.is_dir():
        pytest.skip("the upstream corpus is not beside the project")
    rows = verdicts(corpus)
    assert len(rows) > 400
    assert sum(1 for r in rows if r[2]) > 100, "some files must be valid for this to mean much"
    assert [r for r in rows if r[1] != r[2]] == []
