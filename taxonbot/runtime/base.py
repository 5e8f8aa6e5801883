"""The model interface every SDG block talks to. Backends live beside it, one module each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from taxonbot.errors import CannotRun

TokenCounter = Callable[[str], int]


def estimate_tokens(text: str) -> int:
    """Tokens `text` takes, estimated where no tokenizer is at hand: words for prose,
    characters for text without spaces (URLs, data: images, CJK), about 4 characters per token
    either way. Text of short symbols takes more: Morse code a third more on SmolLM2's tokenizer."""
    return max(int(len(text.split()) * 1.3), len(text) // 4) + 1


class BackendError(CannotRun):
    """A backend could not produce a completion; the message says what to do."""


@dataclass(frozen=True)
class ChatRequest:
    messages: tuple[tuple[str, str], ...]  # (role, content) pairs, roles: system/user/assistant
    max_tokens: int = 256
    temperature: float = 0.7
    seed: int = 0
    stop: tuple[str, ...] = ()
    tag: str = ""  # which prompt template made it: for the fake backend and for bookkeeping
    prefill: str = ""  # the start of the model's reply, written for it (e.g. "Score:")
    # A GBNF grammar the reply must follow (llama.cpp's grammar format), or "" for free text. A
    # reply cut by max_tokens before the grammar is satisfied comes back with finish_reason
    # "length": the caller rejects it; it never waits for more.
    grammar: str = ""


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str  # "stop" | "length" | "error"
    prompt_tokens: int = 0  # tokens submitted
    prompt_tokens_evaluated: int = 0  # tokens actually computed (the rest came from the KV cache)
    completion_tokens: int = 0
    seconds: float = 0.0
    error: str = ""  # set when finish_reason == "error": the request failed after retries


@dataclass
class RuntimeStats:
    requests: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    completion_tokens: int = 0
    decode_seconds: float = 0.0
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def add(self, done: Completion) -> None:
        self.requests += 1
        self.failures += done.finish_reason == "error"
        self.prompt_tokens += done.prompt_tokens
        self.prompt_tokens_evaluated += done.prompt_tokens_evaluated
        self.completion_tokens += done.completion_tokens
        self.seconds += done.seconds


class ModelBackend(Protocol):
    """Runs chat requests. `complete` keeps the order of `requests` and never raises for one
    bad request: a failed request comes back as a Completion with finish_reason "error"."""

    name: str
    stats: RuntimeStats

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]: ...

    def describe(self) -> dict[str, str]: ...  # model id, file hash, chat template hash

    # Tokens `text` takes in this model's prompts (exact where the backend has the tokenizer,
    # else estimate_tokens): what the seed examples a prompt shows are fitted to (sdg/prompts.py).
    def count_tokens(self, text: str) -> int: ...

    def close(self) -> None: ...
