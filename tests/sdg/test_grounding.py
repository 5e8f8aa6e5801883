"""The extractive knowledge pipeline: answers taken from the document, questions checked
without a model. Measures first, then the shipped pipeline over a scripted model."""

from __future__ import annotations

import pytest

from taxonbot.runtime.base import ChatRequest
from taxonbot.sdg.grounding import (
    clean_question,
    content_words,
    question_fit,
    question_problem,
    sentences,
    spans,
    support,
)
from taxonbot.sdg.pipeline import Budget, load_pipeline, run_leaf
from taxonbot.sdg.sample import LeafJob
from tests.doubles.fake_backend import FakeBackend

from .fakes import WATER_SEEDS, context_for

DOC_CHUNKS = (
    "# Composting\n\nComposting turns kitchen scraps into a dark, crumbly soil improver. "
    "Most of the work is done by bacteria and fungi.\n\n"
    "Leave these out of a home pile: - Meat and fish, which attract rats. "
    "- Dog and cat feces, which can carry parasites.",
    # The second chunk overlaps the first mid-sentence, as chunk_text's overlap does.
    "and fish, which attract rats. - Dog and cat feces, which can carry parasites.\n\n"
    "A working pile should feel as damp as a wrung-out sponge, with no water dripping out.",
)


def test_sentences_drop_headings_and_a_cut_off_start_and_split_joined_list_items() -> None:
    first = sentences(DOC_CHUNKS[0])
    assert first[0].startswith("Composting turns")
    assert not any(s.startswith("#") for s in first)
    assert "Meat and fish, which attract rats." in first
    assert "Dog and cat feces, which can carry parasites." in first
    second = sentences(DOC_CHUNKS[1])
    assert second[0].startswith("Dog and cat")  # "and fish, ..." is a fragment of the overlap


def test_spans_cover_the_document_once_in_order_and_join_a_lead_in_to_what_follows() -> None:
    found = spans(DOC_CHUNKS)
    texts = [s.text for s in found]
    assert texts[0].startswith("Composting turns")
    assert any(t.startswith("Leave these out of a home pile: Meat and fish") for t in texts)
    assert sum("Dog and cat feces" in t for t in texts) == 1  # overlap not repeated
    assert texts[-1].startswith("A working pile")
    assert found[-1].chunk == DOC_CHUNKS[1]
    for span in found:
        assert support(span.text, span.chunk) == 1.0  # every answer is the document's own words


def test_a_document_without_prose_gives_no_spans() -> None:
    assert spans(("# Title\n\n| a | b |\n|---|---|", "```\ncode\n```")) == []


def test_content_words_match_plurals_and_word_forms() -> None:
    assert content_words("greens composting") == content_words("Green compost")
    assert not content_words("What is it and how can they do this?")


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("", "no question"),
        ("Compost needs air.", "not phrased as a question"),
        ("Tell me about compost?", "not phrased as a question"),
        ("What is the meaning of this sentence?", "wording"),
        ("What if the reader asks about compost piles?", "wording"),
        ("How do stars form in distant galaxies?", "only 0%"),
        ("What " + "compost " * 40 + "?", "over 30 words"),
    ],
)
def test_a_question_that_does_not_ask_for_its_answer_is_refused_with_the_reason(
    question: str, reason: str
) -> None:
    answer = "A compost pile should feel as damp as a wrung-out sponge."
    assert reason in question_problem(question, answer, 0.34)


def test_a_question_that_repeats_its_answer_is_refused() -> None:
    answer = "Red wigglers eat kitchen scraps."
    problem = question_problem("Why do red wigglers eat kitchen scraps?", answer, 0.34)
    assert "repeats the answer" in problem


def test_a_fitting_question_passes_and_beats_a_loose_one() -> None:
    answer = "A compost pile should feel as damp as a wrung-out sponge."
    good = "How damp should a compost pile feel?"
    loose = "How do I start a compost pile in my garden?"
    assert question_problem(good, answer, 0.34) == ""
    assert question_fit(good, answer) > question_fit(loose, answer)
    assert question_fit("Not a question", answer) == -1.0


