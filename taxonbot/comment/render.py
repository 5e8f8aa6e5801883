"""The sticky PR comment: result.json -> GitHub Markdown of at most 60,000 characters and bytes.

Everything in result.json is untrusted: the job that wrote it ran the pull request's code, so
any string (path, message, model output) and any number may be hostile. The template therefore
sees only `Md` values, made safe here, and numbers: Jinja's `finalize` refuses a plain `str`, so
a template edit cannot print an artifact string raw. Repository, commit and run id come from
`RunInfo` (the API), never from the artifact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import jinja2

from taxonbot.comment.artifact import array, check_counts, count, mapping, mappings, score
from taxonbot.comment.preview import preview_section
from taxonbot.github.markers import MARKER, RUN_PREFIX
from taxonbot.github.values import RunInfo
from taxonbot.markdown import Md, clean, code, html_text, inline, plural, prose

LIMIT = 60_000  # GitHub refuses bodies over 65,536 characters; keep a margin for its rewriting
TEMPLATES = Path(__file__).resolve().parent / "templates"
# ---- the view: what the template shows at one level of detail -------------------------------


class Detail(NamedTuple):
    samples: bool  # preview pairs and the model's answers in novelty
    neighbours: bool  # nearest questions elsewhere (overlap)
    findings: int  # findings shown at most
    sections: bool  # False: summary, next steps and the truncation note only


LEVELS = (
    Detail(True, True, 200, True),
    Detail(False, True, 200, True),
    Detail(False, False, 200, True),
    Detail(False, False, 50, True),
    Detail(False, False, 10, True),
    Detail(False, False, 0, False),
)
MAX_LEAVES = 50
NEIGHBOUR_QUESTIONS, NEIGHBOURS = 10, 3
ICONS = {"error": "❌", "warning": "⚠️"}
VERDICTS = {
    "gap_confirmed": "✅ gap confirmed: the model does not know this yet",
    "partly_known": "➖ partly known",
    "already_known": "⚠️ already known: the model answers most questions well",
    "skipped": "⏭️ skipped",
}


@dataclass(frozen=True)
class Totals:
    check: bool
    errors: int
    warnings: int
    files: int
    novelty: bool
    verdicts: dict[str, int]
    overlap: bool
    duplicates: int
    preview: bool
    kept: int
    candidates: int
    failed_leaves: int
    out_of_time: bool


def _totals(result: dict[str, Any]) -> Totals:
    check, gaps, preview = (result.get(k) for k in ("check", "gaps", "preview"))
    counts = check_counts(check)
    novelty = mapping(gaps).get("novelty")
    verdicts = {v: 0 for v in VERDICTS}
    for report in mappings(novelty):
        if report.get("verdict") in verdicts:
            verdicts[report["verdict"]] += 1
    overlap = mapping(mapping(gaps).get("overlap"))
    dups = sum(_duplicate_count(leaf) for leaf in mappings(overlap.get("leaves")))
    leaves = mappings(mapping(preview).get("leaves"))
    counts_of = [mapping(leaf.get("counts")) for leaf in leaves]
    return Totals(
        check=counts is not None,
        errors=counts[0] if counts else 0,
        warnings=counts[1] if counts else 0,
        files=len(array(mapping(check).get("files"))),
        novelty=isinstance(novelty, list),
        verdicts=verdicts,
        overlap=bool(overlap),
        duplicates=dups,
        preview=isinstance(preview, dict),
        kept=sum(count(c.get("kept")) for c in counts_of),
        candidates=sum(count(c.get("candidates")) for c in counts_of),
        failed_leaves=sum(leaf.get("status") == "error" for leaf in leaves),
        out_of_time=mapping(preview).get("time_budget_exhausted") is True,
    )


def _file_url(run: RunInfo, path: str, line: int) -> str | None:
    parts = path.split("/")
    if not path or path == "." or path.startswith("/") or "\\" in path or ".." in parts:
        return None
    base = f"https://github.com/{quote(run.repo, safe='/')}/blob/{quote(run.head_sha, safe='')}"
    return f"{base}/{quote(path.removeprefix('./'), safe='/')}#L{line}"


def _findings(check: object, run: RunInfo, most: int) -> tuple[list[dict[str, Any]], int]:
    """Findings grouped by file, in the order the check gave them; and how many were left out."""
    findings = mappings(mapping(check).get("findings"))
    groups: dict[str, list[dict[str, Md]]] = {}
    for f in findings[:most]:
        path, line, col = clean(f.get("path")), max(1, count(f.get("line"))), count(f.get("col"))
        url = _file_url(run, path, line)
        where = f"[line {line}, col {col}]({url})" if url else f"line {line}, col {col}"
        where += f" {code(f['yaml_path'])}" if f.get("yaml_path") else ""
        groups.setdefault(path, []).append(
            {
                "icon": Md(ICONS.get(str(f.get("severity")), "ℹ️")),
                "where": Md(where),
                "problem": Md(f"{prose(f.get('message'))} {code(f.get('rule'))}"),
                "todo": prose(f.get("hint")),
            }
        )
    files = [{"path": code(path, 300), "rows": rows} for path, rows in groups.items()]
    return files, max(0, len(findings) - most)


def _novelty(gaps: object, samples: bool) -> list[dict[str, Any]]:
    out = []
    for report in mappings(mapping(gaps).get("novelty"))[:MAX_LEAVES]:
        rows, share = mappings(report.get("rows")), report.get("known_share")
        known = f" ({share:.0%} of answers known)" if rows and isinstance(share, float) else ""
        verdict = VERDICTS.get(str(report.get("verdict")), "❔ no verdict")
        reason = f" {prose(report['reason'])}" if report.get("reason") else ""
        answers = [
            {
                "question": inline(r.get("question"), 150),
                "context": Md("yes" if r.get("with_context") is True else "no"),
                "answer": inline(r.get("answer") or r.get("note"), 200),
                "cosine": score(r.get("cosine")),
                "rouge_l": score(r.get("rouge_l")),
                "known": Md("yes" if r.get("known") is True else "no"),
            }
            for r in (rows[:20] if samples else [])
        ]
        line = Md(f"{code(report.get('leaf'))}: {verdict}{known}.{reason}")
        out.append({"line": line, "summary": html_text(report.get("leaf")), "answers": answers})
    return out


def _overlap(gaps: object, neighbours: bool) -> list[dict[str, Any]]:
    out = []
    for leaf in mappings(mapping(mapping(gaps).get("overlap")).get("leaves"))[:MAX_LEAVES]:
        dups, many = _distinct_duplicates(leaf), _duplicate_count(leaf)
        if leaf.get("status") != "indexed":
            note = inline(leaf.get("reason"))
        elif many:
            note = Md(f"{plural(many, 'near-duplicate question')}{':' if dups else '.'}")
        else:
            note = Md("no near-duplicate questions elsewhere in the tree.")
        questions = (
            _first_of_each(mappings(leaf.get("questions")), "question") if neighbours else []
        )
        near = [
            (q, n)
            for q in questions[:NEIGHBOUR_QUESTIONS]
            for n in mappings(q.get("neighbours"))[:NEIGHBOURS]
        ]
        out.append(
            {
                "leaf": code(leaf.get("leaf")),
                "summary": html_text(leaf.get("leaf")),
                "note": note,
                "dups": [
                    _similar(d.get("question"), d.get("other_question"), d.get("other_leaf"), d)
                    for d in dups[:10]
                ],
                "neighbours": [
                    _similar(q.get("question"), n.get("question"), n.get("leaf"), n)
                    for q, n in near
                ],
            }
        )
    return out


def _distinct_duplicates(leaf: dict[str, Any]) -> list[dict[str, Any]]:
    """A leaf's near-duplicates as shown: a question the leaf asks twice (the check reports
    that) is found twice, and shown once."""
    rows = mappings(leaf.get("near_duplicates"))
    return _first_of_each(rows, "question", "other_leaf", "other_question")


def _duplicate_count(leaf: dict[str, Any]) -> int:
    return len(_distinct_duplicates(leaf)) + count(leaf.get("near_duplicates_omitted"))


def _first_of_each(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """The rows in order, without those whose `keys` repeat an earlier row's."""
    seen: set[tuple[str, ...]] = set()
    out = []
    for row in rows:
        key = tuple(str(row.get(k)) for k in keys)
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _similar(ours: object, theirs: object, leaf: object, scored: dict[str, Any]) -> dict[str, Md]:
    return {
        "question": inline(ours, 200),
        "other_question": inline(theirs, 200),
        "other_leaf": code(leaf),
        "score": score(scored.get("score")),
    }


