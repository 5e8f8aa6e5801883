"""The comment's preview section from preview.json as `taxonbot preview` now writes it: which model
ran and why, kept pairs best first, dropped pairs summarised by reason, judges that cannot
separate named instead of shown, and advice from the leaf's own data when nothing is kept."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from taxonbot.comment.preview import normal_reason
from taxonbot.comment.render import render_comment
from taxonbot.schemas import validator
from tests.comment import HOSTILE, RUN, assert_inert, demo_result, poisoned

PREVIEW_SCHEMA = "https://taxonbot.dev/schemas/preview.json"
GROUNDED = "compositional_skills/writing/grounded/summarization/meeting_notes_bullets"
FREEFORM = "compositional_skills/writing/freeform/email/polite_decline"
JUDGES = {
    "question_quality": {"status": "skipped", "auc": 0.52},
    "pair_rating": {"status": "uncalibrated", "auc": None},
    "grounded_pair": {"status": "used", "auc": 0.81},
}


def pair(number: int, rejected_by: str = "", reason: str = "", rank: int | None = None) -> Any:
    kept = not rejected_by
    return {
        "number": number,
        "question": f"Question {number}?",
        "answer": f"Answer {number}.",
        "context": f"Notes {number}." if number % 2 else "",
        "kept": kept,
        "finished": rejected_by != "time_budget",
        "rejected_by": rejected_by,
        "reason": reason,
        "scores": {"question_quality": 0, "pair_rating": 2, "grounded_pair": 3},
        "filters": {"question_quality": True, "pair_rating": True, "grounded_pair": kept},
        "judge_replies": {},
        "signals": {"grounding": 0.91, "novelty": 0.625},
        "rank": rank,
    }


def leaf(name: str, pairs: list[Any], **extra: Any) -> dict[str, Any]:
    rejected: dict[str, int] = {}
    for p in pairs:
        if p["rejected_by"]:
            rejected[p["rejected_by"]] = rejected.get(p["rejected_by"], 0) + 1
    return {
        "path": f"taxonomy/{name}/qna.yaml",
        "leaf": name,
        "kind": "grounded_skills" if "grounded" in name else "freeform_skills",
        "status": "complete",
        "message": "",
        "pipeline": {"name": "grounded_skills", "version": "1", "sha256": "a" * 64},
        "seconds": 12.5,
        "counts": {
            "candidates": len(pairs),
            "kept": sum(p["kept"] for p in pairs),
            "rejected_by": dict(sorted(rejected.items())),
        },
        "seeds": {"examples": 6, "with_context": 6, "alike": 0},
        "judges": JUDGES,
        "pairs": pairs,
    } | extra


def good_leaf() -> dict[str, Any]:
    """Three kept (ranks 2, 1, 3 in the order made), seven dropped for four reasons."""
    return leaf(
        GROUNDED,
        [
            pair(0, rank=2),
            pair(1, "grounded_pair", "scored 1; needs at least 2"),
            pair(2, "grounded_pair", "scored 1; needs at least 2"),
            pair(3, rank=1),
            pair(4, "grounded_pair", "scored 1; needs at least 2"),
            pair(5, "dedupe", "copies a seed example's question"),
            pair(6, "generate", "the model request failed: timed out after 30 s"),
            pair(7, "generate", "the model request failed: HTTP 500 from the server"),
            pair(8, rank=3),
            pair(9, "grounded_pair", "scored 0; needs at least 2"),
        ],
    )


def nothing_kept(**seeds: int) -> dict[str, Any]:
    dropped = [pair(n, "grounded_pair", "scored 1; needs at least 2") for n in range(4)]
    facts = {"examples": 6, "with_context": 6, "alike": 0} | seeds
    return leaf(GROUNDED, dropped, seeds=facts)


def error_leaf(message: str) -> dict[str, Any]:
    return {
        "path": f"taxonomy/{FREEFORM}/qna.yaml",
        "status": "error",
        "message": message,
        "leaf": "",
        "kind": "",
        "pipeline": None,
        "counts": {"candidates": 0, "kept": 0, "rejected_by": {}},
        "pairs": [],
    }


CATALOGUE = {
    "requested": "qwen2.5-coder-1.5b",
    "name": "qwen2.5-coder-1.5b",
    "source": "catalogue",
    "reason": "",
    "licence": "Apache-2.0",
    "judges": {"grounded_pair": 0.81, "question_quality": 0.52},
}
FALLBACK = CATALOGUE | {
    "name": "smollm2-135m",
    "source": "bundled",
    "reason": "qwen2.5-coder-1.5b is not in the model cache (fetching it failed: HTTP 404).",
    "judges": {},
}


def preview_of(*leaves: dict[str, Any], choice: dict[str, Any] | None = CATALOGUE) -> Any:
    result = demo_result()
    result["preview"]["leaves"] = list(leaves)
    result["preview"]["model_choice"] = choice
    problems = [e.message for e in validator(PREVIEW_SCHEMA).iter_errors(result["preview"])]
    assert not problems, problems  # the fixtures are what report.py may write
    return result


def section(result: dict[str, Any]) -> str:
    html = assert_inert(render_comment(result, RUN))
    return html.split("<h4>Preview: sample training pairs</h4>")[1]


def test_kept_pairs_come_first_best_ranked_first_with_scores_that_mean_something() -> None:
    html = section(preview_of(good_leaf()))
    kept = html.split("Kept pairs: ")[1].split("</details>")[0]
    titles = re.findall(r"<strong>Rank (\d)</strong> · pair (\d+)", kept)
    assert titles == [("1", "4"), ("2", "1"), ("3", "9")]
    assert html.index("Kept pairs: ") < html.index("Why pairs were dropped")
    # used judge: a plain score; uncalibrated: labelled; skipped: not shown at all
    assert "<code>grounded_pair</code> 3" in kept
    assert "<code>pair_rating</code> 2 (uncalibrated)" in kept
    assert "<code>question_quality</code> 0" not in kept
    assert "grounding 0.91, novelty 0.62" in kept  # signals, compactly
    assert "<details open><summary>Kept pairs: " in html


def test_dropped_pairs_are_counted_by_reason_with_at_most_two_examples_collapsed() -> None:
    html = section(preview_of(good_leaf()))
    summary = html.split("Why pairs were dropped:")[1].split("<details>")[0]
    lines = re.findall(r"<li>(.*?)</li>", summary)
    assert lines == [
        "3 pairs dropped by <code>grounded_pair</code>: scored 1",
        "2 pairs dropped by <code>generate</code>: the model request failed",
        "1 pair dropped by <code>dedupe</code>: copies a seed example's question",
        "1 pair dropped by <code>grounded_pair</code>: scored 0",
    ]  # the most common first; ties in the order they first happened
    examples = html.split("Examples of dropped pairs: ")[1].split("</details>")[0]
    assert "not what the model usually writes" in examples
    shown = re.findall(r"<strong>Pair (\d+)</strong>, dropped by", examples)
    assert shown == ["2", "3", "7", "8", "6", "10"]  # two of three, both of two, one, one
    assert "timed out after 30 s" in examples  # the example keeps its whole reason


@pytest.mark.parametrize(
    ("reason", "group"),
    [
        ("scored 0; needs at least 1", "scored 0"),
        ("unparsable judgement: 'I love it'", "unparsable judgement"),
        ("the model request failed: timed out", "the model request failed"),
        ("question: repetitive (looping) text", "question: repetitive"),
        ("answer: empty reply", "answer: empty reply"),
        ("duplicates generated question #3", "duplicates generated question #N"),
        ("only 40% of the answer's words are in the excerpt (needs 60%)", "only N% of the a"),
        ("", "no reason given"),
    ],
)
def test_reasons_group_without_their_details(reason: str, group: str) -> None:
    assert normal_reason(reason).startswith(group)


def test_a_judge_that_cannot_separate_is_named_never_shown_as_a_verdict() -> None:
    html = section(preview_of(good_leaf()))
    assert (
        "<code>question_quality</code> was not used: on this model it cannot tell good pairs "
        "from bad ones (AUC 0.52 on the labelled set)." in html
    )
    assert "<code>pair_rating</code>'s scores are uncalibrated" in html
    assert "<code>grounded_pair</code> was not used" not in html


def test_the_model_that_ran_is_named_with_its_licence() -> None:
    html = section(preview_of(good_leaf()))
    assert html.startswith(
        "\n<p>Previewed with <code>qwen2.5-coder-1.5b</code>, licence <code>Apache-2.0</code>.</p>"
    )


def test_a_fallback_model_says_why_it_ran() -> None:
    html = section(preview_of(good_leaf(), choice=FALLBACK))
    assert (
        "Previewed with <code>smollm2-135m</code>, licence <code>Apache-2.0</code> (the bundled "
        "fallback) because <code>qwen2.5-coder-1.5b</code> could not be used: qwen2.5-coder-1.5b "
        "is not in the model cache (fetching it failed: HTTP 404). Expect weaker pairs" in html
    )
    assert "a maintainer can comment <code>/taxonbot preview</code>" in html


def test_an_old_preview_without_the_new_fields_still_renders() -> None:
    result = demo_result()  # the demo's preview.json predates model_choice, judges and signals
    assert "model_choice" not in result["preview"]
    html = section(result)
    assert (
        "Previewed with <code>SmolLM2-135M-Instruct.Q4_1.gguf</code> (<code>llama.cpp</code>)"
        in html
    )
    assert "10 pairs dropped by <code>pair_rating</code>: scored 1" in html
    assert "scores: <code>question_quality</code> 1, <code>pair_rating</code> 1" in html
    assert "See why the pairs were dropped below." in html  # no seed facts: no seed advice


def test_a_leaf_whose_seeds_did_not_all_fit_says_how_many_the_prompts_showed() -> None:
    facts = {"examples": 48, "with_context": 48, "alike": 0, "shown": 4}
    html = section(preview_of(leaf(GROUNDED, [pair(0, rank=1)], seeds=facts)))
    assert "Its prompts showed the first 4 of its 48 seed examples, as many as fit" in html
    assert "checked against all of them" in html
    # all shown (the field absent, as report.py writes it) or a hostile count: nothing said
    for seeds in ({"examples": 6, "with_context": 6, "alike": 0}, facts | {"shown": 48}):
        assert "prompts showed" not in section(preview_of(leaf(GROUNDED, [pair(0)], seeds=seeds)))


# ---- nothing kept ------------------------------------------------------------------------------

ADVICE = {
    "too few": ({"examples": 3, "with_context": 3}, "Add seed examples: the leaf has 3 "),
    "too long": ({"shown": 2}, "Shorten the seed examples' texts: only the first 2 of 6 fit"),
    "alike": ({"alike": 4}, "Make the seed questions differ: 4 of 6 are almost the same"),
    "no context": ({"with_context": 2}, "Give every seed example a <code>context</code>: 4 of 6"),
}


@pytest.mark.parametrize(("seeds", "advice"), ADVICE.values(), ids=ADVICE.keys())
def test_nothing_kept_says_what_to_change_in_the_seeds(seeds: dict[str, int], advice: str) -> None:
    html = section(preview_of(nothing_kept(**seeds)))
    assert "No pair was kept. That usually means" in html
    tips = html.split("What may help:")[1].split("</ul>")[0]
    assert advice in tips
    others = [a for s, a in ADVICE.values() if a != advice]
    assert not any(other in tips for other in others)
    assert "Previewed with <code>qwen2.5-coder-1.5b</code>" in html  # which model ran
    assert "the small bundled model" not in tips


def test_nothing_kept_on_the_weak_fallback_says_so() -> None:
    html = section(preview_of(nothing_kept(), choice=FALLBACK))
    tips = html.split("What may help:")[1].split("</ul>")[0]
    assert "It ran on <code>smollm2-135m</code>, the small bundled model" in tips
    assert "Add seed examples" not in tips


def test_seeds_without_a_known_problem_point_at_the_reasons() -> None:
    tips = section(preview_of(nothing_kept())).split("What may help:")[1]
    assert "have none of the usual problems (too few, too alike, no context" in tips


def test_leaves_cut_by_the_time_budget_get_no_seed_advice() -> None:
    cut = leaf(GROUNDED, [pair(0, "time_budget", "not finished before the time budget ran out")])
    cut |= {"status": "time_budget", "message": "The time budget ran out."}
    html = section(preview_of(cut))
    assert "No pair was kept" not in html
    assert "stopped part-way by the time budget" in html


def test_an_error_leaf_is_one_line_and_the_other_leaves_still_render() -> None:
    message = "Its documents could not be fetched: `git fetch` timed out after 60 s."
    html = section(preview_of(error_leaf(message), good_leaf()))
    line = re.findall(r"<li>❌ .*?</li>", html)
    assert line == [
        f"<li>❌ <code>taxonomy/{FREEFORM}/qna.yaml</code>: could not run: Its documents could "
        "not be fetched: <code>git fetch</code> timed out after 60 s.</li>"
    ]
    assert html.count("<strong>Rank ") == 3  # the good leaf is all there
    assert "0 of 0" not in html


# ---- hostile and oversized --------------------------------------------------------------------


def test_hostile_text_in_the_new_fields_stays_inert() -> None:
    bad = good_leaf()
    for p in bad["pairs"]:
        p["reason"] = HOSTILE + p["reason"]
        p["question"] = HOSTILE
    result = preview_of(bad, error_leaf(HOSTILE), choice=FALLBACK | {"reason": HOSTILE})
    result["preview"]["model_choice"] = poisoned(result["preview"]["model_choice"])
    html = section(result)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # names the schema would refuse still render as text, should a renderer meet them
    bad["judges"] = {HOSTILE: {"status": "skipped", "auc": "0.5"}}
    bad["pairs"][0]["signals"] = {HOSTILE: "NaN", "x": float("inf")}
    bad["pairs"][0]["rank"] = HOSTILE
    assert_inert(render_comment(result, RUN))


def test_wrong_types_in_the_new_fields_render_as_missing_values() -> None:
    result = preview_of(good_leaf())
    body = result["preview"]
    body["model_choice"] = {"name": ["x"], "reason": 5, "source": None}
    body["leaves"][0] |= {"seeds": "many", "judges": ["skipped"]}
    body["leaves"][0]["pairs"][0] |= {"rank": True, "signals": [1, 2]}
    assert_inert(render_comment(result, RUN))


def test_many_leaves_of_long_pairs_still_fit_with_the_reasons_kept() -> None:
    big = good_leaf()
    for p in big["pairs"]:
        p["answer"] = "y" * 5000
    result = preview_of(*[copy.deepcopy(big) for _ in range(12)])
    body = render_comment(result, RUN)
    html = assert_inert(body)
    assert "Not shown: the sample pairs" in html
    assert html.count("3 pairs dropped by <code>grounded_pair</code>: scored 1") == 12
    assert html.count("<strong>Rank ") == 0


def test_judge_notes_shared_by_every_leaf_are_said_once_the_others_under_their_leaf() -> None:
    other = good_leaf() | {"leaf": FREEFORM, "judges": {"pair_rating": JUDGES["pair_rating"]}}
    html = section(preview_of(good_leaf(), other))
    assert html.count("<code>pair_rating</code>'s scores are uncalibrated") == 1
    assert html.count("<code>question_quality</code> was not used") == 1
    shared = html.split("How far to trust the judges' scores on this model:")[1].split("</ul>")[0]
    assert "pair_rating" in shared and "question_quality" not in shared
    first = html.split("</li>\n</ul>\n</li>")[0]  # the first leaf's line and its own notes
    assert "<code>question_quality</code> was not used" in first


def test_a_leaf_with_many_reasons_lists_the_commonest_and_counts_the_rest() -> None:
    many = leaf(
        GROUNDED, [pair(n, "generate", f"question: problem kind {chr(97 + n)}") for n in range(14)]
    )
    html = section(preview_of(many))
    assert html.count("<li>1 pair dropped by <code>generate</code>: question: problem kind ") == 10
    assert "<li>4 other reasons</li>" in html


def test_a_fallback_reason_without_a_full_stop_still_ends_its_sentence() -> None:
    reason = "qwen2.5-coder-1.5b is not fetched; `taxonbot model fetch qwen2.5-coder-1.5b` does"
    html = section(preview_of(good_leaf(), choice=FALLBACK | {"reason": reason}))
    assert "<code>taxonbot model fetch qwen2.5-coder-1.5b</code> does. Expect weaker" in html


def test_the_default_teacher_is_called_the_usual_model() -> None:
    choice = FALLBACK | {"requested": "llama.cpp", "reason": "the offline default is missing."}
    html = section(preview_of(good_leaf(), choice=choice))
    assert "because the usual model could not be used: the offline default is missing." in html
