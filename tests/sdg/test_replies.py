"""Reading what a small model says: scores, questions, question/answer pairs. Nothing here may
raise on odd text; what cannot be read comes back as None or empty."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taxonbot.sdg.replies import (
    SCALES,
    clean_block,
    clean_context,
    clean_line,
    degenerate,
    parse_score,
    split_question_answer,
)

LOOPING = "the rain falls and " * 20


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("1", 1),
        ("0", 0),
        ("Score: 1", 1),
        ("The answer is 1.", 1),  # a sentence-ending full stop is not a decimal point
        ("1\n\nThe question is clear and answerable.", 1),
        ("yes", 1),  # small models answer a 0/1 question in words
        ("Yes, it is clear.", 1),
        ("No. It is vague.", 0),
        ("2", None),  # out of range: the judge did not follow the scale
        ("10/10", None),
        ("1.5", None),  # no score at all, not 1
        ("It depends on the reader.", None),
        ("", None),
    ],
)
def test_a_binary_judge(reply: str, expected: int | None) -> None:
    assert parse_score(reply, "binary") == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("yes", 1),
        ("Yes.", 1),
        ("Supported: yes", 1),
        ("no", 0),
        ("The answer is no.", 0),
        ("NO", 0),
        ("yesterday it rained", None),  # a word boundary, not a substring
        ("1", None),  # a yes/no judge must say yes or no
        ("Maybe, partly.", None),
        ("", None),
    ],
)
def test_a_yes_no_judge(reply: str, expected: int | None) -> None:
    assert parse_score(reply, "yes_no") == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("3", 3),
        ("2", 2),
        ("The answer is 1.", 1),
        ("Rating: 2 - acceptable", 2),
        ("0", None),  # below the scale
        ("4", None),  # above the scale
        ("5 stars, and then 2", None),  # the first number decides
        ("three", None),  # numbers in words are not read
        ("yes", None),  # only the binary scale reads words
        ("", None),
    ],
)
def test_a_one_to_three_judge(reply: str, expected: int | None) -> None:
    assert parse_score(reply, "one_to_three") == expected


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("0", 0), ("1", 1), ("2", 2), ("Score: 2.", 2), ("3", None), ("-", None), ("no", None)],
)
def test_a_zero_to_two_judge(reply: str, expected: int | None) -> None:
    assert parse_score(reply, "zero_to_two") == expected


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_a_judge_that_rambles_before_its_score_is_unparsable_on_every_scale(scale: str) -> None:
    """Only the start of a reply is read: a score buried after a page of text is not trusted."""
    assert parse_score("Well, " + "let me think about it " * 20 + "1 yes", scale) is None


@pytest.mark.parametrize("scale", sorted(SCALES))
def test_a_looping_judge_never_crashes(scale: str) -> None:
    assert parse_score(LOOPING * 50, scale) is None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("What makes fog form?", "What makes fog form?"),
        ("Question: What makes fog form?", "What makes fog form?"),
        ("New question #3: What makes fog form?", "What makes fog form?"),
        ("Q1. What makes fog form?", "What makes fog form?"),
        ("1. What makes fog form?", "What makes fog form?"),
        ("- What makes fog form?", "What makes fog form?"),
        ('"What makes fog form?"', "What makes fog form?"),
        ("Question:\n\nWhat makes fog form?\nAnd another line", "What makes fog form?"),
        ("  What makes fog form?  \nIt is cold air.", "What makes fog form?"),
        ("", ""),
        ("   \n\n  ", ""),
    ],
)
def test_a_generated_question_is_its_first_real_line_without_labels(
    reply: str, expected: str
) -> None:
    assert clean_line(reply) == expected


def test_a_generated_answer_keeps_its_lines_but_not_its_label() -> None:
    assert clean_block("Answer: Fog swallows the pier\na gull calls\n") == (
        "Fog swallows the pier\na gull calls"
    )
    assert clean_block("") == ""


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (
            "What is dew?\nAnswer: Water that condenses on grass.",
            ("What is dew?", "Water that condenses on grass."),
        ),
        ("What is dew?\n  answer:  Water on grass.", ("What is dew?", "Water on grass.")),
        ("What is dew?\nA: Water on grass.", ("What is dew?", "Water on grass.")),
        ("Question: What is dew?\nAnswer: Water on grass.", ("What is dew?", "Water on grass.")),
        ("What is dew?\nAnswer: line one\nline two", ("What is dew?", "line one\nline two")),
    ],
)
def test_a_question_answer_pair_with_an_answer_label(reply: str, expected: tuple[str, str]) -> None:
    assert split_question_answer(reply) == expected


def test_without_an_answer_label_the_lines_after_the_question_are_the_answer() -> None:
    reply = "What is dew?\nWater that condenses on cool grass overnight."
    assert split_question_answer(reply) == (
        "What is dew?",
        "Water that condenses on cool grass overnight.",
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("", ("", "")),
        ("   ", ("", "")),
        ("What is dew?", ("What is dew?", "")),
        ("Answer:", ("", "")),
    ],
)
def test_a_pair_reply_with_missing_parts_gives_empty_fields_not_an_error(
    reply: str, expected: tuple[str, str]
) -> None:
    assert split_question_answer(reply) == expected


def test_a_looping_pair_reply_is_split_and_left_to_the_degenerate_check() -> None:
    question, answer = split_question_answer(f"What is rain?\nAnswer: {LOOPING}")
    assert question == "What is rain?"
    assert degenerate(answer) == "repetitive (looping) text"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty reply"),
        ("  \n\t ", "empty reply"),
        (LOOPING, "repetitive (looping) text"),
        ("rain " * 30, "repetitive (looping) text"),
        ("rain rain rain", ""),  # too short to call a loop
        ("Fog swallows the pier\na gull calls from somewhere white\nboats wait for the sun", ""),
    ],
)
def test_unusable_generations_are_named(text: str, problem: str) -> None:
    assert degenerate(text) == problem


# What the Qwen2.5-Coder models wrote as the first line of a new grounded text (previews of
# upstream's evidence leaf): an announcement of the text, echoing the prompt.
PREAMBLES = [
    "Certainly. Here's a new short text about a different subject:",
    "Certainly! Here's one new short text of the same kind, on a different subject:",
    "The following is a new short text of the same kind, on a different subject:",
    "Here's a new short text of the same kind, on a different subject:",
    "**Here is another text of the same kind:**",
]


@pytest.mark.parametrize("preamble", PREAMBLES)
def test_a_context_loses_a_first_line_that_only_announces_it(preamble: str) -> None:
    text = "The bake sale is on Friday at 3 pm in the school hall.\nBring a tray."
    assert clean_context(f"{preamble}\n\n{text}") == text
    assert clean_context(preamble) == ""  # nothing else: too short, rejected by the block


@pytest.mark.parametrize(
    "text",
    [
        "The following configuration options are available for Keystone integration:\n- a\n- b",
        "Agenda:\n1. Budget\n2. A new text for the handbook: who writes it?",
        "Minutes of the meeting. We discussed a different subject: parking.",
    ],
)
def test_a_context_that_opens_with_a_label_or_mentions_a_new_text_later_is_kept(text: str) -> None:
    assert clean_context(text) == clean_block(text) == text


def test_no_upstream_seed_context_reads_as_an_announcement(shared_dir: Path) -> None:
    root = shared_dir / "corpus" / "upstream-taxonomy"
    contexts = 0
    for path in sorted(root.rglob("qna.yaml")):
        try:
            body = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError:
            continue
        for seed in (body.get("seed_examples") or []) if isinstance(body, dict) else []:
            context = seed.get("context") if isinstance(seed, dict) else None
            if isinstance(context, str) and context.strip():
                contexts += 1
                assert clean_context(context) == clean_block(context), path
    assert contexts > 1000
