"""The labels taxonbot manages on a pull request: the only ones it ever adds or removes.

`kind:*` from the changed leaves' roots, `check:*` from the trusted gate, `gap:*` and `overlap`
from the PR run's gap finding (advisory). Anything else on a PR belongs to people.
"""

from __future__ import annotations

KIND_LABELS = {
    "knowledge": "kind:knowledge",
    "compositional_skills": "kind:skill",
    "foundational_skills": "kind:foundational",
}
CHECK_PASSED, CHECK_FAILED = "check:passed", "check:failed"
GAP_CONFIRMED, GAP_KNOWN, OVERLAP = "gap:confirmed", "gap:known", "overlap"
GAP_LABELS = frozenset({GAP_CONFIRMED, GAP_KNOWN, OVERLAP})
MANAGED_LABELS = frozenset({*KIND_LABELS.values(), CHECK_PASSED, CHECK_FAILED, *GAP_LABELS})
