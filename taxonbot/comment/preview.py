"""The comment's preview section: preview.json (untrusted, schemas/preview.json) -> Md values.

What a contributor should learn from it: which model ran and why, the pairs that were kept (best
first, with the scores and signals that mean something on that model), why the others were
dropped (a count per reason and at most two examples, collapsed: never a sample of quality), and,
when nothing was kept, what in the seeds to change. Judges that cannot separate good pairs from
bad on this model are named, never shown as a verdict.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from taxonbot.comment.artifact import count, mapping, mappings, score
from taxonbot.markdown import Md, block, code, html_text, inline, plural, prose
from taxonbot.schemas import NEWEST_VERSION, load, schema_id

MAX_LEAVES = 50
PAIRS_PER_LEAF, MAX_PAIRS = 10, 40  # kept pairs and examples shown, per leaf and in all
EXAMPLES_PER_REASON, MAX_REASONS = 2, 10
STATUS = {
    "complete": "done",
    "time_budget": "stopped part-way by the time budget",
    "not_started": "not started (the time budget ran out)",
    "error": "could not run",
}
DEFAULT = "llama.cpp"  # what `--teacher` asks for by default (taxonbot/runtime/open.py DEFAULT)
TIME_BUDGET = "time_budget"  # the pseudo-block a pair cut short by the time budget names
_CUT = re.compile(r"[;:(\n]")
_FIELD = re.compile(r"(question|answer|context) ?: ?")  # degenerate-text reasons name the field
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def preview_section(preview: object, samples: bool) -> dict[str, Any]:
    """What the template shows of preview.json; `samples` False leaves out every pair's text."""
    body = mapping(preview)
    choice = body.get("model_choice")
    model = _model_line(mapping(body.get("model")), choice)
    weak = isinstance(choice, dict) and choice.get("source") == "bundled"
    leaves, budget = [], MAX_PAIRS if samples else 0
    for leaf in mappings(body.get("leaves"))[:MAX_LEAVES]:
        view = _leaf(leaf, budget, weak, mapping(body.get("model")), choice)
        budget -= len(view["kept_pairs"]) + sum(len(g["examples"]) for g in view["reasons"])
        leaves.append(view)
    # What every leaf says of its judges is said once, under the model it is about.
    ran = [view["judges"] for view in leaves if view["ran"]]
    common = [note for note in ran[0] if all(note in notes for notes in ran)] if ran else []
    for view in leaves:
        view["judges"] = [note for note in view["judges"] if note not in common]
    return {"model": model, "judges": common, "leaves": leaves}


def _model_line(model: dict[str, Any], choice: object) -> Md:
    if not isinstance(choice, dict) or not choice.get("name"):
        # older previews: only what the backend said of itself
        backend = f" ({code(model['backend'], 64)})" if model.get("backend") else ""
        return Md(f"Previewed with {code(model.get('model'), 200)}{backend}.") if model else Md("")
    name, licence = code(choice.get("name"), 200), choice.get("licence")
    said = f"{name}, licence {code(licence, 128)}" if licence else name
    bundled = choice.get("source") == "bundled"
    if choice.get("reason"):
        kind = "the bundled fallback" if bundled else "a fallback"
        asked = choice.get("requested")
        requested = "the usual model" if asked == DEFAULT else code(asked, 200)
        why = prose(choice.get("reason"), 400)
        why = Md(why if why.endswith((".", "!", "?")) else f"{why}.")
        return Md(
            f"Previewed with {said} ({kind}) because {requested} could not be used: "
            f"{why} Expect weaker pairs than the usual model "
            "makes; a maintainer can comment `/taxonbot preview` to make them again."
        )
    if bundled:
        return Md(f"Previewed with {said}, the small bundled model: expect weak pairs.")
    return Md(f"Previewed with {said}.")


