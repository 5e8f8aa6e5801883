"""The coverage picture: a PNG a maintainer would rather look at than read the table."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from taxonbot.gaps.coverage import CoverageReport, coverage
from taxonbot.gaps.picture import MAX_DEPTH, layout, sunburst
from taxonbot.gaps.policy import DEFAULT_POLICY, Policy, WantedDomain, load_policy, policy_path

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def write_leaf(root: Path, path: str, seeds: int) -> None:
    folder = root / path
    folder.mkdir(parents=True)
    body = "".join(f"  - question: Q{i}?\n    answer: A.\n" for i in range(seeds)) or "  []\n"
    (folder / "qna.yaml").write_text(f"version: 3\nseed_examples:\n{body}", encoding="utf-8")


@pytest.fixture(scope="module")
def community() -> CoverageReport:
    policy = load_policy(policy_path(str(REPO / "taxonomy")))
    assert isinstance(policy, Policy)
    return coverage(str(REPO / "taxonomy"), policy)


def test_the_community_tree_renders_to_a_png(community: CoverageReport, tmp_path: Path) -> None:
    out = tmp_path / "coverage.png"
    sunburst(community, str(out))
    width, height = png_size(out)
    assert 800 <= width <= 2000 and 800 <= height <= 2000
    assert 30_000 < out.stat().st_size < 3_000_000  # a real picture, not a blank canvas


def test_the_same_tree_gives_the_same_bytes(community: CoverageReport, tmp_path: Path) -> None:
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    sunburst(community, str(first))
    sunburst(community, str(second))
    assert first.read_bytes() == second.read_bytes()


def test_an_empty_tree_still_renders(tmp_path: Path) -> None:
    out = tmp_path / "empty.png"
    sunburst(coverage(str(tmp_path / "taxonomy"), DEFAULT_POLICY), str(out))
    assert png_size(out)[0] >= 800 and out.stat().st_size > 10_000


def test_hostile_and_long_folder_names_render(tmp_path: Path) -> None:
    root = tmp_path / "taxonomy"
    write_leaf(root, "knowledge/$\\frac{1}{0$/x" + "y" * 80, 5)
    write_leaf(root, "knowledge/<img src=x>/@someone/a/b/c/deeper/than/the/rings", 0)
    write_leaf(root, "foundational_skills/" + "\u202etxt.exe", 7)
    write_leaf(root, "foundational_skills/bell\x07/日本語の名前", 3)
    (root / "knowledge" / "broken").mkdir()
    (root / "knowledge" / "broken" / "qna.yaml").write_text("[\n", encoding="utf-8")
    report = coverage(str(root), DEFAULT_POLICY)
    assert len(report.leaves) == 4 and len(report.skipped) == 1
    out = tmp_path / "hostile.png"
    sunburst(report, str(out))  # `$` must not reach mathtext, which would raise
    assert png_size(out)[0] >= 800


def test_wedges_nest_inside_their_parents(community: CoverageReport) -> None:
    wedges = layout(community)
    by_path = {w.path: w for w in wedges}
    roots = [w for w in wedges if w.depth == 1]
    assert math.isclose(sum(w.width for w in roots), 2 * math.pi)
    for wedge in wedges:
        assert 1 <= wedge.depth <= MAX_DEPTH
        if wedge.depth > 1:
            parent = by_path[wedge.path.rpartition("/")[0]]
            assert parent.start - 1e-9 <= wedge.start
            assert wedge.start + wedge.width <= parent.start + parent.width + 1e-9


def test_thin_branches_and_wanted_gaps_are_marked(tmp_path: Path) -> None:
    root = tmp_path / "taxonomy"
    write_leaf(root, "compositional_skills/writing/poems/haiku", 6)
    write_leaf(root, "compositional_skills/writing/poems/limerick", 6)
    write_leaf(root, "compositional_skills/writing/email/thanks", 5)
    wanted = (WantedDomain("knowledge/history/rome", "none yet"),)
    wedges = {w.path: w for w in layout(coverage(str(root), Policy(wanted=wanted)))}
    assert wedges["compositional_skills/writing/poems"].state == "branch"
    assert wedges["compositional_skills/writing/email"].state == "thin"
    assert wedges["compositional_skills/writing/poems/haiku"].state == "leaf"
    # The missing domain and the folders leading to it are drawn as wanted, at a leaf's size.
    assert [wedges[p].state for p in ("knowledge/history", "knowledge/history/rome")] == [
        "wanted",
        "wanted",
    ]
    assert wedges["knowledge"].state == "thin"  # an empty root
    assert math.isclose(
        wedges["knowledge/history/rome"].width,
        wedges["compositional_skills/writing/poems/haiku"].width,
    )
    assert wedges["foundational_skills"].width > 0  # an empty root still shows


def test_leaves_below_the_outer_ring_are_counted_in_it(tmp_path: Path) -> None:
    root = tmp_path / "taxonomy"
    write_leaf(root, "knowledge/a/b/c/d/e/f/leaf", 5)
    wedges = layout(coverage(str(root), DEFAULT_POLICY))
    deepest = max(wedges, key=lambda w: w.depth)
    assert (deepest.path, deepest.depth) == ("knowledge/a/b/c/d", MAX_DEPTH)
    assert deepest.seed_examples == 5