# ---- rendering ------------------------------------------------------------------------------


def _only_safe(value: object) -> object:
    if isinstance(value, Md | int | float):
        return value
    raise TypeError(f"the comment template printed a {type(value).__name__}, not Md: {value!r:.80}")


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - Markdown, not HTML; every value is Md (see _only_safe)
        finalize=_only_safe,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plural"] = lambda n, word, words="": Md(plural(n, word, words))
    return env.get_template("comment.md.j2")


def _context(result: dict[str, Any], run: RunInfo, level: Detail) -> dict[str, Any]:
    gaps = mapping(result.get("gaps"))
    files, omitted = _findings(result.get("check"), run, level.findings)
    preview = preview_section(result.get("preview"), level.samples)
    totals = _totals(result)
    left_out = [
        *(["the sample pairs"] if not level.samples and totals.candidates else []),
        *(["the model's answers"] if not level.samples and gaps.get("novelty") else []),
        *(["the nearest questions"] if not level.neighbours and gaps.get("overlap") else []),
        *([plural(omitted, "finding")] if omitted else []),
        *(["the details of each section"] if not level.sections else []),
    ]
    repo, sha = quote(run.repo, safe="/"), quote(run.head_sha, safe="")
    recorded = {"head_sha": run.head_sha, "run_id": run.run_id, "run_attempt": run.run_attempt}
    # json.dumps leaves < and > as they are; \u003e keeps a "-->" from ending the HTML comment
    run_json = json.dumps(recorded).replace("<", "\\u003c").replace(">", "\\u003e")
    return {
        "marker": Md(MARKER),
        "run_line": Md(f"{RUN_PREFIX}{run_json} -->"),
        "commit": Md(f"[`{sha[:7]}`](https://github.com/{repo}/commit/{sha})"),
        "run_url": Md(f"https://github.com/{repo}/actions/runs/{int(run.run_id)}"),
        "attempt": int(run.run_attempt),
        "totals": totals,
        "left_out": Md(", ".join(left_out)),
        "files": files,
        "omitted": omitted,
        "novelty": _novelty(gaps, level.samples) if level.sections else [],
        "overlap": _overlap(gaps, level.neighbours) if level.sections else [],
        "threshold": score(mapping(gaps.get("overlap")).get("threshold")),
        "gap_notes": [inline(n) for n in array(gaps.get("notes"))[:20]] if level.sections else [],
        "preview_model": preview["model"] if level.sections else Md(""),
        "preview_judges": preview["judges"] if level.sections else [],
        "previews": preview["leaves"] if level.sections else [],
        "gate": _gate(result.get("gate"), totals),
    }


