"""The gaps result as data (schemas/gaps.json) and as Markdown for the PR comment.

Labels are derived here, once: `gap:confirmed` when a changed leaf teaches something the model
does not know, `gap:known` when the model already knows it, `overlap` when a changed leaf nearly
duplicates questions elsewhere in the tree.
"""

from __future__ import annotations

from typing import Any

from taxonbot.comment.render import VERDICTS  # the comment's words for each verdict
from taxonbot.github.labels import GAP_CONFIRMED, GAP_KNOWN, OVERLAP
from taxonbot.markdown import code, inline

FORMAT = "taxonbot-gaps/1"
VERDICT_LABELS = {"gap_confirmed": GAP_CONFIRMED, "already_known": GAP_KNOWN}


def labels(overlap: dict[str, Any] | None, novelty: list[dict[str, Any]] | None) -> list[str]:
    found = {VERDICT_LABELS[n["verdict"]] for n in novelty or [] if n["verdict"] in VERDICT_LABELS}
    if overlap and any(leaf["near_duplicates"] for leaf in overlap["leaves"]):
        found.add(OVERLAP)
    return sorted(found)


def overlap_markdown(overlap: dict[str, Any]) -> str:
    lines = ["### 🔁 Overlap with the rest of the tree", ""]
    for leaf in overlap["leaves"]:
        dups = leaf["near_duplicates"]
        if leaf["status"] != "indexed":
            lines.append(f"- {code(leaf['leaf'])}: {inline(leaf['reason'])}")
        elif not dups:
            lines.append(f"- {code(leaf['leaf'])}: no near-duplicate questions elsewhere.")
        else:
            lines += [
                f"- {code(leaf['leaf'])}: {len(dups)} near-duplicate question(s):",
                "",
                "  | This leaf asks | Also asked in | There | Similarity |",
                "  |---|---|---|---|",
            ]
            lines += [
                f"  | {inline(d['question'], 200)} | {code(d['other_leaf'])} | "
                f"{inline(d['other_question'], 200)} | {d['score']:.2f} |"
                for d in dups[:10]
            ]
            lines.append("")
    lines += [
        "",
        f"_Near-duplicate: cosine ≥ {overlap['threshold']:.2f} with all-MiniLM-L6-v2 "
        "(calibration: docs/overlap.md)._",
        "",
    ]
    return "\n".join(lines)


def novelty_markdown(novelty: list[dict[str, Any]]) -> str:
    lines = ["### 🧠 Does the current model already know this?", ""]
    for report in novelty:
        words = VERDICTS.get(report["verdict"], report["verdict"])
        share = f" ({report['known_share']:.0%} of answers known)" if report["rows"] else ""
        lines.append(f"- {code(report['leaf'])}: {words}{share}. {inline(report['reason'])}")
        if report["rows"]:
            lines += _rows(report["rows"])
    lines.append("")
    return "\n".join(lines)


def _rows(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "",
        "  <details><summary>Answers</summary>",
        "",
        "  | Question | Context given | Model's answer | Cosine | ROUGE-L | Known |",
        "  |---|---|---|---|---|---|",
    ]
    out += [
        f"  | {inline(r['question'], 150)} | {'yes' if r['with_context'] else 'no'} | "
        f"{inline(r['answer'] or r['note'], 200)} | {r['cosine']:.2f} | {r['rouge_l']:.2f} | "
        f"{'yes' if r['known'] else 'no'} |"
        for r in rows
    ]
    return [*out, "", "  </details>", ""]
