"""The coverage map as a sunburst: roots in the middle, each ring one folder level further out.

A wedge's angle is its seed examples. Thin branches are hatched; wanted domains with no leaf are
drawn red and dashed, at the size of a typical leaf, so the gap is as visible as the leaves.
matplotlib loads inside `sunburst` only: importing this module (or taxonbot.gaps) stays light.
"""

from __future__ import annotations

import math
import unicodedata
import warnings
from dataclasses import dataclass
from statistics import median
from typing import TYPE_CHECKING, cast

from taxonbot.diskwrite import atomic_open
from taxonbot.gaps.coverage import CoverageReport
from taxonbot.taxonomy.leaf import ROOTS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.projections.polar import PolarAxes

MAX_DEPTH = 5  # rings at most; deeper leaves are counted in their ancestor on the outer ring
HOLE = 0.24  # radius of the empty middle, in data units (the outer edge is at 1.0)
FAMILY = {"knowledge": "Blues", "compositional_skills": "Oranges", "foundational_skills": "Greens"}
WANTED_FILL, WANTED_EDGE = "#fde2e0", "#c62828"
FONT = 8.0
_HALO = {"boxstyle": "round,pad=0.2", "facecolor": (1, 1, 1, 0.8), "edgecolor": "none"}
MAX_LABEL = 22  # characters, before any fitting to the wedge


@dataclass(frozen=True)
class Wedge:
    path: str
    depth: int  # 1 for a root
    start: float  # radians, clockwise from the top
    width: float  # radians
    seed_examples: int
    state: str  # "branch" | "thin" | "leaf" | "wanted"

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


def layout(report: CoverageReport, max_depth: int = MAX_DEPTH) -> list[Wedge]:
    """Pure geometry: one wedge per folder down to `max_depth`, parents before children."""
    weights, seeds = _weights(report, max_depth)
    states = _states(report)
    total = sum(weights[root] for root in ROOTS)
    wedges: list[Wedge] = []
    starts = {"": 0.0}  # where the next child of each folder begins
    for path in sorted(weights, key=lambda p: tuple(p.split("/"))):
        parent = path.rpartition("/")[0]
        width = 2 * math.pi * weights[path] / total
        start = starts[path] = starts[parent]
        starts[parent] = start + width
        state = states.get(path, "wanted")  # on no leaf's way: only a wanted domain leads here
        wedges.append(Wedge(path, path.count("/") + 1, start, width, seeds.get(path, 0), state))
    return wedges


def _weights(report: CoverageReport, max_depth: int) -> tuple[dict[str, float], dict[str, int]]:
    # A leaf with 0 seed examples still gets a sliver, and a gap the size of a typical leaf.
    typical = median([max(leaf.seed_examples, 1) for leaf in report.leaf_stats] or [5])
    items = [(leaf.path, float(max(leaf.seed_examples, 1))) for leaf in report.leaf_stats]
    items += [(path, typical) for path, _ in report.missing_wanted]
    drawn = {path.split("/", 1)[0] for path, _ in items}
    items += [(root, typical) for root in ROOTS if root not in drawn]  # an empty root shows
    weights: dict[str, float] = {}
    for path, weight in items:
        for key in _prefixes(path, max_depth):
            weights[key] = weights.get(key, 0.0) + weight
    seeds: dict[str, int] = {}
    for leaf in report.leaf_stats:
        for key in _prefixes(leaf.path, max_depth):
            seeds[key] = seeds.get(key, 0) + leaf.seed_examples
    return weights, seeds


def _prefixes(path: str, max_depth: int) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:end]) for end in range(1, min(len(parts), max_depth) + 1)]


def _has_leaf(report: CoverageReport, root: str) -> bool:
    return any(path.split("/", 1)[0] == root for path in report.leaves)


def _states(report: CoverageReport) -> dict[str, str]:
    states = {leaf: "leaf" for leaf in report.leaves}
    for branch in report.branches:
        states[branch.path] = "thin" if branch.thin else "branch"
    for root in ROOTS:
        if not _has_leaf(report, root):
            states[root] = "thin"  # an empty root is the thinnest branch of all
    return states


def sunburst(report: CoverageReport, out_png: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display on a CI runner; must precede the pyplot import
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10, 10.8), dpi=110)
    ax = cast("PolarAxes", fig.add_axes((0.06, 0.1, 0.88, 0.8), projection="polar"))
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    ax.set_ylim(0, 1.0)
    ax.set_axis_off()
    points = 0.88 * 10 * 72 / 2  # points per data unit of radius (the axes is 8.8 in wide)
    wedges = layout(report)
    rings = max(w.depth for w in wedges)
    for wedge in wedges:
        _draw(ax, wedge, (1.0 - HOLE) / rings, points)
    _middle(ax, report)
    _legend(fig, report)
    _titles(fig, report, rings)
    with warnings.catch_warnings():
        # A folder name in a script DejaVu lacks draws as boxes; that is no reason to fail.
        warnings.filterwarnings("ignore", r"Glyph .* missing from font", UserWarning)
        with atomic_open(out_png, binary=True) as handle:  # whole or not at all
            fig.savefig(handle, format="png", metadata={"Software": None})
    plt.close(fig)


