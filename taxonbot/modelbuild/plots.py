"""The build record's pictures: training loss per phase, and branch-evaluation scores.

matplotlib loads inside each function only, through its Agg canvas and without pyplot, so no
global backend is switched and no display is needed. Same data, same bytes: the PNG carries no
"Software" version stamp (and Agg writes no timestamp), so a rebuild can be compared by hash.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from taxonbot.errors import CannotRun
from taxonbot.modelbuild.evaluate import EvalReport, SetResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PHASE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
BEFORE, GAINED, FELL = "#9e9e9e", "#2e7d32", "#c62828"
MAX_ROWS = 40  # leaves drawn in the scores plot; the rest are in the JSON report
MAX_LABEL = 48  # characters of a leaf name, keeping its end (the most specific part)
DPI = 110


class PlotError(CannotRun, ValueError):
    """Nothing sensible to draw; the message says what was missing."""


def loss_plot(phases: Mapping[str, Sequence[float]], out_png: str | Path) -> None:
    """Loss per optimizer step, phases one after another, each boundary marked."""
    curves = {name: _finite(name, losses) for name, losses in phases.items()}
    if not any(curves.values()):
        raise PlotError("no loss values to plot: every phase is empty (did training run?)")
    fig = _figure(8.0, 4.5)
    ax = fig.add_subplot()
    start, boundaries = 0, []
    for i, (name, losses) in enumerate(curves.items()):
        if i and losses:
            boundaries.append(start + 0.5)
        steps = range(start + 1, start + len(losses) + 1)
        color = PHASE_COLORS[i % len(PHASE_COLORS)]
        ax.plot(steps, losses, color=color, linewidth=1.2, label=f"{name} ({len(losses)} steps)")
        start += len(losses)
    for n, x in enumerate(boundaries):  # one legend entry for all of them
        label = "phase boundary" if n == 0 else "_"
        ax.axvline(x, color="#616161", linestyle="--", linewidth=1, label=label)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    fig.suptitle("Training loss by phase")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    _save(fig, out_png)


def scores_plot(report: EvalReport, out_png: str | Path) -> None:
    """Before/after score per new leaf and for the regression set, as grouped horizontal bars."""
    rows: list[SetResult] = [*report.leaves[:MAX_ROWS], report.regression]
    fig = _figure(9.0, 1.6 + 0.45 * len(rows))
    ax = fig.add_subplot()
    positions = list(range(len(rows)))[::-1]  # first leaf at the top, regression at the bottom
    height = 0.38
    before = [row.before.score for row in rows]
    after = [row.after.score for row in rows]
    colors = [_after_color(report, row) for row in rows]
    ax.barh([p + height / 2 for p in positions], before, height, color=BEFORE)
    ax.barh([p - height / 2 for p in positions], after, height, color=colors)
    for p, b, a in zip(positions, before, after, strict=True):
        ax.text(b + 0.01, p + height / 2, f"{b:.3f}", va="center", fontsize=7)
        ax.text(a + 0.01, p - height / 2, f"{a:.3f}", va="center", fontsize=7)
    ax.set_yticks(positions, [_label(row) for row in rows], fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("score: mean of (cosine + ROUGE-L) / 2 over the questions", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    _title(fig, report)
    _legend(fig, report)
    _save(fig, out_png)


def _finite(name: str, losses: Sequence[float]) -> list[float]:
    try:
        values = [float(v) for v in losses]
    except (TypeError, ValueError) as exc:
        raise PlotError(f"phase {name!r} has a loss that is not a number: {exc}") from exc
    return [v if math.isfinite(v) else math.nan for v in values]  # a gap, not a broken axis


def _after_color(report: EvalReport, row: SetResult) -> str:
    if row.kind == "regression":
        return FELL if row.delta < -report.threshold else GAINED
    return GAINED if row.delta > report.min_gain else FELL


def _label(row: SetResult) -> str:
    if row.kind == "regression":
        return f"regression set ({len(row.questions)} questions)"
    name = row.name if len(row.name) <= MAX_LABEL else "…" + row.name[-(MAX_LABEL - 1) :]
    return f"{name} ({len(row.questions)})"


def _title(fig: Figure, report: EvalReport) -> None:
    verdict = "publishable" if report.publishable else "not publishable"
    hidden = len(report.leaves) - MAX_ROWS
    more = f" ({hidden} more leaves in the JSON report)" if hidden > 0 else ""
    fig.suptitle(f"Branch evaluation: {verdict}{more}", fontsize=11)


def _legend(fig: Figure, report: EvalReport) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(color=BEFORE, label="before"),
        Patch(color=GAINED, label=f"after: leaf gained > {report.min_gain:.3f} / regression held"),
        Patch(color=FELL, label="after: blocks publishing"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8, frameon=False)


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, out_png: str | Path) -> None:
    with warnings.catch_warnings():
        # A leaf name in a script DejaVu lacks draws as boxes; that is no reason to fail a build.
        warnings.filterwarnings("ignore", r"Glyph .* missing from font", UserWarning)
        fig.savefig(out_png, format="png", metadata={"Software": None})
