"""FakeBackend: the scripted model SDG unit tests run on."""

from __future__ import annotations

import pytest

from taxonbot.runtime.base import BackendError, ChatRequest
from tests.doubles.fake_backend import FakeBackend, UnknownPrompt


def ask(user: str, tag: str = "", max_tokens: int = 64, stop: tuple[str, ...] = ()) -> ChatRequest:
    return ChatRequest(
        (("system", "You write questions."), ("user", user)),
        max_tokens=max_tokens,
        stop=stop,
        tag=tag,
    )


def test_a_tag_picks_its_scripted_reply() -> None:
    fake = FakeBackend({"gen_questions": "What is a leaf?"})
    (done,) = fake.complete([ask("anything at all", tag="gen_questions")])
    assert done.text == "What is a leaf?" and done.finish_reason == "stop"


def test_without_a_known_tag_a_regex_over_the_last_user_message_picks_the_reply() -> None:
    fake = FakeBackend({r"grade .* answer": "score: 2", r"^Write": "Q: why?"})
    done = fake.complete([ask("Write three questions"), ask("Please grade this answer")])
    assert [c.text for c in done] == ["Q: why?", "score: 2"]


def test_a_list_of_replies_is_used_in_turn_and_cycles() -> None:
    fake = FakeBackend({"q": ["one", "two"]})
    done = fake.complete([ask("x", tag="q") for _ in range(3)])
    assert [c.text for c in done] == ["one", "two", "one"]


def test_a_callable_reply_sees_the_request() -> None:
    fake = FakeBackend({"echo": lambda request: request.messages[-1][1].upper()})
    (done,) = fake.complete([ask("shout this", tag="echo")])
    assert done.text == "SHOUT THIS"


def test_an_unknown_prompt_fails_the_test_loudly_with_the_prompt() -> None:
    fake = FakeBackend({"known": "yes"})
    with pytest.raises(UnknownPrompt, match="Summarise the leaf") as raised:
        fake.complete([ask("Summarise the leaf about tomatoes", tag="new_template")])
    assert isinstance(raised.value, AssertionError)
    assert "new_template" in str(raised.value)


def test_a_tag_that_is_not_a_valid_regex_still_works() -> None:
    fake = FakeBackend({"q[": "ok"})
    assert fake.complete([ask("x", tag="q[")])[0].text == "ok"


def test_the_token_cap_cuts_long_replies_with_finish_reason_length() -> None:
    fake = FakeBackend({"long": "a b c d e f"})
    (done,) = fake.complete([ask("x", tag="long", max_tokens=4)])
    assert (done.text, done.finish_reason, done.completion_tokens) == ("a b c d", "length", 4)


def test_stop_strings_cut_the_reply_like_a_server_does() -> None:
    fake = FakeBackend({"q": "Q1: one\n###\nQ2: two"})
    (done,) = fake.complete([ask("x", tag="q", stop=("###",))])
    assert done.text == "Q1: one\n" and done.finish_reason == "stop"


def test_a_reply_that_raises_backend_error_becomes_an_error_completion() -> None:
    def broken(request: ChatRequest) -> str:
        raise BackendError("server gone")

    fake = FakeBackend({"bad": broken, "good": "fine"})
    done = fake.complete([ask("x", tag="bad"), ask("y", tag="good")])
    assert [c.finish_reason for c in done] == ["error", "stop"]
    assert done[0].error == "server gone"
    assert fake.stats.failures == 1 and fake.stats.requests == 2


def test_tokens_are_whitespace_words_and_every_request_is_recorded() -> None:
    fake = FakeBackend({"q": "two words"})
    (done,) = fake.complete([ask("three more words", tag="q")])
    assert (done.prompt_tokens, done.completion_tokens) == (6, 2)
    assert fake.requests == [ask("three more words", tag="q")]
    assert fake.stats.prompt_tokens == 6 and fake.stats.completion_tokens == 2