def _leaf(
    leaf: dict[str, Any], budget: int, weak: bool, model: dict[str, Any], choice: object
) -> dict[str, Any]:
    name = leaf.get("leaf") or leaf.get("path")
    counts = mapping(leaf.get("counts"))
    kept, made = count(counts.get("kept")), count(counts.get("candidates"))
    status = str(leaf.get("status"))
    view: dict[str, Any] = {
        "name": code(name),
        "summary": html_text(name),
        "kept": kept,
        "candidates": made,
        "judges": [],
        "advice": [],
        "kept_pairs": [],
        "reasons": [],
        "more_reasons": 0,
        "ran": status != "error",
    }
    if status == "error":
        why = prose(leaf.get("message"), 600) if leaf.get("message") else Md("no reason given.")
        return view | {"line": Md(f"❌ {code(name)}: could not run: {why}")}
    line = f"{code(name)}: {STATUS.get(status, '❔ unknown status')}; kept {kept} of {made}"
    line += f". {prose(leaf['message'])}" if leaf.get("message") else "."
    seeds = mapping(leaf.get("seeds"))
    if 0 < count(seeds.get("shown")) < count(seeds.get("examples")):
        line += (
            f" Its prompts showed the first {count(seeds.get('shown'))} of its "
            f"{count(seeds.get('examples'))} seed examples, as many as fit the model's prompt; "
            "new pairs were still checked against all of them."
        )
    judges = {k: mapping(v) for k, v in mapping(leaf.get("judges")).items()}
    pairs = mappings(leaf.get("pairs"))
    kept_pairs = sorted((p for p in pairs if p.get("kept") is True), key=_by_rank)
    shown = kept_pairs[: max(0, min(PAIRS_PER_LEAF, budget))]
    groups = _reasons([p for p in pairs if p.get("kept") is not True])
    room = max(0, budget - len(shown))
    reasons = []
    for by, reason, members in groups[:MAX_REASONS]:
        examples = members[: min(EXAMPLES_PER_REASON, room)]
        room -= len(examples)
        reasons.append(
            {
                "block": by,
                "reason": reason,
                "count": len(members),
                "examples": [_pair(p, judges, rejected=True) for p in examples],
            }
        )
    nothing = not kept and any(p.get("rejected_by") not in ("", TIME_BUDGET) for p in pairs)
    return view | {
        "line": Md(line),
        "judges": _judge_notes(judges),
        "advice": _advice(leaf, weak, model, choice) if nothing else [],
        "kept_pairs": [_pair(p, judges) for p in shown],
        "reasons": reasons,
        "more_reasons": max(0, len(groups) - MAX_REASONS),
    }


def _by_rank(pair: dict[str, Any]) -> tuple[int, int]:
    rank = pair.get("rank")
    ranked = isinstance(rank, int) and not isinstance(rank, bool)
    return (count(rank) if ranked else 10**9 + 1, count(pair.get("number")))


def normal_reason(reason: object) -> str:
    """A rejection reason without its details, so like reasons group: `scored 1; needs at least
    2` -> `scored 1`, `the model request failed: timed out` -> `the model request failed`,
    `question: empty reply` -> `question: empty reply`, numbers in other words -> N."""
    text = " ".join(str(reason).split()) if isinstance(reason, str) else ""
    head = ""
    if field := _FIELD.match(text):
        head, text = f"{field[1]}: ", text[field.end() :]
    text = _CUT.split(_QUOTED.sub("…", text), maxsplit=1)[0].strip()
    if not text.startswith("scored "):  # a judge's score is what tells its groups apart
        text = _NUMBER.sub("N", text)
    return (head + text)[:120] or "no reason given"


