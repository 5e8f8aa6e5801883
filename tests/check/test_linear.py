"""`taxonbot check` is linear in its input: 256 KiB of the worst shapes we know are checked in
well under a second (issue 20).

Before, 52,136 distinct keys took minutes (a duplicate-key scan and a key lookup per key, each
over every earlier key) and 5,099 seed examples took 15 s in the pairwise question rule. Each
shape here is as large as the size cap allows. The target is under a second; we assert 3 CPU
seconds so a busy CI machine cannot flake (a quadratic step is 10 to 100 times over), and print
the real time (`pytest -s` shows it). benchmarks/check_scaling_bench.py measures the same
shapes against size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_file
from taxonbot.taxonomy.findings import Finding

DATA = Path(__file__).resolve().parents[1] / "data" / "check" / "valid"
SKILL = DATA / "limerick_skill" / "compositional_skills/writing/freeform/limerick"
SIZE = 256 * 1024 - 64  # just under the file-size cap
SECONDS = 3.0  # CPU seconds; the target is 1 s; see the module docstring
HEAD = "version: 3\ncreated_by: jdoe\ntask_description: Write a limerick.\nseed_examples:\n"


def fill(head: str, unit: Callable[[int], str], tail: str = "") -> str:
    """`head`, then as many units as fit in SIZE, then `tail`."""
    out, size, index = [head], len(head) + len(tail), 0
    while size + len(piece := unit(index)) <= SIZE:
        out.append(piece)
        size += len(piece)
        index += 1
    return "".join(out) + tail


def limerick() -> str:
    return (SKILL / "qna.yaml").read_text("utf-8")


def many_keys() -> str:
    return fill(limerick(), lambda i: f"k{i:07d}: v\n")


def many_keys_in_a_seed() -> str:
    return fill(HEAD + "  - question: Q?\n    answer: A.\n", lambda i: f"    k{i:07d}: v\n")


def many_seeds() -> str:
    return fill(
        HEAD, lambda i: f"  - question: Write limerick number {i} about a cat.\n    answer: A.\n"
    )


def alike_questions() -> str:
    """Questions with the same words in another order, the most work for the similarity rule."""
    words = "what why how when where which who whose whom is are was".split()
    return fill(
        HEAD,
        lambda i: (
            f"  - question: {' '.join(words[i % 12 :] + words[: i % 12])} {i}\n    answer: A.\n"
        ),
    )


def long_line() -> str:
    return fill(HEAD + "  - question: Q?\n    answer:", lambda i: " word", "\n")


def long_flow_list() -> str:
    return fill("version: 3\ncreated_by: [", lambda i: "a, ", "a]\n")


def deep_lists() -> str:
    return fill(HEAD, lambda i: "  - " + "- " * 60 + "x\n")


@dataclass(frozen=True)
class Shape:
    make: Callable[[], str]
    rule: str
    line: int
    col: int
    says: str


SHAPES = {
    "many-keys": Shape(many_keys, "schema.unexpected-key", 40, 1, "`k0000000` is not a field"),
    "many-keys-in-a-seed": Shape(
        many_keys_in_a_seed, "schema.unexpected-key", 7, 5, "`seed_examples[0].k0000000`"
    ),
    "many-seeds": Shape(
        many_seeds, "content.too-many-seeds", 405, 5, "the limit is 200, so only the first 200"
    ),
    "alike-questions": Shape(alike_questions, "content.too-many-seeds", 405, 5, "the limit is 200"),
    "long-line": Shape(long_line, "content.too-long", 6, 13, "the limit is 250"),
    "long-flow-list": Shape(long_flow_list, "schema.type", 2, 13, "`created_by` should be text"),
    "deep-lists": Shape(deep_lists, "schema.type", 5, 5, "should be a mapping of fields"),
}


@pytest.fixture(scope="module", autouse=True)
def warm_checker() -> None:
    check_file(str(SKILL / "qna.yaml"), CheckOptions())


@pytest.mark.parametrize("name", list(SHAPES))
def test_256_kib_of_any_shape_is_checked_in_linear_time(name: str, tmp_path: Path) -> None:
    shape = SHAPES[name]
    folder = tmp_path / "compositional_skills/writing/freeform/limerick"
    folder.mkdir(parents=True)
    (folder / "attribution.txt").write_bytes((SKILL / "attribution.txt").read_bytes())
    text = shape.make()
    assert 240 * 1024 < len(text.encode()) <= 256 * 1024
    (folder / "qna.yaml").write_text(text, "utf-8")
    # CPU seconds of this process, not wall time: other jobs on a shared CI machine stretch the
    # wall clock (a run beside a model preview took 3.1 s of wall for 0.6 s of work) but not this.
    start = time.process_time()
    found = check_file(str(folder / "qna.yaml"), CheckOptions())
    elapsed = time.process_time() - start
    print(f"{name}: {elapsed * 1000:.0f} ms, {len(found)} findings")
    assert_found(found, shape.rule, shape.line, shape.col, shape.says)
    assert elapsed < SECONDS
    assert all(len(f.message) <= 1000 and len(f.hint) <= 1000 for f in found)


def assert_found(found: list[Finding], rule: str, line: int, col: int, says: str) -> None:
    at = [(f.rule, f.pos.line, f.pos.col) for f in found]
    assert (rule, line, col) in at, at
    hit = next(f for f in found if (f.rule, f.pos.line, f.pos.col) == (rule, line, col))
    assert hit.hint.strip()
    assert says in f"{hit.message} {hit.hint}", hit
