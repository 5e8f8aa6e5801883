"""Judges earn their place: a labelled set from a leaf's own seeds, judges gated by their
measured separation on the running model, and pairs ranked by signals measured without one."""

from __future__ import annotations

import re

import pytest

from taxonbot.sdg.judging import MIN_JUDGE_AUC, judge_use
from taxonbot.sdg.labelled import BAD_FOR, labelled_set, roc_auc
from taxonbot.sdg.pipeline import Budget, load_pipeline, run_leaf
from taxonbot.sdg.sample import Sample, Seed
from taxonbot.sdg.signals import Profile, combined, profile, rank_kept, signals, words

from .fakes import HAIKU_SEEDS, WATER_SEEDS, context_for, fake_model, haiku_job, tags, water_job

FOUR = Budget(pairs=4)
SEEDS = (
    Seed("Write a haiku about a summer thunderstorm.", "Heat hangs on the porch, thunder rolls in"),
    Seed(
        "Write a haiku about morning fog by the sea.",
        "Fog swallows the pier and the gulls go quiet",
    ),
    Seed(
        "Compose a haiku about a windy autumn day.", "Wind empties the oak of its last red leaves"
    ),
    Seed(
        "Give me a haiku about a heat wave in the city.",
        "Tar softens, a bus sighs, nobody moves at all",
    ),
    Seed(
        "Write a haiku about the first snowfall.",
        "First snow on the steps, the street forgets its noise",
    ),
)
POLITE = (
    Seed(
        "Write a note declining my neighbours' invitation to a barbecue on Saturday.",
        "Hi Jamie, thanks so much for the invitation! We already have a family birthday on "
        "Saturday, so we will have to miss this one. Have a great time!",
    ),
    Seed(
        "Write an email declining a job offer for the analyst role; I accepted another offer.",
        "Dear Ms. Chen, thank you for offering me the analyst position. I have accepted another "
        "offer, so I must respectfully decline. I hope our paths cross again.",
    ),
    Seed(
        "Write an email declining a request to speak at a conference in October.",
        "Dear Dr. Patel, thank you for inviting me to speak. I am committed to another event "
        "that week, so I cannot take part this year.",
    ),
)
OTHER_LEAF = (Seed("Convert 68 degrees Fahrenheit to Celsius.", "68 °F is 20 °C."),)


# --------------------------------------------------------------------------- the labelled set


def test_a_labelled_set_has_the_seeds_as_good_pairs_and_each_kind_of_breakage() -> None:
    built = labelled_set(SEEDS, OTHER_LEAF)
    refs = built.references
    assert refs == SEEDS[2:]  # the last seeds are shown to the judge; no pair is made from them
    by_kind = {kind: [p for p in built.pairs if p.kind == kind] for kind in ("good", *BAD_FOR)}
    assert [(p.question, p.answer) for p in by_kind["good"]] == [
        (s.question, s.answer) for s in SEEDS[:2]
    ]
    wrong = by_kind["wrong_answer"][0]
    assert (wrong.question, wrong.answer) == (SEEDS[0].question, SEEDS[1].answer)
    assert by_kind["off_topic"][0].question == OTHER_LEAF[0].question
    cut = by_kind["truncated"][0].answer.split()
    assert 1 <= len(cut) < len(SEEDS[0].answer.split()) * 0.5
    assert all(p.question in {r.question for r in refs} for p in by_kind["copied_seed"])
    assert by_kind["unsupported"] == []  # no contexts: nothing to be unsupported by
    assert all(not p.good for kind in BAD_FOR for p in by_kind[kind])


def test_the_labelled_set_is_the_same_every_time_and_capped_per_kind() -> None:
    assert labelled_set(SEEDS, OTHER_LEAF) == labelled_set(SEEDS, OTHER_LEAF)
    capped = labelled_set(SEEDS, OTHER_LEAF, per_kind=1)
    kinds = [p.kind for p in capped.pairs]
    assert len(kinds) == len(set(kinds)) == 5  # good + four kinds of bad (no contexts)


def test_knowledge_seeds_give_unsupported_answers_under_another_excerpt() -> None:
    built = labelled_set(
        WATER_SEEDS * 1 + (Seed("What is runoff?", "Water flowing over land.", "Runoff flows."),)
    )
    unsupported = [p for p in built.pairs if p.kind == "unsupported"]
    assert unsupported and all(
        p.context != s.context for p in unsupported for s in WATER_SEEDS if s.answer == p.answer
    )
    assert all(p.tests("faithfulness") and not p.tests("question_quality") for p in unsupported)


