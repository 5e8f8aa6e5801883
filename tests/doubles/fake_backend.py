"""A deterministic, scripted model for unit tests: it answers only what the test expects and
fails loudly on anything else, so a changed prompt shows up as a clear test failure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from itertools import count

from taxonbot.runtime.base import BackendError, ChatRequest, Completion, RuntimeStats

Reply = str | Callable[[ChatRequest], str] | Sequence[str]


class UnknownPrompt(AssertionError):
    """The script has no answer for this request. An AssertionError, so pytest shows it as a test
    failure with the prompt, rather than the backend's usual quiet error completion."""


class FakeBackend:
    """`script` maps a request's `tag`, or else a regex searched in its last user message, to a
    reply: a string, a callable(request) -> str, or a list of strings used in turn (cycling). A
    callable may raise BackendError to simulate a failed request. Tokens are whitespace words."""

    name = "fake"

    def __init__(self, script: Mapping[str, Reply]) -> None:
        self._script = dict(script)
        self._turns = {key: count() for key in self._script}
        self._patterns = {key: _pattern(key) for key in self._script}
        self.requests: list[ChatRequest] = []  # everything asked, in order, for assertions
        self.stats = RuntimeStats()

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        results = [self._one(request) for request in requests]
        for result in results:
            self.stats.add(result)
        return results

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "model": "fake", "script_keys": ",".join(self._script)}

    def close(self) -> None:
        """Nothing to release."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())  # as its prompt_tokens: whitespace words

    def _one(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        prompt = sum(len(text.split()) for _, text in request.messages)
        try:
            text = self._reply(request)
        except BackendError as exc:
            return Completion("", "error", prompt_tokens=prompt, error=str(exc))
        text, finish = _cut(text, request)
        return Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt,
            prompt_tokens_evaluated=prompt,
            completion_tokens=len(text.split()),
        )

    def _reply(self, request: ChatRequest) -> str:
        key = self._key(request)
        reply = self._script[key]
        if isinstance(reply, str):
            return reply
        if callable(reply):
            return reply(request)
        return reply[next(self._turns[key]) % len(reply)]

    def _key(self, request: ChatRequest) -> str:
        if request.tag in self._script:
            return request.tag
        user = last_user_message(request)
        for key, pattern in self._patterns.items():
            if pattern and pattern.search(user):
                return key
        raise UnknownPrompt(
            f"FakeBackend has no reply for tag {request.tag!r}; last user message:\n{user}\n"
            f"script keys: {list(self._script)}"
        )


def _pattern(key: str) -> re.Pattern[str] | None:
    try:
        return re.compile(key)
    except re.error:  # a tag such as "q[a]" need not be a valid regex
        return None


def last_user_message(request: ChatRequest) -> str:
    return next((text for role, text in reversed(request.messages) if role == "user"), "")


def _cut(text: str, request: ChatRequest) -> tuple[str, str]:
    """Apply stop strings and the max_tokens cap the way a real server does."""
    for stop in request.stop:
        text = text.split(stop, 1)[0]
    # A server cut at max_tokens returns what it generated so far, line breaks included, with
    # finish_reason "length" (OpenAI API reference, chat completion object: finish_reason is
    # "length" if the maximum number of tokens specified in the request was reached).
    words = list(re.finditer(r"\S+", text))
    if len(words) > request.max_tokens:
        return text[: words[request.max_tokens - 1].end()], "length"
    return text, "stop"
