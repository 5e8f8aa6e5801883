"""The build record's pictures: a release manager sees the loss fall phase by phase and each new
leaf's score before and after, and a rebuild from the same numbers gives the same bytes."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from taxonbot.modelbuild.evaluate import EvalReport, Scores, SetResult, decide
from taxonbot.modelbuild.plots import MAX_ROWS, PlotError, loss_plot, scores_plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def scored(name: str, before: float, after: float, kind: str = "knowledge") -> SetResult:
    def scores(value: float) -> Scores:
        return Scores(value, value, value, value, 0, 0.0)

    return SetResult(f"taxonomy/{name}/qna.yaml", name, kind, scores(before), scores(after), ())


def report(leaves: int = 2) -> EvalReport:
    rows = tuple(
        scored(f"knowledge/topic_{i}/leaf_with_a_long_name", 0.3, 0.3 + 0.1 * (i % 3))
        for i in range(leaves)
    )
    regression = scored("regression set", 0.54, 0.52, kind="regression")
    return decide(rows, regression, {"before": {}, "after": {}}, "previous_build", 0.05, 0.03)


PHASES = {
    "phase 1 (knowledge)": [2.9 - 0.04 * i + 0.05 * math.sin(i) for i in range(40)],
    "phase 2 (skills + replay)": [2.1 - 0.02 * i + 0.05 * math.cos(i) for i in range(30)],
}


def test_the_loss_curves_of_both_phases_render_to_a_png(tmp_path: Path) -> None:
    out = tmp_path / "loss.png"
    loss_plot(PHASES, out)
    width, height = png_size(out)
    assert (width, height) == (880, 495)
    assert out.stat().st_size > 20_000  # curves and text, not a blank canvas


def test_the_same_losses_give_the_same_bytes(tmp_path: Path) -> None:
    loss_plot(PHASES, tmp_path / "a.png")
    loss_plot(PHASES, tmp_path / "b.png")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert b"Software" not in (tmp_path / "a.png").read_bytes()  # no matplotlib version stamp


def test_a_diverged_step_leaves_a_gap_rather_than_breaking_the_plot(tmp_path: Path) -> None:
    phases = {"phase 1": [2.0, math.nan, math.inf, 1.5], "phase 2": []}
    loss_plot(phases, tmp_path / "loss.png")
    assert png_size(tmp_path / "loss.png")[0] == 880


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        ({}, "no loss values to plot: every phase is empty"),
        ({"phase 1": [], "phase 2": []}, "no loss values to plot"),
        ({"phase 1": [1.0, "high"]}, "phase 'phase 1' has a loss that is not a number"),
    ],
    ids=["no phases", "empty phases", "a word for a loss"],
)
def test_nothing_to_plot_is_a_clear_error(
    tmp_path: Path, phases: dict[str, list[float]], message: str
) -> None:
    with pytest.raises(PlotError, match=message):
        loss_plot(phases, tmp_path / "loss.png")
    assert not (tmp_path / "loss.png").exists()


def test_before_and_after_scores_render_per_leaf_and_for_the_regression_set(
    tmp_path: Path,
) -> None:
    out = tmp_path / "scores.png"
    evaluated = report(leaves=3)
    assert not evaluated.publishable  # the first leaf did not gain: drawn red
    scores_plot(evaluated, out)
    width, height = png_size(out)
    assert width == 990 and height > 300  # grows with the rows: 3 leaves + the regression set
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    scores_plot(evaluated, first)
    scores_plot(evaluated, second)
    assert first.read_bytes() == second.read_bytes()


def test_a_build_with_many_leaves_draws_the_first_ones_and_says_how_many_are_left_out(
    tmp_path: Path,
) -> None:
    many, most = tmp_path / "many.png", tmp_path / "most.png"
    scores_plot(report(leaves=MAX_ROWS + 5), many)
    scores_plot(report(leaves=MAX_ROWS), most)
    assert png_size(many) == png_size(most)  # the same rows drawn...
    assert many.read_bytes() != most.read_bytes()  # ...and a title that counts the 5 left out


def test_a_build_with_no_new_leaf_still_shows_the_regression_set(tmp_path: Path) -> None:
    none, one = tmp_path / "none.png", tmp_path / "one.png"
    scores_plot(report(leaves=0), none)
    scores_plot(report(leaves=1), one)
    assert 0 < png_size(none)[1] < png_size(one)[1]
