"""Grammars in pipelines, replies cut at the token cap, and the degeneration filter: what reaches
a judge is a whole, well-formed reply, and what does not is a rejection that says why."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from taxonbot.sdg.blocks import BlockSpec, generate, judge
from taxonbot.sdg.generate import GenerationSettings, leaf_inputs
from taxonbot.sdg.pipeline import PipelineError, load_pipeline
from taxonbot.sdg.prompts import GRAMMARS_DIR, templates_hash
from taxonbot.sdg.replies import clean_block, clean_line, degenerate, split_question_answer
from taxonbot.sdg.sample import Sample
from tests.doubles.fake_backend import FakeBackend

from .fakes import context_for, haiku_job, meeting_job, water_job

SHIPPED = ("freeform_skills", "grounded_skills", "knowledge", "knowledge_extractive")
BINARY = 'root ::= " "? [01]\n'


def samples(count: int, question: str = "", answer: str = "") -> list[Sample]:
    return [Sample(n, question, answer) for n in range(count)]


# --------------------------------------------------------------------------- grammars as data


@pytest.mark.parametrize("name", SHIPPED)
def test_every_grammar_a_shipped_pipeline_names_is_loaded_with_the_pipeline(name: str) -> None:
    for block in load_pipeline(name).blocks:
        if block.grammar:
            assert block.grammar_text == (GRAMMARS_DIR / block.grammar).read_text("utf-8")
            assert "root ::=" in block.grammar_text


def test_judges_and_structured_generations_have_grammars_answers_do_not() -> None:
    blocks = {(p, b.name): b for p in SHIPPED for b in load_pipeline(p).blocks}
    assert all(b.grammar for b in blocks.values() if b.type == "judge")
    for key in [("freeform_skills", "new_question"), ("grounded_skills", "new_context")]:
        assert blocks[key].grammar
    assert blocks[("knowledge", "grounded_pair")].grammar == "knowledge_pair.gbnf"
    assert blocks[("knowledge_extractive", "question")].grammar
    assert not blocks[("freeform_skills", "answer")].grammar  # free prose: no shape to force


def write(folder: Path, grammar: str) -> Path:
    text = (
        "name: broken\nversion: 1\nblocks:\n  - name: score\n    type: judge\n"
        "    template: question_quality.j2\n    scale: binary\n"
        f"    grammar: {grammar}\n"
    )
    (folder / "broken.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_grammar_that_is_not_there_is_a_pipeline_error_naming_the_file_and_block(
    tmp_path: Path,
) -> None:
    with pytest.raises(PipelineError) as raised:
        load_pipeline("broken", write(tmp_path, "no_such_grammar.gbnf"))
    message = str(raised.value)
    assert "broken.yaml" in message and "'score'" in message
    assert "no_such_grammar.gbnf" in message and "grammars/" in message


@pytest.mark.parametrize("bad", ["score.txt", "../secrets.gbnf", "Score.gbnf", "a b.gbnf"])
def test_a_grammar_name_outside_the_grammars_folder_is_refused_by_the_schema(
    tmp_path: Path, bad: str
) -> None:
    with pytest.raises(PipelineError, match=r"broken\.yaml: blocks/0/grammar"):
        load_pipeline("broken", write(tmp_path, f"'{bad}'"))


def test_grammars_are_covered_by_the_hash_that_names_cached_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = templates_hash()
    folder = tmp_path / "grammars"
    folder.mkdir()
    for path in GRAMMARS_DIR.glob("*.gbnf"):
        (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr("taxonbot.sdg.prompts.GRAMMARS_DIR", folder)
    assert templates_hash() == before
    (folder / "score_binary.gbnf").write_text(BINARY.replace("[01]", "[0-1]"), encoding="utf-8")
    assert templates_hash() != before
    inputs = leaf_inputs({"leaf": "x"}, "p" * 64, {"model": "m"}, GenerationSettings())
    assert inputs["templates"] == templates_hash()


# --------------------------------------------------------------------------- grammars on requests

QUALITY = BlockSpec(
    "question_quality",
    "judge",
    "question_quality.j2",
    scale="binary",
    keep_at_least=1,
    prefill="Score:",
    max_tokens=4,
    grammar="score_binary.gbnf",
    grammar_text=BINARY,
)
QUESTION = BlockSpec(
    "new_question",
    "generate",
    "freeform_question.j2",
    "question",
    max_tokens=8,
    grammar="request_line.gbnf",
    grammar_text="root ::= [A-Z] [^\\n]+ [.?]\n",
)
ANSWER = BlockSpec("answer", "generate", "answer.j2", "answer", max_tokens=12)
CONTEXT = BlockSpec("new_context", "generate", "grounded_context.j2", "context", max_tokens=40)


def test_a_block_with_a_grammar_sends_its_text_and_one_without_sends_none() -> None:
    model = FakeBackend({"question_quality": " 1", "answer": "Fog on the pier."})
    judge(QUALITY, context_for(haiku_job(), model), samples(1, "Write a haiku about fog."))
    generate(ANSWER, context_for(haiku_job(), model), samples(1, "Write a haiku about fog."))
    assert [r.grammar for r in model.requests] == [BINARY, ""]


def test_a_structured_reply_cut_at_the_token_cap_is_a_rejection_saying_so() -> None:
    # A grammar-constrained reply that runs out of tokens before the grammar is complete comes
    # back with finish_reason "length" (ChatRequest.grammar); the fake cuts at max_tokens too.
    endless = "Write " + " ".join(f"word{i}" for i in range(40))
    model = FakeBackend({"new_question": endless})
    batch = samples(2)
    generate(QUESTION, context_for(haiku_job(), model), batch)
    assert {(s.rejected_by, s.reason) for s in batch} == {
        ("new_question", "did not finish the structured question within 8 tokens")
    }


def test_a_judge_that_cannot_finish_its_structured_score_rejects_with_that_reason() -> None:
    model = FakeBackend({"question_quality": "well let me think about this one"})
    batch = samples(1, "Write a haiku about fog.")
    judge(QUALITY, context_for(haiku_job(), model), batch)
    assert batch[0].reason == "did not finish the structured score within 4 tokens"
    assert batch[0].verdicts["question_quality"].score is None


def test_a_server_that_ignores_the_grammar_is_still_read_leniently() -> None:
    model = FakeBackend({"question_quality": "1 - it is clear"})
    batch = samples(1, "Write a haiku about fog.")
    judge(replace(QUALITY, max_tokens=12), context_for(haiku_job(), model), batch)
    assert batch[0].verdicts["question_quality"].score == 1 and not batch[0].rejected_by


def test_an_answer_cut_at_the_token_cap_is_dropped_before_any_judge() -> None:
    model = FakeBackend({"answer": "Fog rolls over the harbour and the boats wait for it to lift"})
    batch = samples(1, "Write a haiku about fog.")
    generate(ANSWER, context_for(haiku_job(), model), batch)
    assert (batch[0].rejected_by, batch[0].reason) == ("answer", "answer cut off at 12 tokens")


def test_a_context_cut_at_the_cap_keeps_its_whole_sentences_when_enough_is_left() -> None:
    first = "The committee met on Tuesday and agreed to move the launch to May. "
    second = "Priya will own the budget and report back to the board in the second week. "
    text = first + second + "Open questions remain about the " + " ".join(["venue"] * 40)
    model = FakeBackend({"new_context": text})
    batch = samples(1)
    generate(CONTEXT, context_for(meeting_job(), model), batch)
    assert not batch[0].rejected_by
    assert batch[0].context == (first + second).strip()
    short = FakeBackend({"new_context": "Launch moves. " + "and then " * 30})
    batch = samples(1)
    generate(CONTEXT, context_for(meeting_job(), short), batch)
    assert (batch[0].rejected_by, batch[0].reason)[0] == "new_context"


def test_a_candidate_question_cut_at_the_cap_is_never_chosen() -> None:
    spec = next(b for b in load_pipeline("knowledge_extractive").blocks if b.name == "question")
    spec = replace(spec, max_tokens=6)
    endless = " " + " ".join(["is"] * 3 + [f"w{i}" for i in range(20)])
    model = FakeBackend({"question": [endless, " does evaporation need?", endless, endless]})
    batch = [Sample(0, answer="Evaporation needs warm water and dry air.")]
    generate(spec, context_for(water_job(), model), batch)
    assert batch[0].question == "How does evaporation need?"  # candidate 2 starts with "How"
    all_cut = FakeBackend({"question": endless})
    batch = [Sample(0, answer="Evaporation needs warm water and dry air.")]
    generate(spec, context_for(water_job(), all_cut), batch)
    assert batch[0].reason == "did not finish the structured question within 6 tokens"


# --------------------------------------------------------------------------- degeneration

HAIKU = "Fog swallows the pier\na gull calls from somewhere white\nboats wait for the sun"
SHOPPING = "- 2 cups of flour\n- 1 cup of sugar\n- 1 cup of milk\n- 2 eggs\n- 1 pinch of salt"
DAYS = "Monday: closed.\nTuesday: closed.\nWednesday: open 9-5.\nThursday: closed.\nFriday: closed."
JSON_TWO = (
    '[{"event": "Book fair", "date": "2024-05-04", "time": "10:00", "place": "Town Hall"},\n'
    ' {"event": "Bake sale", "date": "2024-05-11", "time": "10:00", "place": "Town Hall"}]'
)
PROSE = (
    "Thank you so much for thinking of me for the keynote. I am honoured by the invitation, "
    "but I have to decline: the conference falls in the week of our annual audit, and I cannot "
    "be away. I would be glad to suggest a colleague who knows the subject well."
)


@pytest.mark.parametrize(
    "text",
    [
        " ".join(["rain falls"] * 12),  # n = 2
        " ".join(["the rain falls"] * 10),  # n = 3
        " ".join(["and the rain falls"] * 8),  # n = 4
        " ".join(["and then the rain falls"] * 6),  # n = 5
        PROSE + " " + " ".join(["and so on"] * 4),  # a good start that gets stuck at the end
        "very " * 10 + "good",
    ],
)
def test_a_reply_that_loops_is_degenerate(text: str) -> None:
    assert degenerate(text) == "repetitive (looping) text"


def test_a_reply_that_says_the_same_sentence_twice_is_degenerate() -> None:
    text = PROSE + " I would be glad to suggest a colleague who knows the subject well."
    assert degenerate(text).startswith("says the same sentence twice ('I would be glad")
    lines_twice = "The launch moves to May.\nPriya owns the budget now.\nThe launch moves to May."
    assert degenerate(lines_twice + " Also the room is booked for Friday afternoon.") == ""
    long_line = "Priya owns the budget from next quarter onwards."
    assert degenerate(f"{long_line}\nNotes.\n{long_line}").startswith("says the same sentence")


@pytest.mark.parametrize("text", [HAIKU, SHOPPING, DAYS, JSON_TWO, PROSE, "Yes.", "rain rain rain"])
def test_legitimately_repetitive_short_lists_and_prose_pass(text: str) -> None:
    assert degenerate(text) == ""


# --------------------------------------------------------------------------- lines split on \n only


def test_an_answer_with_a_unicode_line_separator_inside_is_one_line_not_two() -> None:
    answer = "Fog swallows the pier\u2028a gull calls\nboats wait\u0085for the sun"
    assert clean_block(f"Answer: {answer}") == answer
    assert clean_line("What makes fog\u2028form?\nIt is cold air.") == "What makes fog\u2028form?"
    question, rest = split_question_answer(f"What is fog?\nAnswer: {answer}")
    assert (question, rest) == ("What is fog?", answer)


def test_a_repeated_line_is_still_cut_when_the_line_holds_a_separator() -> None:
    line = "Fog on the pier\u2028gull"
    assert clean_block(f"{line}\nboats wait\n{line}\nmore") == f"{line}\nboats wait"


def answered(question: str, answer: str) -> Sample:
    """One sample with `question`, after the answer block got `answer` from the model."""
    batch = samples(1, question)
    generate(
        replace(ANSWER, max_tokens=64),
        context_for(haiku_job(), FakeBackend({"answer": answer})),
        batch,
    )
    return batch[0]


# Replies in the model's own voice, from the 0.5B's real preview output (session notes, #19).
@pytest.mark.parametrize(
    "answer",
    [
        "Subject: Meeting time for Tuesday\n\nHi Dana,\n\nI'm sorry, but I can't assist with that.",
        "I apologize, but I don't have the ability to create new questions.",
        "You know, as an AI language model, I can only rewrite the passage you give me.",
        "I cannot help you with that.",
        # the 1.5B's, on polite_decline: "with that request." was not matched before
        "Subject: Re: [Request]\n\nI'm sorry, but I can't assist with that request.",
        "I'm sorry, I can't assist with that request.",
    ],
)
def test_an_answer_in_the_models_own_voice_is_rejected_saying_so(answer: str) -> None:
    sample = answered("Write an email to move our Monday meeting.", answer)
    assert sample.rejected_by == "answer"
    assert sample.reason.startswith("answer: speaks as the model (a refusal or 'as an AI')")


@pytest.mark.parametrize(
    "answer",
    [
        "I'm sorry, but I can't help with the move on Saturday. Good luck!",
        "Sorry, I can't make it that day.",
        "The course explains how a language model is trained.",
    ],
)
def test_declining_something_in_the_task_is_not_the_model_refusing(answer: str) -> None:
    assert not answered("Write a note declining to help a friend move.", answer).rejected_by


def test_a_refusal_the_seeds_themselves_write_is_part_of_the_task() -> None:
    from taxonbot.sdg.sample import Seed

    seeds = (Seed("A customer asks for another customer's address.", "I can't help with that."),)
    model = FakeBackend({"answer": "I can't help with that."})
    batch = samples(1, "A caller asks for a patient's records.")
    generate(replace(ANSWER, max_tokens=64), context_for(haiku_job(seeds), model), batch)
    assert not batch[0].rejected_by


def test_a_context_too_short_to_answer_from_is_rejected_saying_so() -> None:
    # the 0.5B's real "meeting transcript" on meeting_notes_bullets
    model = FakeBackend({"new_context": "None recorded."})
    batch = samples(1)
    generate(CONTEXT, context_for(meeting_job(), model), batch)
    assert (batch[0].rejected_by, batch[0].reason) == (
        "new_context",
        "context: too short to answer from (2 words; a context needs 20 or more)",
    )


def test_the_cache_key_code_covers_the_judge_gate_and_the_ranking_signals() -> None:
    from taxonbot.sdg.codehash import generation_modules

    names = {path.name for path in generation_modules()}
    assert {"judging.py", "signals.py", "replies.py", "blocks.py"} <= names


def test_a_pair_cut_inside_its_question_is_reported_as_cut_not_as_an_empty_answer() -> None:
    spec = next(b for b in load_pipeline("knowledge").blocks if b.name == "grounded_pair")
    spec = replace(spec, max_tokens=5)
    model = FakeBackend({"grounded_pair": "What is the share of water held in the oceans"})
    batch = [Sample(0, context="Oceans hold 97 percent of the water.")]
    generate(spec, context_for(water_job(), model), batch)
    assert batch[0].reason == "did not finish the structured pair within 5 tokens"
    looping = FakeBackend({"grounded_pair": "What is rain?\nAnswer: " + "rain falls " * 10})
    batch = [Sample(0, context="Oceans hold 97 percent of the water.")]
    generate(replace(spec, max_tokens=12), context_for(water_job(), looping), batch)
    assert batch[0].reason == "answer: repetitive (looping) text"


def test_a_candidate_question_keeps_a_unicode_line_separator_inside_it() -> None:
    from taxonbot.sdg.grounding import clean_question

    assert clean_question("Question: What makes\u2028fog form? It is cold.\nMore") == (
        "What makes\u2028fog form?"
    )
