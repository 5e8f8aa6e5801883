"""Each block type on its own, over a scripted model: what it asks, what it fills in, and how it
turns every odd reply into a rejection with a reason rather than a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from taxonbot.check.rules.questions import similar
from taxonbot.runtime.base import BackendError, ChatRequest
from taxonbot.sdg.blocks import BlockSpec, copy_reason, dedupe, generate, judge, unusable
from taxonbot.sdg.sample import Asked, LeafJob, Sample, Seed, asked
from tests.doubles.fake_backend import FakeBackend

from .fakes import HAIKU_SEEDS, context_for, haiku_job, number, question, water_job

QUESTION = BlockSpec("new_question", "generate", "freeform_question.j2", "question", max_tokens=64)
ANSWER = BlockSpec("answer", "generate", "answer.j2", "answer", max_tokens=192)
CONTEXT = BlockSpec("new_context", "generate", "grounded_context.j2", "context", max_tokens=160)
PAIR = BlockSpec("grounded_pair", "generate", "knowledge_qa.j2", "question_answer", max_tokens=192)
QUALITY = BlockSpec(
    "question_quality", "judge", "question_quality.j2", scale="binary", keep_at_least=1
)
RATING = BlockSpec("pair_rating", "judge", "pair_rating.j2", scale="one_to_three", keep_at_least=2)
FAITHFUL = BlockSpec("faithfulness", "judge", "faithfulness.j2", scale="yes_no", keep_at_least=1)
DEDUPE = BlockSpec("dedupe", "dedupe", similarity=0.85)
LOOPING = "the rain falls and " * 20


def samples(count: int, question: str = "", answer: str = "") -> list[Sample]:
    return [Sample(n, question, answer) for n in range(count)]


def broken(request: ChatRequest) -> str:
    raise BackendError("HTTP 500 from the server")


# --------------------------------------------------------------------------- generate


def test_a_question_block_asks_once_per_sample_with_the_seeds_in_the_prompt() -> None:
    model = FakeBackend({"new_question": lambda r: f"Question: {question(number(r))}"})
    batch = samples(3)
    generate(QUESTION, context_for(haiku_job(), model), batch)
    assert [s.question for s in batch] == [question(0), question(1), question(2)]
    assert not any(s.rejected_by for s in batch)
    first = model.requests[0]
    (system_role, _), (user_role, prompt) = first.messages
    assert (system_role, user_role, first.tag) == ("system", "user", "new_question")
    assert "Write a haiku about the weather the user names." in prompt
    assert all(seed.question in prompt for seed in HAIKU_SEEDS)
    assert "New question #1:" in prompt
    assert len({r.seed for r in model.requests}) == 3  # each sample samples differently


def test_a_block_never_asks_for_more_tokens_than_the_budget_allows() -> None:
    model = FakeBackend({"answer": "Fog on the water", "new_question": "What is fog?"})
    generate(ANSWER, context_for(haiku_job(), model, max_new_tokens=40), samples(2, question="q?"))
    assert [r.max_tokens for r in model.requests] == [40, 40]
    generate(QUESTION, context_for(haiku_job(), model, max_new_tokens=256), samples(1))
    assert model.requests[-1].max_tokens == 64  # the block's own cap is lower still


def test_an_answer_block_fills_the_answer_without_its_label() -> None:
    model = FakeBackend({"answer": "Answer: Fog on the water\ngulls cry in the white"})
    batch = samples(1, question="Write a haiku about fog.")
    generate(ANSWER, context_for(haiku_job(), model), batch)
    assert batch[0].answer == "Fog on the water\ngulls cry in the white"
    assert "Question: Write a haiku about fog.\nAnswer:" in model.requests[0].messages[-1][1]


def test_a_context_block_fills_the_context() -> None:
    model = FakeBackend({"new_context": "Text: The bake sale moves to Friday."})
    batch = samples(1)
    generate(CONTEXT, context_for(haiku_job(), model), batch)
    assert batch[0].context == "The bake sale moves to Friday."


def test_a_knowledge_pair_block_splits_question_and_answer_from_one_reply() -> None:
    model = FakeBackend({"grounded_pair": "What is evaporation?\nAnswer: Water turning to vapor."})
    batch = [Sample(0, context=water_job().chunks[0])]
    generate(PAIR, context_for(water_job(), model), batch)
    assert (batch[0].question, batch[0].answer) == (
        "What is evaporation?",
        "Water turning to vapor.",
    )
    assert water_job().chunks[0] in model.requests[0].messages[-1][1]


@pytest.mark.parametrize(
    ("spec", "reply", "reason"),
    [
        (QUESTION, "", "question: empty reply"),
        (QUESTION, "   \n\n", "question: empty reply"),
        (QUESTION, "Question:", "question: empty reply"),
        (ANSWER, LOOPING, "answer: repetitive (looping) text"),
        (CONTEXT, "", "context: empty reply"),
        (PAIR, "", "question: empty reply"),
        (PAIR, "What is evaporation?", "answer: empty reply"),
        (PAIR, f"What is evaporation?\nAnswer: {LOOPING}", "answer: repetitive (looping) text"),
    ],
)
def test_an_empty_or_looping_generation_is_rejected_by_that_block_with_a_reason(
    spec: BlockSpec, reply: str, reason: str
) -> None:
    model = FakeBackend({spec.name: reply})
    batch = samples(2, question="Write a haiku about fog.")
    generate(spec, context_for(haiku_job(), model), batch)
    assert [(s.rejected_by, s.reason) for s in batch] == [(spec.name, reason)] * 2


def test_a_failed_request_is_a_rejection_that_quotes_the_backend_error() -> None:
    model = FakeBackend({"new_question": broken})
    batch = samples(2)
    generate(QUESTION, context_for(haiku_job(), model), batch)
    assert {(s.rejected_by, s.reason) for s in batch} == {
        ("new_question", "the model request failed: HTTP 500 from the server")
    }
    assert model.stats.failures == 2


def test_a_model_that_never_stops_is_cut_at_the_token_cap() -> None:
    endless = " ".join(f"drop{i}" for i in range(100_000))
    model = FakeBackend({"answer": endless})
    batch = samples(1, question="Write a haiku about rain.")
    generate(ANSWER, context_for(haiku_job(), model, max_new_tokens=32), batch)
    assert len(batch[0].answer.split()) == 32
    assert model.requests[0].max_tokens == 32
    assert model.stats.completion_tokens == 32


def test_one_failed_request_does_not_sink_its_neighbours() -> None:
    model = FakeBackend(
        {"answer": lambda r: broken(r) if number(r) == 1 else "Grey sky\nwet stones\nwarm tea"}
    )
    batch = samples(3, question="Write a haiku about drizzle.")
    generate(ANSWER, context_for(haiku_job(), model), batch)
    assert [s.rejected_by for s in batch] == ["", "answer", ""]
    assert batch[0].answer == batch[2].answer == "Grey sky\nwet stones\nwarm tea"


# --------------------------------------------------------------------------- judge


@pytest.mark.parametrize(
    ("spec", "reply", "score", "rejected", "reason"),
    [
        (QUALITY, "1", 1, "", ""),
        (QUALITY, "The answer is 1.", 1, "", ""),
        (QUALITY, "yes", 1, "", ""),
        (QUALITY, "0", 0, "question_quality", "scored 0; needs at least 1"),
        (RATING, "3", 3, "", ""),
        (RATING, "2", 2, "", ""),
        (RATING, "1", 1, "pair_rating", "scored 1; needs at least 2"),
        (FAITHFUL, "Supported: yes", 1, "", ""),
        (FAITHFUL, "no", 0, "faithfulness", "scored 0; needs at least 1"),
    ],
)
def test_a_judge_keeps_what_scores_at_or_above_its_bar(
    spec: BlockSpec, reply: str, score: int, rejected: str, reason: str
) -> None:
    model = FakeBackend({spec.name: reply})
    batch = samples(1, question="Write a haiku about fog.", answer="Fog on the pier")
    judge(spec, context_for(haiku_job(), model), batch)
    verdict = batch[0].verdicts[spec.name]
    assert (verdict.score, verdict.passed, verdict.raw) == (score, not rejected, reply)
    assert (batch[0].rejected_by, batch[0].reason) == (rejected, reason)


@pytest.mark.parametrize("reply", ["", "I think it is a lovely poem!", "5", LOOPING])
def test_an_unparsable_judgement_is_recorded_as_a_rejection_not_a_crash(reply: str) -> None:
    model = FakeBackend({"pair_rating": reply})
    batch = samples(1, question="Write a haiku about fog.", answer="Fog on the pier")
    judge(RATING, context_for(haiku_job(), model), batch)
    verdict = batch[0].verdicts["pair_rating"]
    assert (verdict.score, verdict.passed) == (None, False)
    assert batch[0].rejected_by == "pair_rating"
    assert batch[0].reason.startswith("unparsable judgement: ")
    assert len(batch[0].reason) < 120 and len(verdict.raw) <= 200  # quoted, but briefly


def test_a_failed_judge_request_is_a_rejection_with_no_score() -> None:
    model = FakeBackend({"question_quality": broken})
    batch = samples(1, question="Write a haiku about fog.")
    judge(QUALITY, context_for(haiku_job(), model), batch)
    verdict = batch[0].verdicts["question_quality"]
    assert (verdict.score, verdict.passed, verdict.raw) == (None, False, "")
    assert batch[0].reason == "the model request failed: HTTP 500 from the server"


def test_only_the_first_rejection_is_remembered() -> None:
    sample = Sample(0)
    sample.reject("question_quality", "scored 0; needs at least 1")
    sample.reject("pair_rating", "scored 1; needs at least 2")
    assert (sample.rejected_by, sample.reason) == (
        "question_quality",
        "scored 0; needs at least 1",
    )


# --------------------------------------------------------------------------- dedupe


def deduped(batch: list[Sample], seeds: tuple[Seed, ...] = HAIKU_SEEDS) -> list[str]:
    model = FakeBackend({})
    dedupe(DEDUPE, context_for(haiku_job(seeds), model), batch)
    assert not model.requests  # dedupe never asks the model
    return [s.reason for s in batch]


def test_an_answer_that_only_repeats_the_question_is_dropped() -> None:
    batch = [Sample(0, question="Write a haiku about hail.", answer="write a haiku about HAIL")]
    assert deduped(batch) == ["the answer repeats the question"]


@pytest.mark.parametrize(
    "copy",
    [
        "Write a haiku about a summer thunderstorm.",
        "write a haiku about a SUMMER thunderstorm!!",
        "A haiku about a summer thunderstorm: write it.",  # same words, new order
    ],
)
def test_a_copy_of_a_seed_question_is_not_a_new_question(copy: str) -> None:
    batch = [Sample(0, question=copy, answer="Thunder over fields")]
    assert deduped(batch) == ["copies a seed example's question"]


def test_a_question_that_copies_the_task_description_is_dropped() -> None:
    # real 0.5B output on polite_decline: its task description, word for word, as a question
    batch = [
        Sample(0, question="Write a haiku about the weather the user names!", answer="Hail"),
        Sample(1, question="Write a haiku about the weather in Lisbon.", answer="Sun"),
    ]
    assert deduped(batch) == [
        "copies the leaf's task description instead of asking a question",
        "",
    ]


def test_a_one_or_two_word_question_is_unusable_where_every_seed_asks_at_length() -> None:
    job = haiku_job()  # its seed questions have seven words or more
    sample = Sample(0, question="None recorded.", answer="a")
    assert unusable(job, sample, "question").startswith("too short to be a request")
    sample.question = "Write a haiku about hail."
    assert unusable(job, sample, "question") == ""
    short_seeds = haiku_job((Seed("Hail?", "Ice falls"), *HAIKU_SEEDS[1:]))
    assert unusable(short_seeds, Sample(0, question="Fog?", answer="a"), "question") == ""


def test_a_question_that_is_its_context_copied_is_dropped() -> None:
    flyer = (
        "The Friends of the Library will hold their spring book sale in the community room on "
        "April 26 and 27. Hardcovers, paperbacks, children's books and DVDs will all be "
        "available, and proceeds go toward the summer reading program."
    )
    copied = Sample(0, question=flyer.replace(" and 27", ", 27"), answer="a", context=flyer)
    asked = Sample(1, question="When is the spring book sale, and where?", answer="b")
    asked.context = flyer
    assert deduped([copied, asked]) == [
        "the question repeats the context instead of asking about it",
        "",
    ]


def test_a_copy_of_a_seed_answer_is_dropped_even_under_a_new_question() -> None:
    batch = [
        Sample(0, question="Write a haiku about a muggy porch.", answer="Heat hangs on the porch")
    ]
    assert deduped(batch) == ["copies a seed example's answer"]


def test_near_duplicate_generated_questions_keep_only_the_first() -> None:
    batch = [
        Sample(0, question="Write a haiku about hail on a tin roof.", answer="a"),
        Sample(1, question="Write a haiku about hail on a tin roof, please.", answer="b"),
        Sample(2, question="A haiku about hail on a tin roof: write it.", answer="c"),
        Sample(3, question="Write a haiku about fog in a harbour.", answer="d"),
    ]
    assert deduped(batch) == [
        "",
        "duplicates generated question #1",  # 8 of 9 words shared: at or above 0.85
        "duplicates generated question #1",  # the same words in another order
        "",
    ]


def test_questions_kept_in_earlier_rounds_count_as_duplicates_too() -> None:
    ctx = context_for(haiku_job(), FakeBackend({}))
    dedupe(DEDUPE, ctx, [Sample(4, question="Write a haiku about frost on a bicycle.", answer="a")])
    later = [Sample(9, question="write a haiku about frost on a BICYCLE", answer="b")]
    dedupe(DEDUPE, ctx, later)
    assert later[0].reason == "duplicates generated question #5"
    assert [a.number for a in ctx.kept_questions] == [4]


def test_short_questions_that_differ_in_one_word_are_different_questions() -> None:
    batch = [
        Sample(0, question="What is hail?", answer="a"),
        Sample(1, question="What is sleet?", answer="b"),
    ]
    assert deduped(batch) == ["", ""]


INCLUSIVE = "How would you revise this sentence to use inclusive IT terminology?"
RELEASE_NOTE = (
    "Before the release, add the build host to the whitelist, restart the master node and "
    "confirm that every slave replica has caught up with the latest schema change."
)


def inclusive_job() -> LeafJob:
    """A grounded skill that asks one instruction of many texts, as 23 upstream leaves do."""
    return LeafJob(
        "compositional_skills/grounded/linguistics/inclusion",
        "qna.yaml",
        "grounded_skills",
        "Rewrite IT sentences with inclusive terms.",
        (
            Seed(INCLUSIVE, "Add the host to the allowlist.", "Add the host to the whitelist."),
            Seed(INCLUSIVE, "Restart the primary.", "Restart the master."),
            Seed(INCLUSIVE, "(rewritten)", RELEASE_NOTE),
        ),
    )


def test_a_grounded_question_asked_of_a_new_text_is_new_and_of_the_same_text_a_copy() -> None:
    batch = [
        Sample(0, question=INCLUSIVE, answer="a", context="Block the IP on the blacklist."),
        Sample(1, question=INCLUSIVE, answer="b", context="Add the host to the whitelist."),
        Sample(2, question=INCLUSIVE, answer="c", context=RELEASE_NOTE.replace("Before", "After")),
        Sample(3, question=INCLUSIVE, answer="d", context="block the IP on the BLACKLIST"),
        Sample(4, question=INCLUSIVE, answer="e", context="Promote the slave to master."),
    ]
    model = FakeBackend({})
    dedupe(DEDUPE, context_for(inclusive_job(), model), batch)
    assert [s.reason for s in batch] == [
        "",
        "copies a seed example's question",  # the seed's own text
        "copies a seed example's question",  # a long seed text with one word changed
        "duplicates generated question #1",  # the text of pair 1 again
        "",
    ]


def test_a_short_text_counts_as_the_same_only_verbatim() -> None:
    """Word sets cannot tell "1, 2, 3" from "3, 2, 1, 1": a short text must match exactly."""
    job = inclusive_job()
    seeds = (Seed("Is any element of this list repeated?", "No.", "1, 2, 3, 4, 5"),)
    job = LeafJob(job.leaf, job.path, job.kind, job.task_description, seeds)
    batch = [Sample(0, question=seeds[0].question, answer="Yes.", context="5, 4, 3, 2, 1, 1")]
    dedupe(DEDUPE, context_for(job, FakeBackend({})), batch)
    assert batch[0].reason == ""


def test_a_knowledge_question_repeats_a_seed_whatever_its_excerpt() -> None:
    job = water_job()
    seed = job.seeds[0]
    batch = [Sample(0, question=seed.question, answer="97 percent", context="Seas cover it.")]
    dedupe(DEDUPE, context_for(job, FakeBackend({})), batch)
    assert batch[0].reason == "copies a seed example's question"


def test_upstream_grounded_seeds_copy_one_another_only_beside_the_same_text(
    shared_dir: Path,
) -> None:
    """Each upstream grounded seed taken as a generated pair against its file's other seeds is
    a copy exactly when another seed asks the same or a near question of the same text (what
    the checker calls a duplicate), never for asking it of another text."""
    root = shared_dir / "corpus" / "upstream-taxonomy" / "compositional_skills"
    pairs = copies = repeated_elsewhere = 0
    for path in sorted(root.rglob("qna.yaml")):
        try:
            body = yaml.safe_load(path.read_text("utf-8"))
        except yaml.YAMLError:
            continue
        raw = body.get("seed_examples") if isinstance(body, dict) else None
        seeds = [
            Seed(str(s["question"]), str(s.get("answer") or ""), str(s.get("context") or ""))
            for s in raw or []
            if isinstance(s, dict) and isinstance(s.get("question"), str)
        ]
        if not any(s.context for s in seeds):
            continue
        for i, seed in enumerate(seeds):
            others = seeds[:i] + seeds[i + 1 :]
            sample = Sample(0, question=seed.question, answer=seed.answer, context=seed.context)
            reason = copy_reason(
                sample, [asked(o.question, -1, o.context) for o in others], [], 0.85,
                by_context=True,
            )  # fmt: skip
            mine = asked(seed.question, 0)
            near = [o for o in others if _near(mine, asked(o.question, 0))]
            beside_same = any(o.context == seed.context for o in near)
            assert (reason == "copies a seed example's question") == beside_same, path
            pairs += 1
            copies += beside_same
            repeated_elsewhere += bool(near) and not beside_same
    assert pairs > 700 and repeated_elsewhere > 100  # the corpus has both kinds
    assert copies < pairs


def _near(a: Asked, b: Asked) -> bool:
    return a.norm == b.norm or similar(a.words, b.words, 0.85)
