"""ModelSpec and open_model: the one place a command's model options become a backend."""

from __future__ import annotations

from typing import Any

import pytest

import taxonbot.runtime.open
from taxonbot.runtime import BackendError
from taxonbot.runtime.open import ModelSpec, open_model
from taxonbot.runtime.openai_http import OpenAIHTTPBackend


@pytest.mark.parametrize(
    ("spec", "remote"),
    [
        ("llama.cpp", False),
        ("models/big.gguf", False),
        ("http://127.0.0.1:8000/v1", True),
        ("https://teacher.example", True),
    ],
)
def test_a_server_url_is_remote_and_anything_else_is_local(spec: str, remote: bool) -> None:
    assert ModelSpec(spec).remote is remote


def test_a_url_with_a_name_opens_the_http_backend_with_its_concurrency() -> None:
    backend = open_model(ModelSpec("http://127.0.0.1:8000/v1", "granite", concurrency=8))
    assert isinstance(backend, OpenAIHTTPBackend)
    assert backend.describe() == {
        "backend": "openai-http",
        "url": "http://127.0.0.1:8000/v1/chat/completions",
        "model": "granite",
    }


def test_a_url_without_a_name_is_refused_with_where_to_find_one() -> None:
    with pytest.raises(BackendError, match=r"needs a model name; GET https://x/v1/models"):
        open_model(ModelSpec("https://x"))


def test_a_local_model_gets_the_threads_and_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    def record(spec: str, **kw: Any) -> Any:
        asked.append((spec, kw))
        return "opened"

    monkeypatch.setattr(taxonbot.runtime.open, "open_backend", record)
    assert open_model(ModelSpec("m.gguf", "ignored", concurrency=9, threads=3, seed=7)) == "opened"
    assert asked == [("m.gguf", {"n_threads": 3, "seed": 7})]


def test_a_model_error_is_a_cannot_run_error() -> None:
    from taxonbot.errors import CannotRun
    from taxonbot.exits import Exit

    with pytest.raises(CannotRun) as raised:
        open_model(ModelSpec("ollama"))
    assert raised.value.exit is Exit.CANNOT