@pytest.mark.parametrize(
    "seeds",
    [
        (SEEDS[0],) * 6,  # all identical
        (SEEDS[0], Seed(SEEDS[0].question.upper(), "Other answer entirely here")),  # one question
        (),
    ],
)
def test_seeds_too_few_or_all_alike_give_an_empty_set_with_a_reason(
    seeds: tuple[Seed, ...],
) -> None:
    built = labelled_set(seeds, OTHER_LEAF)
    assert built.pairs == ()
    assert "at least 3 seed examples with different questions and answers" in built.reason


def test_roc_auc_is_one_for_perfect_separation_half_for_none_and_none_without_both() -> None:
    assert roc_auc([3, 3, 2], [1, 1]) == 1.0
    assert roc_auc([1, 1], [1, 1]) == 0.5
    assert roc_auc([1], [3]) == 0.0
    assert roc_auc([], [1]) is None


# --------------------------------------------------------------------------- gating by separation


def test_a_judge_is_used_skipped_or_uncalibrated_by_its_measured_auc() -> None:
    auc = {"pair_rating": MIN_JUDGE_AUC, "question_quality": MIN_JUDGE_AUC - 0.01}
    assert judge_use("pair_rating", auc) == {"status": "used", "auc": MIN_JUDGE_AUC}
    assert judge_use("question_quality", auc)["status"] == "skipped"
    assert judge_use("relevancy", auc) == {"status": "uncalibrated", "auc": None}


def test_a_judge_that_cannot_separate_on_this_model_is_not_asked_and_rejects_nothing() -> None:
    model = fake_model(question_quality="0", pair_rating="1")  # both would reject everything
    ctx = context_for(haiku_job(), model)
    ctx.judge_auc = {"question_quality": 0.52, "pair_rating": 0.55}
    run = run_leaf(load_pipeline("freeform_skills"), ctx, FOUR)
    assert "question_quality" not in tags(model) and "pair_rating" not in tags(model)
    assert all(s.kept for s in run.samples)
    assert all(not s.verdicts for s in run.samples)
    assert run.judges == {
        "question_quality": {"status": "skipped", "auc": 0.52},
        "pair_rating": {"status": "skipped", "auc": 0.55},
    }


def test_a_measured_judge_is_used_and_an_unmeasured_one_runs_uncalibrated() -> None:
    model = fake_model(pair_rating="1")
    ctx = context_for(haiku_job(), model)
    ctx.judge_auc = {"question_quality": 0.9}
    run = run_leaf(load_pipeline("freeform_skills"), ctx, FOUR)
    assert run.judges == {
        "question_quality": {"status": "used", "auc": 0.9},
        "pair_rating": {"status": "uncalibrated", "auc": None},
    }
    assert {s.rejected_by for s in run.samples} == {"pair_rating"}  # unmeasured: still counts


def test_with_no_measurements_every_judge_runs_as_before() -> None:
    run = run_leaf(load_pipeline("knowledge"), context_for(water_job(), fake_model()), FOUR)
    assert {v["status"] for v in run.judges.values()} == {"uncalibrated"}
    assert set(run.judges) == {"faithfulness", "relevancy", "question_quality"}
    assert all(s.kept for s in run.samples)


# --------------------------------------------------------------------------- signals and rank


def test_novelty_is_one_minus_the_closest_seed_and_a_copy_scores_zero() -> None:
    seeds = profile("", HAIKU_SEEDS)
    copy = Sample(0, HAIKU_SEEDS[0].question, "An answer.")
    fresh = Sample(1, "Describe a quiet library at closing time.", "An answer.")
    assert signals(copy, seeds, [])["novelty"] == 0.0
    assert signals(fresh, seeds, [])["novelty"] > 0.8
    assert "grounding" not in signals(fresh, seeds, [])  # no context, nothing to ground in


NO_SEEDS = Profile((), (), {}, 0.0)


def test_the_task_description_counts_as_a_seed_for_novelty() -> None:
    task = "Writing a haiku about the weather, with its syllable count"
    echo = Sample(0, "Write a haiku about the weather, with its syllable count.", "An answer.")
    assert signals(echo, profile(task, HAIKU_SEEDS), [])["novelty"] < 0.3
    assert signals(echo, profile("", HAIKU_SEEDS), [])["novelty"] > 0.3


def test_on_task_is_high_for_the_seeds_task_and_near_zero_for_another() -> None:
    # From the 0.5B's real output on polite_decline (benchmarks/data/labelled_pairs.json).
    seeds = profile("Declining a request, invitation or offer politely", POLITE)
    on = Sample(0, "Write an email declining an invitation to a book club on Friday.", "x")
    off = Sample(1, "Write a letter to the CEO of a startup about the launch of a product.", "x")
    assert signals(on, seeds, [])["on_task"] == 1.0
    assert signals(off, seeds, [])["on_task"] < 0.2
    # seeds that share no words give no task words: no on_task signal rather than a zero
    assert "on_task" not in signals(off, profile("", OTHER_LEAF), [])


