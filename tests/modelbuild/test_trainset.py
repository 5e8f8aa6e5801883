"""Kept SDG pairs become training samples: knowledge in three forms, skills as they are."""

from __future__ import annotations

from taxonbot.modelbuild.trainset import FULL_REPLY_WORDS, form_counts, full_reply, leaf_samples
from taxonbot.sdg.sample import Sample

CHUNK = (
    "# Moisture\n\nA working pile should feel as damp as a wrung-out sponge. "
    "If it is too wet, air cannot get in and the pile smells."
)
LEAF = "knowledge/home_and_garden/composting/home_composting"


def kept(question: str, answer: str, context: str = CHUNK) -> Sample:
    sample = Sample(0, question, answer, context, finished=True)
    assert sample.kept
    return sample


def test_a_knowledge_pair_is_learned_with_and_without_its_excerpt_and_the_document_too() -> None:
    pair = kept("How damp should a pile be?", "As damp as a wrung-out sponge.")
    out = leaf_samples(LEAF, "knowledge", [pair], [CHUNK, CHUNK], "A guide to composting.")
    assert form_counts(out) == {"closed_book": 1, "open_book": 1, "passage": 1}
    closed, open_book, passage = out
    assert closed["messages"] == [
        {"role": "user", "content": "How damp should a pile be?"},
        {"role": "assistant", "content": "As damp as a wrung-out sponge."},
    ]
    assert CHUNK in open_book["messages"][0]["content"]  # the excerpt travels with the question
    assert open_book["messages"][1]["content"] == "As damp as a wrung-out sponge."
    prompt, rest = (m["content"] for m in passage["messages"])
    assert prompt.endswith("A working pile should feel as damp as a wrung-out sponge.")
    assert "A guide to composting." in prompt
    assert rest == "If it is too wet, air cannot get in and the pile smells."
    assert "#" not in prompt + rest  # headings are not prose
    assert {s["leaf"] for s in out} == {LEAF}


def test_without_a_kept_pair_a_knowledge_leaf_gives_nothing_not_passages_alone() -> None:
    assert leaf_samples(LEAF, "knowledge", [], [CHUNK], "topic") == []


def test_a_one_sentence_chunk_gives_no_passage() -> None:
    pair = kept("How damp should a pile be?", "As damp as a wrung-out sponge.")
    out = leaf_samples(LEAF, "knowledge", [pair], ["Only one sentence here."], "")
    assert form_counts(out) == {"closed_book": 1, "open_book": 1}


def test_skill_pairs_are_kept_as_they_are() -> None:
    pair = kept("Summarise the notes.", "The launch moves to May.", "Notes: launch in May.")
    out = leaf_samples("compositional_skills/x", "skills", [pair], [], "")
    assert out == [{"messages": pair.messages(), "leaf": "compositional_skills/x"}]
    assert form_counts(out) == {"pair": 1}


DOC = (
    "# Balance\n\nGreens are moist scraps rich in nitrogen. Browns are dry leaves and cardboard "
    "rich in carbon. Use two to three buckets of browns per bucket of greens. Adjust by smell: "
    "a sour pile wants browns, a dry one wants water."
)


def test_a_bare_document_sentence_is_learned_as_a_full_reply_in_document_order() -> None:
    pair = kept("What are greens?", "Greens are moist scraps rich in nitrogen.", DOC)
    closed = leaf_samples(LEAF, "knowledge", [pair], [DOC], "")[0]
    reply = closed["messages"][1]["content"]
    assert reply.startswith("Greens are moist scraps rich in nitrogen. Browns are dry leaves")
    assert len(reply.split()) >= FULL_REPLY_WORDS  # whole sentences, until long enough
    assert "#" not in reply


def test_a_reply_at_the_end_of_its_excerpt_takes_the_sentences_before_it() -> None:
    last = "Adjust by smell: a sour pile wants browns, a dry one wants water."
    reply = full_reply(last, DOC, words=20)  # 12 words, then 11 before it
    assert reply.endswith(last)
    assert reply.startswith("Use two to three buckets")  # one sentence back was enough


def test_an_answer_not_made_of_its_excerpt_sentences_is_left_as_written() -> None:
    assert full_reply("Mostly browns.", DOC) == "Mostly browns."
    assert full_reply("Greens are moist scraps rich in nitrogen.", "") == (
        "Greens are moist scraps rich in nitrogen."
    )
    # the open-book form answers beside its excerpt: it stays the bare sentence
    pair = kept("What are greens?", "Greens are moist scraps rich in nitrogen.", DOC)
    open_book = leaf_samples(LEAF, "knowledge", [pair], [DOC], "")[1]
    assert open_book["messages"][1]["content"] == "Greens are moist scraps rich in nitrogen."
