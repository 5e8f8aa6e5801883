"""Self-replay: the start model's own answers to general prompts, asked once and cached."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from taxonbot.gaps.novelty import SYSTEM as NOVELTY_SYSTEM
from taxonbot.modelbuild.regression import RegressionSetError, load_regression
from taxonbot.modelbuild.selfreplay import (
    MAX_TOKENS,
    Prompts,
    load_prompts,
    self_replay,
    whole_sentences,
)
from taxonbot.runtime import BackendError, ChatRequest
from tests.doubles.fake_backend import FakeBackend


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_the_shipped_prompts_load_and_share_no_question_with_the_regression_set() -> None:
    prompts = load_prompts()
    assert len(prompts.items) >= 40
    assert len({item["id"] for item in prompts.items}) == len(prompts.items)
    regression = [words(item.question) for item in load_regression().items]
    for item in prompts.items:
        mine = words(item["question"])
        closest = max(len(mine & theirs) / len(mine | theirs) for theirs in regression)
        assert closest < 0.8, f"{item['id']} is nearly a regression question"


def prompts(*questions: str) -> Prompts:
    items = tuple({"id": f"p{i}", "category": "c", "question": q} for i, q in enumerate(questions))
    return Prompts("prompts.yaml", "1", "abc", items)


def test_each_prompt_is_asked_greedily_as_a_user_and_as_the_bot_asks(tmp_path: Path) -> None:
    def reply(request: ChatRequest) -> str:
        way = "bot" if request.messages[0][0] == "system" else "user"
        return f"Answer to {request.messages[-1][1]} for the {way}."

    model = FakeBackend({"self_replay": reply})
    samples, record = self_replay(model, "m1", prompts("Q one?", "Q two?"), tmp_path, 3)
    assert len(samples) == 4 and {s["form"] for s in samples} == {"self_replay"}
    as_user = [s["messages"] for s in samples if s["messages"][0]["role"] == "user"]
    as_bot = [s["messages"] for s in samples if s["messages"][0]["role"] == "system"]
    assert as_user[0] == [
        {"role": "user", "content": "Q one?"},
        {"role": "assistant", "content": "Answer to Q one? for the user."},
    ]
    assert as_bot[1] == [
        {"role": "system", "content": NOVELTY_SYSTEM},  # the prompt the bot's checks send
        {"role": "user", "content": "Q two?"},
        {"role": "assistant", "content": "Answer to Q two? for the bot."},
    ]
    asked = {r.messages for r in model.requests}
    assert (("user", "Q one?"),) in asked  # no system turn of ours
    assert (("system", NOVELTY_SYSTEM), ("user", "Q one?")) in asked
    for request in model.requests:
        assert (request.temperature, request.seed, request.max_tokens) == (0.0, 3, MAX_TOKENS)
    assert record["answered"] == 4 and record["dropped"] == [] and not record["cached"]


def test_a_cut_off_answer_keeps_its_whole_sentences_and_one_without_any_is_dropped(
    tmp_path: Path,
) -> None:
    on = " and on" * MAX_TOKENS  # the fake counts words as tokens and stops at max_tokens

    def reply(request: ChatRequest) -> str:
        if "long" in request.messages[-1][1]:
            return "It is warm. Then it rains all day. Then the wind" + on
        return "The list goes 1. 2" + on

    model = FakeBackend({"self_replay": reply})
    samples, record = self_replay(model, "m", prompts("long?", "short?"), tmp_path, 0)
    assert [s["messages"][-1]["content"] for s in samples] == [
        "It is warm. Then it rains all day."
    ] * 2
    assert record["dropped"] == ["p1", "p1 (as the bot asks)"]


def test_whole_sentences_does_not_end_on_a_list_number() -> None:
    assert whole_sentences("Steps:\n1. Boil water.\n2. Add the egg") == "Steps:\n1. Boil water."
    assert whole_sentences('He said "stop." Then') == 'He said "stop."'
    assert whole_sentences("no end at all") == ""


def test_answers_are_cached_per_model_and_asked_again_for_another(tmp_path: Path) -> None:
    model = FakeBackend({"self_replay": "Fine."})
    first = self_replay(model, "m1", prompts("A?", "B?"), tmp_path, 0)
    again = self_replay(model, "m1", prompts("A?", "B?"), tmp_path, 0)
    assert len(model.requests) == 4, "the second call came from the cache"
    assert again[0] == first[0] and again[1]["cached"]
    self_replay(model, "m2", prompts("A?", "B?"), tmp_path, 0)
    assert len(model.requests) == 8, "another start model is asked again"


def test_a_damaged_cache_entry_is_asked_again(tmp_path: Path) -> None:
    model = FakeBackend({"self_replay": "Fine."})
    _, record = self_replay(model, "m1", prompts("A?"), tmp_path, 0)
    (tmp_path / f"{record['cache_key']}.json").write_text("{half")
    samples, record = self_replay(model, "m1", prompts("A?"), tmp_path, 0)
    assert len(samples) == 2 and not record["cached"] and len(model.requests) == 4


def test_a_failed_request_is_dropped_and_not_cached(tmp_path: Path) -> None:
    def flaky(request: ChatRequest) -> str:
        if request.messages[-1][1] == "B?":
            raise BackendError("the model crashed")
        return "Fine."

    model = FakeBackend({"self_replay": flaky})
    samples, record = self_replay(model, "m1", prompts("A?", "B?"), tmp_path, 0)
    assert len(samples) == 2 and record["dropped"] == ["p1", "p1 (as the bot asks)"]
    assert not list(tmp_path.glob("*.json")), "a run with a failure is not cached"


def test_a_bad_prompt_file_names_the_line_and_what_to_do(tmp_path: Path) -> None:
    bad = tmp_path / "prompts.yaml"
    items = "".join(f"  - id: p{i}\n    category: c\n    question: Q{i}?\n" for i in range(10))
    bad.write_text("version: 1\nitems:\n" + items + "  - id: p10\n    category: c\n")
    with pytest.raises(RegressionSetError) as caught:
        load_prompts(bad)
    message = str(caught.value)
    assert message.startswith(f"the self-replay prompt list {bad} cannot be used")
    assert f"{bad}:33:5: items[10].question: is missing or empty" in message
    assert "--self-replay-prompts" in message
