"""ROUGE-L on textbook examples: a reviewer can check every number by hand."""

from __future__ import annotations

import pytest

from taxonbot.gaps.rouge import MAX_TOKENS, lcs_length, rouge_l, tokens


def test_lins_example_in_order_words_score_higher_than_the_same_words_reordered() -> None:
    # Lin (2004), section 3.1: both candidates share 3 words with the reference, but only the
    # first keeps them in order ("police ... the gunman").
    reference = "police killed the gunman"
    assert rouge_l("police kill the gunman", reference) == pytest.approx(0.75)
    assert rouge_l("the gunman kill police", reference) == pytest.approx(0.5)


def test_f_measure_weighs_precision_and_recall_equally() -> None:
    # LCS 2: precision 2/2, recall 2/6, F1 = 2 * 1 * (1/3) / (1 + 1/3) = 0.5
    assert rouge_l("the cat", "the cat sat on the mat") == pytest.approx(0.5)
    assert rouge_l("the cat sat on the mat", "the cat") == pytest.approx(0.5)


def test_classic_lcs() -> None:
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    assert lcs_length([], list("ABC")) == 0


def test_identical_disjoint_and_empty_texts() -> None:
    assert rouge_l("Write a haiku about rain.", "write a haiku about rain") == 1.0
    assert rouge_l("apples and pears", "quantum chromodynamics") == 0.0
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("?!", "...") == 0.0


def test_case_and_punctuation_do_not_count() -> None:
    assert rouge_l("The Dew-Point, explained!", "the dew point explained") == 1.0


def test_letters_outside_ascii_are_words() -> None:
    assert tokens("Café crème, naïve") == ["café", "crème", "naïve"]
    assert rouge_l("东京 是 首都", "东京 是 首都") == 1.0


def test_a_rambling_answer_is_cut_at_the_token_cap() -> None:
    # 200,000 words each side would be 4 * 10^10 steps; the cap keeps it at 512 * 512.
    long = "word " * 200_000
    assert len(tokens(long)) == MAX_TOKENS
    assert rouge_l(long, long) == 1.0