def test_clean_question_drops_labels_quotes_and_what_follows_the_question_mark() -> None:
    assert clean_question('Question: "How wet is it?" Answer: very') == "How wet is it?"
    assert clean_question("\n") == ""


def test_support_is_the_share_of_the_answer_found_in_the_excerpt() -> None:
    context = "Evaporation turns liquid water into vapor."
    assert support("Evaporation turns water into vapor.", context) == 1.0
    assert support("Evaporation needs sunlight and wind.", context) < 0.5


# --------------------------------------------------------------------------- the pipeline


def compost_job() -> LeafJob:
    return LeafJob(
        "knowledge/home_and_garden/composting/home_composting",
        "qna.yaml",
        "knowledge",
        "A guide to composting at home.",
        WATER_SEEDS,
        DOC_CHUNKS,
    )


def asker(request: ChatRequest) -> str:
    """A small model: of four candidates, one fits the fact (it starts with the prefill)."""
    fact = request.messages[-1][1].split("\n\n")[1]
    if request.seed % 4 == 1:  # the candidate that began with "How"
        return f" does this work: {' '.join(fact.split()[:6]).rstrip('.,:')}?"
    return " is the weather like on Mars today?"


def test_the_extractive_pipeline_keeps_document_answers_and_the_question_that_fits() -> None:
    model = FakeBackend({"question": asker})
    job = compost_job()
    run = run_leaf(load_pipeline("knowledge_extractive"), context_for(job, model), Budget(pairs=4))
    kept = [s for s in run.samples if s.kept]
    assert kept, [(s.rejected_by, s.reason) for s in run.samples]
    document = " ".join(DOC_CHUNKS)
    for sample in kept:
        assert sample.question.startswith("How does this work:")
        assert sample.answer in {s.text for s in spans(DOC_CHUNKS)}
        assert sample.context in DOC_CHUNKS
        assert support(sample.answer, document) == 1.0
    # four candidates per sample, each with its own seed and the prefill list in turn
    assert len(model.requests) == 4 * len(run.samples)
    assert [r.prefill for r in model.requests[:4]] == ["What", "How", "What", "Why"]
    assert len({r.seed for r in model.requests}) == len(model.requests)


def test_the_extractive_pipeline_rejects_questions_that_miss_their_answer() -> None:
    model = FakeBackend({"question": " is the weather like on Mars today?"})
    job = compost_job()
    run = run_leaf(load_pipeline("knowledge_extractive"), context_for(job, model), Budget(pairs=3))
    assert not any(s.kept for s in run.samples)
    assert {s.rejected_by for s in run.samples} == {"grounding"}
    assert all("about the answer" in s.reason for s in run.samples)


def test_a_leaf_without_prose_is_rejected_at_the_span_block_without_asking_the_model() -> None:
    model = FakeBackend({})
    job = LeafJob("knowledge/x/y", "qna.yaml", "knowledge", "", WATER_SEEDS, ("# Only a title",))
    run = run_leaf(load_pipeline("knowledge_extractive"), context_for(job, model), Budget(pairs=2))
    assert {s.rejected_by for s in run.samples} == {"span"}
    assert "no prose sentences" in run.samples[0].reason
    assert model.requests == []


def test_recall_counts_the_reference_facts_an_answer_says_and_brevity_cannot_raise_it() -> None:
    from taxonbot.sdg.grounding import recall

    reference = "7 times 8 is 56."
    assert recall(reference, "7 times 8 is 56, as the table shows.") == 1.0
    assert recall(reference, "7 * 8 = 54") == pytest.approx(2 / 4)  # 7, 8 said; times, 56 not
    assert recall(reference, "") == 0.0
    assert recall("Yes.", "yes") == 1.0  # a reference of stop words only is matched as words
    assert recall("", "anything") == 0.0
