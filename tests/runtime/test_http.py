"""OpenAIHTTPBackend against a fake OpenAI-compatible server on loopback: no real server needed,
neither vLLM nor llama-cpp-python's own server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from taxonbot.runtime.base import BackendError, ChatRequest
from taxonbot.runtime.openai_http import OpenAIHTTPBackend

from .fake_openai import serving


def ask(text: str, max_tokens: int = 16, stop: tuple[str, ...] = ()) -> ChatRequest:
    return ChatRequest((("system", "be brief"), ("user", text)), max_tokens=max_tokens, stop=stop)


def backend(url: str, **kw: object) -> OpenAIHTTPBackend:
    options: dict[str, object] = {"timeout_s": 2, "retries": 3, "backoff_s": 0.01} | kw
    return OpenAIHTTPBackend(url, "smollm2", **options)  # type: ignore[arg-type]


def test_a_healthy_server_answers_every_request_in_input_order() -> None:
    with serving(delay_s=0.02) as server:
        done = backend(server.url, concurrency=4).complete([ask(f"q{i}") for i in range(12)])
    assert [c.text for c in done] == [f"echo q{i}" for i in range(12)]
    assert all(c.finish_reason == "stop" for c in done)
    assert server.bodies[0]["model"] == "smollm2"
    assert server.bodies[0]["messages"][0] == {"role": "system", "content": "be brief"}


def test_requests_run_concurrently_up_to_the_limit() -> None:
    with serving(delay_s=0.2) as server:
        backend(server.url, concurrency=4).complete([ask(f"q{i}") for i in range(8)])
    assert server.max_in_flight == 4


def test_concurrency_one_sends_one_request_at_a_time() -> None:
    with serving(delay_s=0.05) as server:
        backend(server.url, concurrency=1).complete([ask("a"), ask("b"), ask("c")])
    assert server.max_in_flight == 1


def test_a_server_that_fails_twice_then_answers_is_retried() -> None:
    with serving(plan=["500", "503"]) as server:
        (done,) = backend(server.url).complete([ask("hello")])
    assert done.finish_reason == "stop" and done.text == "echo hello"
    assert len(server.bodies) == 3


def test_rate_limiting_is_retried() -> None:
    with serving(plan=["429"]) as server:
        (done,) = backend(server.url).complete([ask("hello")])
    assert done.text == "echo hello" and len(server.bodies) == 2


def test_a_bad_request_is_not_retried_and_says_what_the_server_said() -> None:
    with serving(plan=["400"]) as server:
        (done,) = backend(server.url).complete([ask("hello")])
    assert done.finish_reason == "error" and len(server.bodies) == 1
    assert "HTTP 400" in done.error and "scripted failure" in done.error


def test_a_server_that_keeps_failing_gives_an_error_completion_naming_the_url() -> None:
    with serving(plan=["500"] * 10) as server:
        (done,) = backend(server.url, retries=2).complete([ask("hello")])
    assert done.finish_reason == "error" and len(server.bodies) == 3
    assert f"{server.url}/v1/chat/completions failed 3 times" in done.error
    assert "OpenAI-compatible server" in done.error


def test_a_hanging_server_times_out_and_the_retry_succeeds() -> None:
    with serving(plan=["hang"]) as server:
        (done,) = backend(server.url, timeout_s=0.3).complete([ask("hello")])
    assert done.text == "echo hello" and len(server.bodies) == 2


def test_a_server_that_always_hangs_ends_in_a_timeout_error() -> None:
    with serving(plan=["hang"] * 5) as server:
        (done,) = backend(server.url, timeout_s=0.2, retries=1).complete([ask("hello")])
    assert done.finish_reason == "error" and "timed out" in done.error
    assert done.seconds < 2


def test_garbage_json_is_an_error_without_retry() -> None:
    with serving(plan=["garbage"]) as server:
        (done,) = backend(server.url).complete([ask("hello")])
    assert done.finish_reason == "error" and len(server.bodies) == 1
    assert "not answer with OpenAI chat-completion JSON" in done.error


def test_one_failed_request_does_not_sink_the_batch() -> None:
    with serving(plan=["400"]) as server:
        done = backend(server.url, concurrency=1).complete([ask("a"), ask("b")])
    assert [c.finish_reason for c in done] == ["error", "stop"]
    assert done[1].text == "echo b"


def test_nobody_listening_gives_a_connection_error_after_retries() -> None:
    with socket.socket() as probe:  # a free port that nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (done,) = backend(f"http://127.0.0.1:{port}", retries=1).complete([ask("hello")])
    assert done.finish_reason == "error" and "failed 2 times" in done.error
    assert "Connection" in done.error or "refused" in done.error


def test_usage_and_cached_prompt_tokens_are_read() -> None:
    with serving(cached=3) as server:
        http = backend(server.url)
        (done,) = http.complete([ask("one two three four")])
    assert (done.prompt_tokens, done.prompt_tokens_evaluated, done.completion_tokens) == (6, 3, 5)
    assert http.stats.requests == 1 and http.stats.prompt_tokens_evaluated == 3


def test_the_token_cap_and_stop_strings_reach_the_server() -> None:
    with serving() as server:
        (done,) = backend(server.url).complete([ask("a b c d e", max_tokens=2, stop=("###",))])
    assert done.finish_reason == "length" and done.text == "echo a"
    assert server.bodies[0]["max_tokens"] == 2 and server.bodies[0]["stop"] == ["###"]
    assert server.bodies[0]["seed"] == 0


def test_a_grammar_reaches_the_server_as_llama_cpp_names_it_and_only_when_set() -> None:
    digits = ChatRequest((("user", "rate it"),), max_tokens=2, grammar="root ::= [1-5]")
    with serving() as server:
        backend(server.url, concurrency=1).complete([digits, ask("free text")])
    assert server.grammars == ["root ::= [1-5]", None]  # no empty field for a free-text request


def test_a_base_url_ending_in_v1_reaches_the_same_endpoint() -> None:
    with serving() as server:
        (done,) = backend(server.url + "/v1/").complete([ask("hi")])
    assert done.text == "echo hi"


def test_the_api_key_comes_from_the_named_variable_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TAXONBOT_TEST_KEY", "s3cret")
    with serving() as server:
        http = backend(server.url, api_key_env="TAXONBOT_TEST_KEY")
        http.complete([ask("hi")])
    assert server.headers[0]["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in repr(http.describe()) + repr(vars(http).keys())


def test_an_empty_api_key_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAXONBOT_TEST_KEY", raising=False)
    with pytest.raises(BackendError, match="TAXONBOT_TEST_KEY is empty"):
        OpenAIHTTPBackend("http://127.0.0.1:9", "m", api_key_env="TAXONBOT_TEST_KEY")


def test_only_http_urls_are_accepted() -> None:
    with pytest.raises(BackendError, match="must start with http"):
        OpenAIHTTPBackend("file:///etc/passwd", "m")


def test_the_http_backend_does_not_load_llama_cpp() -> None:
    code = (
        "import sys; from taxonbot.runtime.open import open_backend; "
        "open_backend('http://127.0.0.1:9', model='m'); "
        "assert 'llama_cpp' not in sys.modules, 'llama_cpp was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
