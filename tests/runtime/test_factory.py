"""open_backend: the --backend spec a person types becomes the right backend."""

from __future__ import annotations

import pytest

from taxonbot.runtime import BackendError
from taxonbot.runtime.open import open_backend
from taxonbot.runtime.openai_http import OpenAIHTTPBackend


def test_a_url_opens_the_http_backend_without_connecting() -> None:
    backend = open_backend("http://127.0.0.1:8000/v1", model="granite", concurrency=8)
    assert isinstance(backend, OpenAIHTTPBackend)
    assert backend.describe()["url"] == "http://127.0.0.1:8000/v1/chat/completions"


def test_a_url_without_a_model_name_is_refused() -> None:
    with pytest.raises(BackendError, match="needs a model name"):
        open_backend("https://vllm.internal:8000")


def test_the_fake_backend_is_not_reachable_from_the_command_line() -> None:
    with pytest.raises(BackendError, match="FakeBackend"):
        open_backend("fake")


def test_an_unknown_spec_lists_what_is_accepted() -> None:
    with pytest.raises(BackendError, match=r"use llama\.cpp, a path to a \.gguf file"):
        open_backend("ollama")
