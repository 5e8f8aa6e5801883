"""The scale-out backend: any OpenAI-compatible server (vLLM, llama.cpp server) over HTTP.

Stdlib only (urllib + a thread pool), so SDG against a remote server needs no extra package.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from taxonbot.runtime.base import (
    BackendError,
    ChatRequest,
    Completion,
    RuntimeStats,
    estimate_tokens,
)

_RETRY_STATUS = frozenset({408, 429}) | frozenset(range(500, 600))


class _Retryable(Exception):
    """A failure worth another try: timeout, refused connection, 408/429 or 5xx."""


class OpenAIHTTPBackend:
    name = "openai-http"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        concurrency: int = 4,
        timeout_s: float = 60,
        retries: int = 3,
        backoff_s: float = 0.5,
        seed: int = 0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise BackendError(f"base URL {base_url!r} must start with http:// or https://")
        # People paste either the server root or its /v1 root; both mean the same server.
        root = base_url.rstrip("/").removesuffix("/v1")
        self._url = f"{root}/v1/chat/completions"
        self._model, self._concurrency, self._timeout_s = model, max(1, concurrency), timeout_s
        self._retries, self._backoff_s, self._seed = max(0, retries), backoff_s, seed
        self._headers = {"Content-Type": "application/json", **_auth_header(api_key_env)}
        self.stats = RuntimeStats()

    def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            results = list(pool.map(self._one, requests, range(len(requests))))
        for result in results:  # pool.map keeps input order
            self.stats.add(result)
        return results

    def describe(self) -> dict[str, str]:
        return {"backend": self.name, "url": self._url, "model": self._model}

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own connection."""

    def count_tokens(self, text: str) -> int:
        # The server's tokenizer is not ours to call (its /tokenize is not part of the
        # OpenAI API): an estimate.
        return estimate_tokens(text)

    def _one(self, request: ChatRequest, index: int) -> Completion:
        # Jitter from a Random seeded per request: reproducible, and no lock shared by threads.
        jitter = random.Random(f"{self._seed}:{index}")  # noqa: S311 - backoff, not crypto
        start, tries, last = time.perf_counter(), 0, ""
        while tries <= self._retries:
            if tries:
                time.sleep(self._backoff_s * 2 ** (tries - 1) * (1 + jitter.random()))
            tries += 1
            try:
                raw = self._post(_body(self._model, request))
                return _completion(raw, self._url, time.perf_counter() - start)
            except _Retryable as exc:
                last = str(exc)
            except BackendError as exc:  # a 4xx or a reply that is not chat JSON: final
                return Completion("", "error", seconds=time.perf_counter() - start, error=str(exc))
        error = (
            f"POST {self._url} failed {tries} times (last: {last}); check that an "
            f"OpenAI-compatible server (vLLM, llama.cpp server) is running there and serves "
            f"model {self._model!r} (each request waited up to {self._timeout_s:g}s)"
        )
        return Completion("", "error", seconds=time.perf_counter() - start, error=error)

    def _post(self, body: bytes) -> bytes:
        """One attempt. timeout_s bounds the connect and each wait for bytes, as urllib does."""
        try:
            # S310 guards against file:// and custom schemes; __init__ admits only http(s).
            call = urllib.request.Request(self._url, body, self._headers, method="POST")  # noqa: S310
            with urllib.request.urlopen(call, timeout=self._timeout_s) as answer:  # noqa: S310
                return bytes(answer.read())
        except urllib.error.HTTPError as exc:
            if exc.code in _RETRY_STATUS:
                raise _Retryable(f"HTTP {exc.code}") from exc
            raise BackendError(
                f"{self._url} answered HTTP {exc.code}: {_detail(exc)}; check the model name, "
                "the API key variable and the request limits the server allows"
            ) from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError and timeouts are OSErrors
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        except ValueError as exc:  # urllib's word for a URL it cannot parse
            raise BackendError(f"cannot POST to {self._url}: {exc}; fix the base URL") from exc


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(300).decode("utf-8", errors="replace")
    except OSError:  # the server hung up while sending its error page
        return "(no body)"


def _auth_header(api_key_env: str | None) -> dict[str, str]:
    if not api_key_env:
        return {}
    key = os.environ.get(api_key_env, "")
    if not key:  # name the variable, never the value
        raise BackendError(f"environment variable {api_key_env} is empty; set it to the API key")
    return {"Authorization": f"Bearer {key}"}


def _body(model: str, request: ChatRequest) -> bytes:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [{"role": role, "content": text} for role, text in request.messages]
        + ([{"role": "assistant", "content": request.prefill}] if request.prefill else []),
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "seed": request.seed,
    }
    if request.prefill:  # vLLM continues the final assistant message only when told to
        payload |= {"continue_final_message": True, "add_generation_prompt": False}
    if request.stop:  # some servers reject an empty stop list
        payload["stop"] = list(request.stop)
    if request.grammar:
        # llama.cpp's server (tools/server/README.md) takes its /completion options, `grammar`
        # (GBNF) among them, on /v1/chat/completions too, and answers 400 "Failed to parse
        # grammar" to a bad one. Other servers do not constrain by it: vLLM accepts unknown
        # fields and ignores them (logging their names), so its reply is free text that the
        # caller's parser must still check; a server that rejects unknown fields answers 4xx.
        payload["grammar"] = request.grammar
    return json.dumps(payload).encode("utf-8")


def _completion(raw: bytes, url: str, seconds: float) -> Completion:
    try:
        reply = json.loads(raw)
        choice, usage = reply["choices"][0], reply.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return Completion(
            text=str(choice["message"].get("content") or ""),
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            prompt_tokens=prompt,
            prompt_tokens_evaluated=max(0, prompt - cached),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            seconds=seconds,
        )
    except (ValueError, LookupError, TypeError, AttributeError) as exc:
        raise BackendError(
            f"{url} did not answer with OpenAI chat-completion JSON ({raw[:80]!r}); "
            "check that the base URL points at an OpenAI-compatible server"
        ) from exc
