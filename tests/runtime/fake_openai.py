"""A stateful fake of an OpenAI-compatible chat server on 127.0.0.1, run in a thread.

Each request takes the next step of `plan` ("ok" once the plan runs out), so a test scripts a
flaky server: ["500", "500", "ok"], ["hang"], ["garbage"]. The server records every request body
and header and the most requests it ever had in flight at once, and the GBNF `grammar` field of
each (llama.cpp's server extension). Like vLLM, which accepts unknown fields and ignores them, it
does not constrain its echo by the grammar; llama.cpp's 400 for a grammar it cannot parse is the
scripted step "400".
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.serving import in_thread


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True  # a hung handler must not block shutdown

    def __init__(self, plan: Sequence[str] = (), delay_s: float = 0.0, cached: int = 0) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plan, self.delay_s, self.cached = list(plan), delay_s, cached
        self.bodies: list[dict[str, Any]] = []
        self.grammars: list[str | None] = []  # each body's "grammar", None where it had none
        self.headers: list[dict[str, str]] = []
        self.in_flight = self.max_in_flight = 0
        self.lock, self.stopping = threading.Lock(), threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take(self, body: dict[str, Any], headers: dict[str, str]) -> str:
        with self.lock:
            self.bodies.append(body)
            self.grammars.append(body.get("grammar"))
            self.headers.append(headers)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return self.plan.pop(0) if self.plan else "ok"

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw) if self.path == "/v1/chat/completions" else {}
        step = self.server.take(body, dict(self.headers))
        try:
            self._act(step, body)
        finally:
            self.server.done()

    def _act(self, step: str, body: dict[str, Any]) -> None:
        if self.path != "/v1/chat/completions":
            return self._send(404, b'{"error": "not found"}')
        if step == "hang":  # answer nothing until the test is over; the client must time out
            self.server.stopping.wait(30)
            return None
        if step == "garbage":
            return self._send(200, b"<html>this is not json")
        if step.isdigit():
            return self._send(int(step), b'{"error": "scripted failure"}')
        self.server.stopping.wait(self.server.delay_s)
        return self._send(200, json.dumps(_answer(body, self.server.cached)).encode())

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


def _answer(body: dict[str, Any], cached: int) -> dict[str, Any]:
    user = body["messages"][-1]["content"]
    words = f"echo {user}".split()[: body["max_tokens"]]
    prompt = sum(len(m["content"].split()) for m in body["messages"])
    length = len(words) == body["max_tokens"]
    return {
        "choices": [
            {
                "message": {"role": "assistant", "content": " ".join(words)},
                "finish_reason": "length" if length else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": len(words),
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


@contextmanager
def serving(
    plan: Sequence[str] = (), delay_s: float = 0.0, cached: int = 0
) -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(plan, delay_s, cached)
    with in_thread(server, 0.02, server.stopping.set):
        yield server
