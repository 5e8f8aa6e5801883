"""Whether a judge block earns its place on the model that runs: its measured separation.

A judge's separation is the ROC AUC of its scores against labels on a labelled set of good and
deliberately broken pairs (taxonbot/sdg/labelled.py, measured by benchmarks/judge_separation.py
and recorded per model in the model catalogue). A judge that cannot tell good pairs from bad
ones is noise: its rejections would be chance. So:

- measured at or above MIN_JUDGE_AUC: "used", its verdict counts;
- measured below it: "skipped", not asked at all (its CPU time saved) and it drops nothing;
- never measured for this model (a big model behind an HTTP server, say): "uncalibrated", it
  runs and counts as LAB's pipelines intend, and the preview says its verdicts are unmeasured.

A leaf's record of this is `{block name: {"status": "used"|"skipped"|"uncalibrated",
"auc": float or None}}` (LeafRun.judges).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MIN_JUDGE_AUC = 0.7  # the lowest separation at which a judge's verdict is allowed to drop pairs

USED = "used"
SKIPPED = "skipped"
UNCALIBRATED = "uncalibrated"


def judge_use(name: str, auc: Mapping[str, float]) -> dict[str, Any]:
    """What happens to the judge block `name` given the running model's measured AUCs."""
    measured = auc.get(name)
    if measured is None:
        return {"status": UNCALIBRATED, "auc": None}
    return {"status": USED if measured >= MIN_JUDGE_AUC else SKIPPED, "auc": float(measured)}


def judges_of(names: Iterable[str], auc: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    return {name: judge_use(name, auc) for name in names}