def _titles(fig: Figure, report: CoverageReport, rings: int) -> None:
    fig.suptitle("Taxonomy coverage", fontsize=16, fontweight="bold", y=0.98)
    fig.text(
        0.5,
        0.925,
        f"Each ring is one folder level{_cut(report, rings)}; a wedge's angle is its seed "
        "examples (the number under its name).\nA wanted domain with no leaf yet takes the room "
        "of a typical leaf.",
        ha="center",
        fontsize=10,
        color="#444444",
        linespacing=1.4,
    )


def _cut(report: CoverageReport, rings: int) -> str:
    deepest = max((p.count("/") + 1 for p in report.leaves), default=0)
    return f" (the first {rings} of {deepest})" if deepest > rings else ""


def _draw(ax: Axes, wedge: Wedge, ring: float, points: float) -> None:
    inner = HOLE + (wedge.depth - 1) * ring
    fill: str | tuple[float, float, float, float]
    if wedge.state == "wanted":
        fill, edge, hatch, style = WANTED_FILL, WANTED_EDGE, "xx", "--"
    else:
        fill = _colour(wedge.path.split("/", 1)[0], wedge.depth)
        edge, hatch, style = "white", ("///" if wedge.state == "thin" else ""), "-"
    ax.bar(
        wedge.start + wedge.width / 2,
        ring,
        width=wedge.width,
        bottom=inner,
        color=fill,
        edgecolor=edge,
        linewidth=1.2,
        linestyle=style,
        hatch=hatch,
        hatchcolor=WANTED_EDGE if wedge.state == "wanted" else "#333333",
    )
    _label(ax, wedge, inner + ring / 2, ring * points * 0.92, points)


def _label(ax: Axes, wedge: Wedge, radius: float, across: float, points: float) -> None:
    """Along the ring where the wedge is wide, along the radius where it is narrow, else none."""
    along = wedge.width * radius * points  # room in points, each way
    tangential = along >= across
    room = along if tangential else across
    if min(along, across) < FONT * 1.3 * (2 if tangential else 1):
        return
    name = _fit(wedge.name, int(room / (FONT * 0.62)))
    if not name:
        return
    count = "wanted" if wedge.state == "wanted" else str(wedge.seed_examples)
    text = f"{name}\n{count}" if tangential and across > FONT * 3 else name
    screen = 90.0 - math.degrees(wedge.start + wedge.width / 2)  # counter-clockwise from east
    rotation = screen - 90 if tangential else screen
    rotation = (rotation + 180) % 360 - 180
    if rotation > 90 or rotation < -90:
        rotation += 180  # keep the text upright
    dark = wedge.depth <= 2 and wedge.state == "branch"
    ax.text(
        wedge.start + wedge.width / 2,
        radius,
        text,
        rotation=rotation,
        rotation_mode="anchor",
        ha="center",
        va="center",
        fontsize=FONT,
        color="white" if dark else "#1a1a1a",
        fontweight="bold" if wedge.depth == 1 else "normal",
        linespacing=1.1,
        parse_math=False,  # folder names come from PRs: `$` must stay a dollar sign
        bbox=_HALO if wedge.state in ("thin", "wanted") else None,  # readable over hatching
    )


def _fit(name: str, chars: int) -> str:
    # Control and bidi characters from a PR's folder name must not reach the renderer.
    name = "".join("?" if unicodedata.category(c)[0] == "C" else c for c in name)
    chars = min(chars, MAX_LABEL)
    if chars < 4:
        return ""
    return name if len(name) <= chars else name[: chars - 1] + "…"


def _middle(ax: Axes, report: CoverageReport) -> None:
    ax.text(
        0,
        0,
        f"{len(report.leaves)} leaves\n{report.seed_examples} seed\nexamples",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        color="#333333",
    )


def _legend(fig: Figure, report: CoverageReport) -> None:
    from matplotlib.patches import Patch

    thin = report.policy.thin
    handles = [Patch(facecolor=_colour(root, 1), edgecolor="white", label=root) for root in ROOTS]
    handles += [
        Patch(
            facecolor="#dddddd",
            hatch="///",
            hatchcolor="#333333",
            label=f"thin: fewer than {thin.min_leaves} leaves or {thin.min_seed_examples} "
            "seed examples",
        ),
        Patch(
            facecolor=WANTED_FILL,
            edgecolor=WANTED_EDGE,
            hatch="xx",
            hatchcolor=WANTED_EDGE,
            linestyle="--",
            label=f"wanted, no leaf yet ({len(report.missing_wanted)}; see the policy file)",
        ),
    ]
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.03),
        ncol=2,
        fontsize=9,
        frameon=False,
    )
    if report.skipped:
        fig.text(
            0.5,
            0.01,
            f"{len(report.skipped)} file(s) skipped, not counted: `taxonbot check` says why.",
            ha="center",
            fontsize=9,
            color=WANTED_EDGE,
        )


def _colour(root: str, depth: int) -> tuple[float, float, float, float]:
    """Darkest in the middle, lighter outwards, one colour family per root: fixed, no state."""
    import matplotlib

    shade = matplotlib.colormaps[FAMILY[root]](0.78 - 0.14 * (depth - 1))
    return (shade[0], shade[1], shade[2], shade[3])
