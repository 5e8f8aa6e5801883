"""The question index and the overlap lookup, on small trees written per test, with the real model.

Story: a contributor opens a PR whose new skill asks what another leaf already asks, in other
words; the overlap names that leaf and shows both questions, and a second run of the job embeds
nothing it has seen before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from taxonbot.gaps.embed import Embedder
from taxonbot.gaps.overlap import leaf_of, overlap, overlap_json
from taxonbot.gaps.questionindex import (
    QuestionIndex,
    UnreadableQuestions,
    blob_id,
    build_index,
    seed_questions,
)

BOILING = "compositional_skills/science/boiling_points"
BREAD = "compositional_skills/cooking/bread"
WATER = "knowledge/science/water_cycle"


def skill(*questions: str) -> str:
    seeds = "".join(f"  - question: {q}\n    answer: An answer.\n" for q in questions)
    return f"version: 3\ncreated_by: someone\ntask_description: A task.\nseed_examples:\n{seeds}"


def knowledge(*questions: str) -> str:
    pairs = "".join(f"      - question: {q}\n        answer: An answer.\n" for q in questions)
    seed = f"  - context: A passage.\n    questions_and_answers:\n{pairs}"
    return f"version: 3\ndomain: science\ncreated_by: someone\nseed_examples:\n{seed}"


def write(root: Path, leaf: str, text: str) -> Path:
    path = root / leaf / "qna.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder(engine="torch")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "taxonomy"
    write(
        root,
        BOILING,
        skill(
            "At what temperature does water boil at sea level?",
            "Why does pasta water boil faster with a lid on?",
        ),
    )
    write(
        root,
        BREAD,
        skill(
            "How long should sourdough proof overnight?",
            "What flour is best for a crusty baguette?",
        ),
    )
    write(
        root,
        WATER,
        knowledge(
            "What is the dew point?",
            "Why does air cool as it rises?",
            "Where is most of Earth's fresh water found?",
        ),
    )
    return root


def build(root: Path, embedder: Embedder, cache: Path, **kw: int) -> QuestionIndex:
    return build_index(str(root), str(cache), embedder, **kw)


def test_blob_id_is_gits() -> None:
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    if shutil.which("git"):
        data = "version: 3\nquestion: Ünïcode?\n".encode()
        git = subprocess.run(["git", "hash-object", "--stdin"], input=data, capture_output=True)
        assert blob_id(data) == git.stdout.decode().strip()


@pytest.mark.model
def test_every_question_of_both_shapes_is_indexed(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    index = build(tree, embedder, tmp_path / "cache")
    assert [e.leaf for e in index.entries] == sorted([BOILING, BREAD, WATER])
    assert len(index.questions) == 7 and index.matrix.shape == (7, 384)
    water = index.by_leaf[WATER]
    assert index.questions[water.start : water.stop][0] == "What is the dew point?"
    assert water.file == f"{WATER}/qna.yaml"
    assert list(index.owner) == [0, 0, 1, 1, 2, 2, 2]


@pytest.mark.model
def test_a_second_build_embeds_nothing_and_an_edit_embeds_one_file(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = build(tree, embedder, cache)
    assert first.stats.blobs_embedded == 3
    for entry in first.entries:
        assert (cache / embedder.model_id / f"{entry.blob}.npz").is_file()
    again = build(tree, embedder, cache)
    assert again.stats.blobs_embedded == 0 and again.stats.blobs_loose == 3
    np.testing.assert_array_equal(again.matrix, first.matrix)
    write(tree, BREAD, skill("How long should sourdough proof overnight?", "Why knead dough?"))
    edited = build(tree, embedder, cache)
    assert edited.stats.blobs_embedded == 1
    assert edited.stats.questions_embedded == 2


@pytest.mark.model
def test_a_pack_replaces_many_loose_files(tree: Path, embedder: Embedder, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = build(tree, embedder, cache, repack_loose=0)
    assert first.stats.repacked and (cache / embedder.model_id / "PACK").is_file()
    packed = build(tree, embedder, cache, repack_loose=0)
    assert packed.stats.blobs_packed == 3 and packed.stats.blobs_embedded == 0
    assert not packed.stats.repacked  # nothing new: the pack already holds the tree
    np.testing.assert_allclose(packed.matrix, first.matrix)
    assert packed.questions == first.questions


@pytest.mark.model
def test_a_damaged_cache_is_rebuilt_not_trusted(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = build(tree, embedder, cache)
    blob = first.by_leaf[BREAD].blob
    (cache / embedder.model_id / f"{blob}.npz").write_bytes(b"PK\x03\x04 truncated")
    (cache / embedder.model_id / "PACK").write_text("pack-missing\n")
    again = build(tree, embedder, cache)
    assert again.stats.blobs_embedded == 1
    np.testing.assert_allclose(again.matrix, first.matrix, atol=1e-6)


@pytest.mark.model
def test_the_same_file_in_two_leaves_is_embedded_once_and_indexed_twice(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    shutil.copytree(tree / BREAD, tree / "compositional_skills/cooking/bread_copy")
    index = build(tree, embedder, tmp_path / "cache")
    assert index.stats.blobs_embedded == 3 and len(index.entries) == 4
    report = overlap(index, [BREAD], threshold=0.99)
    dups = report.leaves[0].near_duplicates
    assert {d.other_leaf for d in dups} == {"compositional_skills/cooking/bread_copy"}
    assert all(d.exact for d in dups) and len(dups) == 2


@pytest.mark.model
def test_an_unparsable_leaf_is_skipped_with_its_reason(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    write(tree, "compositional_skills/broken", "seed_examples: [unclosed\n")
    write(tree, "compositional_skills/a_list", "- just\n- a list\n")
    index = build(tree, embedder, tmp_path / "cache")
    reasons = {s.leaf: s.reason for s in index.skipped}
    assert "not valid YAML" in reasons["compositional_skills/broken"]
    assert "key: value" in reasons["compositional_skills/a_list"]
    assert len(index.entries) == 3
    report = overlap(index, ["compositional_skills/broken/qna.yaml"], threshold=0.8)
    assert report.leaves[0].status == "skipped"
    assert report.leaves[0].reason == reasons["compositional_skills/broken"]


@pytest.mark.model
def test_a_planted_reworded_question_is_found_in_the_other_leaf(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    new = "compositional_skills/physics/phase_changes"
    write(
        tree,
        new,
        skill(
            "What's the boiling point of water at sea level?", "How many legs does a spider have?"
        ),
    )
    index = build(tree, embedder, tmp_path / "cache")
    report = overlap(index, [f"taxonomy/{new}/qna.yaml"], threshold=0.8, k=3)
    leaf = report.leaves[0]
    assert leaf.leaf == new and leaf.status == "indexed"
    [dup] = leaf.near_duplicates
    assert dup.question == "What's the boiling point of water at sea level?"
    assert dup.other_leaf == BOILING and dup.other_file == f"{BOILING}/qna.yaml"
    assert dup.other_question == "At what temperature does water boil at sea level?"
    assert 0.8 <= dup.score <= 1.0 and not dup.exact
    first = leaf.questions[0]
    assert first.neighbours[0].leaf == BOILING
    assert [n.score for n in first.neighbours] == sorted(
        (n.score for n in first.neighbours), reverse=True
    )
    assert len(first.neighbours) == 3


@pytest.mark.model
def test_a_leaf_is_never_its_own_neighbour(tree: Path, embedder: Embedder, tmp_path: Path) -> None:
    write(
        tree, BREAD, skill("How long should sourdough proof?", "How long should sourdough proof?")
    )
    index = build(tree, embedder, tmp_path / "cache")
    report = overlap(index, [BREAD], threshold=0.0, k=10)
    leaf = report.leaves[0]
    seen = {n.leaf for q in leaf.questions for n in q.neighbours}
    seen |= {d.other_leaf for d in leaf.near_duplicates}
    assert BREAD not in seen and seen == {BOILING, WATER}
    assert all(len(q.neighbours) == 5 for q in leaf.questions)  # all 5 questions elsewhere


def test_changed_paths_in_any_form_name_the_same_leaf(tree: Path) -> None:
    forms = [
        f"taxonomy/{WATER}/qna.yaml",
        f"{WATER}/",
        WATER,
        f"{WATER}/attribution.txt",
        str(tree / WATER / "qna.yaml"),
    ]
    assert {leaf_of(p, str(tree)) for p in forms} == {WATER}


def test_an_empty_or_missing_tree_gives_an_empty_index(embedder: Embedder, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for root in (tmp_path / "empty", tmp_path / "nowhere"):
        index = build(root, embedder, tmp_path / "cache")
        assert index.entries == [] and index.matrix.shape == (0, 384)
        report = overlap(index, [BREAD], threshold=0.8)
        assert report.leaves[0].status == "absent"


@pytest.mark.model
def test_a_leaf_with_no_questions_is_indexed_and_harmless(
    tree: Path, embedder: Embedder, tmp_path: Path
) -> None:
    empty = "compositional_skills/empty"
    write(tree, empty, "version: 3\ncreated_by: x\ntask_description: y\nseed_examples: []\n")
    index = build(tree, embedder, tmp_path / "cache")
    entry = index.by_leaf[empty]
    assert entry.start == entry.stop
    report = overlap(index, [empty, BREAD], threshold=0.8)
    assert report.leaves[0].status == "indexed" and report.leaves[0].questions == ()
    assert len(report.leaves[1].questions) == 2
    again = build(tree, embedder, tmp_path / "cache")  # an empty entry round-trips the cache
    assert (
        again.stats.blobs_embedded == 0 and again.by_leaf[empty].start == again.by_leaf[empty].stop
    )


@pytest.mark.model
def test_json_keys_are_stable(tree: Path, embedder: Embedder, tmp_path: Path) -> None:
    index = build(tree, embedder, tmp_path / "cache")
    data = overlap_json(overlap(index, [BREAD, "knowledge/gone"], threshold=0.1, k=2))
    assert list(data) == ["format", "model", "threshold", "k", "leaves"]
    bread, gone = data["leaves"]
    assert list(bread) == [
        "leaf",
        "file",
        "status",
        "reason",
        "near_duplicates",
        "near_duplicates_omitted",
        "questions",
    ]
    assert list(bread["near_duplicates"][0]) == [
        "question",
        "other_leaf",
        "other_file",
        "other_question",
        "score",
        "exact",
    ]
    assert list(bread["questions"][0]["neighbours"][0]) == ["leaf", "file", "question", "score"]
    assert gone["status"] == "absent" and gone["questions"] == []


def test_seed_questions_reads_both_shapes_and_old_versions() -> None:
    v1 = b"version: 1\nseed_examples:\n  - question: Old style?\n    answer: Yes.\n"
    assert seed_questions("knowledge/x/qna.yaml", v1) == ["Old style?"]
    assert seed_questions("x/qna.yaml", knowledge("A?", "B?").encode()) == ["A?", "B?"]
    with pytest.raises(UnreadableQuestions, match="UTF-8"):
        seed_questions("x/qna.yaml", b"\xff\xfe\x00q")
    with pytest.raises(UnreadableQuestions, match="key: value"):
        seed_questions("x/qna.yaml", b"- a list\n")


@pytest.mark.model
def test_no_cache_file_is_left_half_written(tree: Path, embedder: Embedder, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    build(tree, embedder, cache, repack_loose=0)
    assert not [name for name in os.listdir(cache / embedder.model_id) if name.endswith(".tmp")]