def _gate(gate: object, totals: Totals) -> dict[str, Any]:
    """What the privileged job adds: whether the PR run's own verdict differed from the trusted
    check, whether its artifact was missing, and check runs that only borrow the gate's name."""
    info = mapping(gate)
    counts = array(info.get("pr_counts"))
    theirs = [count(n) for n in counts[:2]] if len(counts) >= 2 else None
    said = (
        Md(f"{plural(theirs[0], 'error')} and {plural(theirs[1], 'warning')}") if theirs else Md("")
    )
    found = Md(f"{plural(totals.errors, 'error')} and {plural(totals.warnings, 'warning')}")
    missing = info.get("artifact_missing")
    return {
        "differs": info.get("differs") is True and theirs is not None,
        "theirs": said,
        "ours": found,
        "missing": prose(missing, 400) if isinstance(missing, str) else Md(""),
        "impostors": count(info.get("impostors")),
        "trusted": isinstance(gate, dict),
    }


def _fits(body: str) -> bool:
    return len(body) <= LIMIT and len(body.encode("utf-8")) <= LIMIT


def render_comment(result: dict[str, Any], run: RunInfo) -> str:
    """The whole comment; the least important sections go first when it would not fit."""
    template = _template()
    for level in LEVELS:
        body = template.render(_context(result, run, level))
        if _fits(body):
            return body
    raise AssertionError("the summary alone is over the limit")  # bounded by construction
