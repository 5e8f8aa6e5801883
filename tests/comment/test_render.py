"""The PR comment, read the way GitHub reads it: through a real GFM renderer (cmark-gfm)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from taxonbot.comment import render
from taxonbot.comment.render import LIMIT, render_comment
from taxonbot.github.markers import MARKER, recorded_run
from taxonbot.markdown import Md
from tests.comment import RUN, SHA, assert_inert, demo_result, html_of, poisoned


def first_pair(result: dict[str, Any]) -> dict[str, Any]:
    pair: dict[str, Any] = result["preview"]["leaves"][1]["pairs"][0]
    return pair


# ---- the demo pull request -----------------------------------------------------------------


def test_a_contributor_sees_a_summary_then_what_to_do_then_findings_by_file() -> None:
    body = render_comment(demo_result(), RUN)
    html = assert_inert(body)
    assert body.splitlines()[1].startswith("<!-- taxonbot:run ")
    summary = html.split("</table>")[0]
    assert "❌ 7 errors, 1 warning in 2 files" in summary
    assert "1 gap confirmed" in summary and "1 skipped" in summary
    assert "no near-duplicate questions" in summary
    assert "0 of 10 sample pairs kept" in summary
    headings = [html.index(f"<h4>{h}") for h in ("What to do next", "Findings", "Preview")]
    assert headings == sorted(headings)
    assert "<code>/taxonbot recheck</code>" in html
    assert "Fix the 7 problems" in html


def test_each_finding_links_to_its_line_at_the_head_commit() -> None:
    html = html_of(render_comment(demo_result(), RUN))
    qna = "examples/pull_request/compositional_skills/writing/freeform/Thank_You_Notes/qna.yaml"
    link = f'<a href="https://github.com/acme/taxonomy/blob/{SHA}/{qna}#L5">line 5, col 3</a>'
    assert link in html
    # two files with findings: two tables of findings under their names
    assert html.count("<th>What to do</th>") == 2
    assert html.count(f"<strong><code>{qna}</code></strong>") == 1
    assert "<code>seed_examples</code> needs at least 5 items; it has 3." in html


def test_the_summary_and_tables_render_as_tables() -> None:
    html = html_of(render_comment(demo_result(), RUN))
    assert html.startswith(f"{MARKER}\n<!-- taxonbot:run ")
    # summary, two files of findings, the model's answers, the nearest questions (2 leaves)
    assert html.count("<table>") == 6
    assert "<td><strong>Format and content</strong></td>" in html


def test_dropped_sample_pairs_are_summarised_with_two_examples_collapsed() -> None:
    html = html_of(render_comment(demo_result(), RUN))
    assert "<li>10 pairs dropped by <code>pair_rating</code>: scored 1</li>" in html
    section = html.split("Examples of dropped pairs: ")[1].split("</details>")[0]
    assert section.startswith("compositional_skills/writing/freeform/email/reschedule_meeting (")
    assert section.count("<strong>Pair ") == 2  # two examples, not ten
    assert "dropped by <code>pair_rating</code>: scored 1; needs at least 2" in section
    assert "scores: <code>question_quality</code> 1, <code>pair_rating</code> 1" in section
    assert section.count("<pre") == 4  # question and answer of each example


def test_the_run_line_records_this_run_for_the_next_planner() -> None:
    body = render_comment(demo_result(), RUN)
    assert recorded_run(body) == (RUN.run_id, RUN.run_attempt)
    assert f'"head_sha": "{SHA}"' in body.splitlines()[1]


def test_the_same_result_renders_the_same_bytes() -> None:
    assert render_comment(demo_result(), RUN) == render_comment(demo_result(), RUN)


def test_sections_that_did_not_run_say_so() -> None:
    result = demo_result() | {"gaps": None, "preview": None, "diff": None}
    html = assert_inert(render_comment(result, RUN))
    assert html.count("⏭️ did not run") == 3
    nothing = assert_inert(render_comment({"check": None}, RUN))
    assert "The checks did not run" in nothing


def test_a_clean_pull_request_is_told_nothing_has_to_change() -> None:
    result = demo_result()
    result["check"]["findings"] = []
    result["check"]["summary"] |= {"errors": 0, "warnings": 0}
    html = assert_inert(render_comment(result, RUN))
    assert "✅ passed (0 warnings in 2 files)" in html
    assert "Nothing has to change" in html and "Findings" not in html


def test_a_near_duplicate_question_is_shown_beside_the_one_it_repeats() -> None:
    result = demo_result()
    leaf = result["gaps"]["overlap"]["leaves"][1]
    leaf["near_duplicates"] = [
        {
            "question": "Tell a friend I need to move our Saturday lunch to Sunday.",
            "other_leaf": "compositional_skills/writing/freeform/email/polite_decline",
            "other_file": "compositional_skills/writing/freeform/email/polite_decline/qna.yaml",
            "other_question": "Tell a friend I can't make Saturday lunch; Sunday instead?",
            "score": 0.9123,
            "exact": False,
        }
    ]
    leaf["near_duplicates_omitted"] = 2
    result["gaps"]["novelty"][1]["verdict"] = "already_known"
    html = assert_inert(render_comment(result, RUN))
    assert "🔁 3 near-duplicate questions" in html
    assert "3 near-duplicate questions:</li>" in html
    assert (
        "<td><code>compositional_skills/writing/freeform/email/polite_decline</code></td>" in html
    )
    assert "<td>0.91</td>" in html
    assert "Reword them so that each one teaches something new" in html
    assert "already answers most questions of 1 leaf well" in html


# ---- hostile artifacts -----------------------------------------------------------------------


def test_every_string_of_the_result_poisoned_stays_inert() -> None:
    body = render_comment(poisoned(demo_result()), RUN)
    html = assert_inert(body)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as text
    assert "&lt;/details&gt;" in html
    assert "$(id)" in html and "curl x|sh" in html  # shown as text: nothing runs a comment
    assert "<h1>" not in html and "Heading" in html  # a newline in a value makes no heading
    assert "\u202e" not in body and "\x00" not in body


def test_a_hostile_path_gets_a_percent_encoded_link_or_none() -> None:
    result = demo_result()
    findings = result["check"]["findings"]
    findings[0]["path"] = "taxonomy/a b/(x)#1?y=<z>/qna.yaml"
    findings[1]["path"] = "../../etc/passwd"
    findings[2]["path"] = "/abs/qna.yaml"
    html = assert_inert(render_comment(result, RUN))
    assert f"/blob/{SHA}/taxonomy/a%20b/%28x%29%231%3Fy%3D%3Cz%3E/qna.yaml#L2" in html
    assert "etc/passwd#L" not in html and "/abs/qna.yaml#L" not in html
    assert "line 3, col 1</td>" in html  # unlinked, still located


def test_model_output_with_long_backtick_runs_cannot_close_its_fence() -> None:
    result = demo_result()
    pair = first_pair(result)
    pair["answer"] = "a\n``````\n</details>\n<img src=x onerror=alert(1)>\n```\n@org/team #1"
    pair["question"] = "~~~\nq"
    body = render_comment(result, RUN)
    assert "```````text\na\n``````\n" in body  # a fence of seven, one more than the run inside
    html = assert_inert(body)
    block = html.split("``````")[1].split("</code></pre>")[0]
    assert "&lt;/details&gt;\n&lt;img src=x onerror=alert(1)&gt;\n```\n@\u200borg/team" in block


def test_a_copy_of_our_marker_in_content_is_no_second_marker() -> None:
    result = demo_result()
    result["check"]["findings"][0]["message"] = MARKER
    result["check"]["findings"][1]["rule"] = MARKER  # a code span: < is not escaped there
    first_pair(result)["answer"] = f"{MARKER}\n<!-- taxonbot:run {{}} -->"
    body = render_comment(result, RUN)
    assert_inert(body)
    assert recorded_run(body) == (RUN.run_id, RUN.run_attempt)


def test_wrong_types_in_the_artifact_render_as_missing_values() -> None:
    result = demo_result()
    result["check"]["findings"][0] |= {"line": "5; rm -rf /", "message": ["x"], "severity": 3}
    result["check"]["summary"]["errors"] = True
    result["gaps"]["overlap"]["leaves"] = "not a list"
    result["preview"]["leaves"][1]["counts"] = {"kept": -5, "candidates": 1e300}
    first_pair(result)["scores"] = {"x": "NaN", "y": None, "z": float("inf")}
    assert_inert(render_comment(result, RUN))


def test_the_template_cannot_print_a_plain_string() -> None:
    with pytest.raises(TypeError, match="not Md"):
        render._only_safe("<img src=x>")
    assert render._only_safe(Md("ok")) == "ok"


def test_a_question_the_leaf_asks_twice_shows_its_neighbours_and_duplicates_once() -> None:
    # The demo's Thank_You_Notes asks its first question twice (the check reports it); the
    # overlap finds that question's neighbours, and any near-duplicate, once per asking.
    result = demo_result()
    leaf = result["gaps"]["overlap"]["leaves"][0]
    first = leaf["questions"][0]
    assert [q["question"] for q in leaf["questions"]].count(first["question"]) == 2
    dup = {
        "question": first["question"],
        "other_leaf": "compositional_skills/writing/freeform/thanks",
        "other_file": "compositional_skills/writing/freeform/thanks/qna.yaml",
        "other_question": "Write a thank-you note to a neighbour who fed my cat.",
        "score": 0.91,
        "exact": False,
    }
    leaf["near_duplicates"] = [dup, dup]
    html = html_of(render_comment(result, RUN))
    neighbour = first["neighbours"][0]["question"]
    assert html.count(f"<td>{neighbour}</td>") == 1
    assert html.count("<td>Write a thank-you note to a neighbour who fed my cat.</td>") == 1
    assert "1 near-duplicate question:" in html
    summary = html.split("</table>")[0]
    assert "1 near-duplicate" in summary


# ---- size ----------------------------------------------------------------------------------


def huge_result(char: str = "x") -> dict[str, Any]:
    """About 200 KB of findings, answers and neighbours: well over what a comment holds."""
    result = demo_result()
    finding = result["check"]["findings"][0]
    result["check"]["findings"] = [
        finding | {"line": i + 1, "message": f"Problem {i}: " + char * 300} for i in range(300)
    ]
    leaf = result["preview"]["leaves"][1]
    pair = leaf["pairs"][0]
    leaf["pairs"] = [pair | {"number": i, "answer": char * 2000} for i in range(40)]
    novelty = result["gaps"]["novelty"][1]
    novelty["rows"] = [row | {"answer": char * 500} for row in novelty["rows"] * 4]
    return result


@pytest.mark.parametrize("char", ["x", "語"])  # 語: 3 bytes in UTF-8, so bytes bind first
def test_a_200_kb_result_is_cut_to_fit_with_a_note(char: str) -> None:
    result = huge_result(char)
    assert len(str(result).encode()) > 200_000
    body = render_comment(result, RUN)
    html = assert_inert(body)
    assert "This comment was shortened to fit" in html
    assert html.index("</table>") < html.index("This comment was shortened")  # summary first
    assert "Format and content" in html and "What to do next" in html


def test_sample_pairs_go_first_when_the_comment_is_too_long() -> None:
    result = demo_result()
    pair = first_pair(result)
    kept = pair | {"kept": True, "rejected_by": "", "reason": "", "answer": "y" * 2000}
    result["preview"]["leaves"][1]["pairs"] = [kept] * 10
    result["preview"]["leaves"] *= 4  # 40 kept pairs of 2,000 characters shown: too much
    body = render_comment(result, RUN)
    html = assert_inert(body)
    assert "Not shown: the sample pairs, the model's answers." in html
    assert "Nearest questions elsewhere" in html  # neighbours still fit, so they stay
    assert html.count("<strong>Pair ") == 0 and "line 14, col 5" in html  # every finding stays


def test_findings_beyond_the_first_ones_go_when_nothing_else_is_left() -> None:
    result = huge_result()
    body = render_comment(result, RUN)
    note = html_of(body).split("Not shown: ")[1].split(".")[0]
    assert "the sample pairs" in note and "the nearest questions" in note
    assert re.search(r"\d+ findings", note)
    kept = body.count("| ❌ |")
    assert 10 <= kept < 300
    assert f"{300 - kept} more findings not shown here" in body


def test_limits_are_characters_and_bytes() -> None:
    wide = copy.deepcopy(huge_result("😀"))  # 4 bytes, 1 character
    body = render_comment(wide, RUN)
    assert len(body.encode()) <= LIMIT