def test_fresh_answer_is_low_for_a_seed_answer_with_a_word_changed() -> None:
    seeds = profile("", POLITE)
    copied = POLITE[0].answer.replace("Saturday", "Sunday")
    assert signals(Sample(0, "Decline a lunch.", copied), seeds, [])["fresh_answer"] < 0.2
    own = "Thanks so much for thinking of me! I'm away that week, but let's plan another."
    assert signals(Sample(1, "Decline a lunch.", own), seeds, [])["fresh_answer"] > 0.7


def test_off_task_pairs_rank_below_on_task_ones_however_novel() -> None:
    seeds = profile("Declining a request, invitation or offer politely", POLITE)
    off = Sample(0, "Write a letter to the CEO of a startup about the launch of a product.", "x")
    on = Sample(1, "Write an email declining an invitation to a book club on Friday.", "x")
    off_values, on_values = signals(off, seeds, []), signals(on, seeds, [])
    assert off_values["novelty"] > on_values["novelty"]  # novelty alone ranks it first
    assert combined(off_values) < combined(on_values)


def test_diversity_falls_when_a_question_repeats_an_earlier_kept_one() -> None:
    earlier = [words("Write a haiku about hail on a tin roof.")]
    near = Sample(2, "Write a haiku about hail on a metal roof.", "x")
    far = Sample(3, "Describe the smell of rain on dust.", "x")
    assert (
        signals(near, NO_SEEDS, earlier)["diversity"] < signals(far, NO_SEEDS, earlier)["diversity"]
    )
    assert signals(far, NO_SEEDS, [])["diversity"] == 1.0


def test_grounding_is_the_share_of_answer_words_found_in_the_context() -> None:
    context = "Evaporation turns liquid water into vapor when the air is warm and dry."
    supported = Sample(0, "What does evaporation do?", "It turns liquid water into vapor.", context)
    invented = Sample(
        1, "What does evaporation do?", "Volcanic magma erupts from mountains.", context
    )
    assert signals(supported, NO_SEEDS, [])["grounding"] == 1.0
    assert signals(invented, NO_SEEDS, [])["grounding"] == 0.0


def test_kept_pairs_are_ranked_by_their_combined_signals_and_the_rest_are_not() -> None:
    a, b, c, d = (Sample(n, finished=True) for n in range(4))
    a.score, b.score, c.score, d.score = 0.5, 0.9, 0.5, 1.0
    d.reject("dedupe", "duplicate")
    rank_kept([a, b, c, d])
    assert [s.rank for s in (a, b, c, d)] == [2, 1, 3, None]
    assert combined({"novelty": 1.0, "diversity": 0.5}) == 0.75 and combined({}) == 0.0
    assert combined({"novelty": 1.0, "diversity": 0.5, "on_task": 0.5}) == 0.55


def test_a_run_records_signals_and_ranks_on_every_pair() -> None:
    run = run_leaf(load_pipeline("knowledge"), context_for(water_job(), fake_model()), FOUR)
    records = [s.record() for s in run.samples]
    assert sorted(r["rank"] for r in records) == [1, 2, 3, 4]
    for record in records:
        # these seeds share no task words, so on_task is absent, not zero
        assert set(record["signals"]) == {"novelty", "diversity", "grounding", "fresh_answer"}
        assert all(0.0 <= v <= 1.0 for v in record["signals"].values())
    first = min(run.samples, key=lambda s: s.rank or 99)
    assert first.score == max(s.score for s in run.samples)


@pytest.mark.parametrize("data", ["labelled_pairs.json", "labelled_pairs_heldout.json"])
def test_the_labelled_real_pairs_still_load_and_rank_better_than_the_old_score(
    data: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # benchmarks/rank_quality.py over the labelled sets in benchmarks/data (the one the ranking
    # was chosen on, and one held out): it keeps working as the taxonomy's leaves change, and
    # the ranking does not fall back below the old score.
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "rank_quality.py"
    spec = importlib.util.spec_from_file_location("rank_quality", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--data", str(script.parent / "data" / data)]) == 0
    summary = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("mean AUC"))
    found = re.search(r"before (\d\.\d+), now (\d\.\d+);", summary)
    assert found, summary
    before, now = float(found[1]), float(found[2])
    assert now > before and now > 0.5, summary