def _reasons(rejected: list[dict[str, Any]]) -> list[tuple[Md, Md, list[dict[str, Any]]]]:
    """Rejected pairs by (block, normalised reason), the most common reason first."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for pair in rejected:
        by = pair.get("rejected_by") if isinstance(pair.get("rejected_by"), str) else ""
        groups.setdefault((by or "", normal_reason(pair.get("reason"))), []).append(pair)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return [
        (code(by or "unfinished", 64), prose(reason, 120), members)
        for (by, reason), members in ordered
    ]


def _judge_notes(judges: dict[str, dict[str, Any]]) -> list[Md]:
    notes = []
    for name, info in list(judges.items())[:20]:
        auc = info.get("auc")
        measured = f" (AUC {score(auc)} on the labelled set)" if _is_number(auc) else ""
        if info.get("status") == "skipped":
            notes.append(
                Md(
                    f"{code(name, 64)} was not used: on this model it cannot tell good pairs "
                    f"from bad ones{measured}. Its scores are not shown."
                )
            )
        elif info.get("status") == "uncalibrated":
            notes.append(
                Md(
                    f"{code(name, 64)}'s scores are uncalibrated: it was never measured on this "
                    "model, so read them as hints, not verdicts."
                )
            )
    return notes


def _pair(
    pair: dict[str, Any], judges: dict[str, dict[str, Any]], rejected: bool = False
) -> dict[str, Md]:
    number = count(pair.get("number")) + 1
    rank = pair.get("rank")
    if rejected:
        why = prose(pair.get("reason"), 300) or "no reason given"
        title = f"**Pair {number}**, dropped by {code(pair.get('rejected_by'), 64)}: {why}"
    elif isinstance(rank, int) and not isinstance(rank, bool) and rank > 0:
        title = f"**Rank {count(rank)}** · pair {number}"
    else:
        title = f"**Pair {number}** · ✅ kept"
    marks = [
        f"{code(name, 60)} {score(value)}" + _judge_label(judges.get(name))
        for name, value in list(mapping(pair.get("scores")).items())[:10]
        if mapping(judges.get(name)).get("status") != "skipped"
    ]
    if marks:
        title += " · scores: " + ", ".join(marks)
    signals = list(mapping(pair.get("signals")).items())[:8]
    if signals:
        title += " · " + ", ".join(f"{inline(name, 40)} {score(v)}" for name, v in signals)
    return {
        "title": Md(title),
        "context": block(pair.get("context"), 1500) if pair.get("context") else Md(""),
        "question": block(pair.get("question"), 1000),
        "answer": block(pair.get("answer"), 2000),
    }


def _judge_label(info: object) -> str:
    return " (uncalibrated)" if mapping(info).get("status") == "uncalibrated" else ""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---- when nothing was kept --------------------------------------------------------------------


def _advice(leaf: dict[str, Any], weak: bool, model: dict[str, Any], choice: object) -> list[Md]:
    """What an empty preview usually means for this leaf, from its own seeds and the model."""
    seeds, kind = mapping(leaf.get("seeds")), leaf.get("kind")
    examples, alike = count(seeds.get("examples")), count(seeds.get("alike"))
    with_context = count(seeds.get("with_context"))
    advice = []
    if weak:
        ran = mapping(choice).get("name") or model.get("model")
        advice.append(
            Md(
                f"It ran on {code(ran, 200)}, the small bundled model, which rarely writes "
                "usable pairs: an empty preview on it says little about your examples. A "
                "maintainer can comment `/taxonbot preview` once the usual model is available."
            )
        )
    fewest = fewest_seeds(str(kind))
    if seeds and examples < fewest:
        advice.append(
            Md(
                f"Add seed examples: the leaf has {plural(examples, 'question-answer pair')}, "
                f"and the model needs at least {fewest} varied ones to see what the skill is."
            )
        )
    if alike:
        advice.append(
            Md(
                f"Make the seed questions differ: {alike} of {examples} are almost the same as "
                "another one (the check's similar-question rule), so the model sees fewer "
                "examples than there are. Ask about other cases, or for a different reader."
            )
        )
    if kind == "grounded_skills" and seeds and with_context < examples:
        advice.append(
            Md(
                f"Give every seed example a `context`: {examples - with_context} of {examples} "
                "have none, and a skill that works on a text needs that text in each example."
            )
        )
    shown = count(seeds.get("shown"))
    if 0 < shown < examples:
        advice.append(
            Md(
                f"Shorten the seed examples' texts: only the first {shown} of {examples} fit the "
                "model's prompt, so it learned the task from those alone. Shorter texts (a few "
                "paragraphs each) let it see more of them."
            )
        )
    if not advice:
        measured = (
            "The seed examples have none of the usual problems (too few, too alike, no context "
            "where one is needed), so see why the pairs were dropped below."
            if seeds
            else "See why the pairs were dropped below."
        )
        advice.append(Md(f"{measured} Examples that show the task plainly usually help."))
    return advice


@cache
def fewest_seeds(kind: str) -> int:
    """The newest qna.yaml schema's minimum, as seed pairs: each knowledge example holds a few."""
    family = "knowledge" if kind == "knowledge" else "skills"
    examples = load(schema_id(family, NEWEST_VERSION))["properties"]["seed_examples"]
    each = examples["items"].get("properties", {}).get("questions_and_answers", {})
    return int(examples.get("minItems", 1)) * int(each.get("minItems", 1))
