"""A fake of a file host such as huggingface.co's `resolve` URLs, on 127.0.0.1, run in a thread.

It answers as an HTTP/1.1 origin server does (RFC 9110):
- a GET with `Range: bytes=N-` (§14.2) gets 206 Partial Content with `Content-Range: bytes
  N-LAST/TOTAL` (§14.4, §15.3.7) and only those bytes; without Range, 200 and the whole file;
- a range that starts at or past the end gets 416 with `Content-Range: bytes */TOTAL` (§15.5.17);
- `Accept-Ranges: bytes` says it supports ranges (§14.3); `Content-Length` is the body's size.
Each request takes the next step of `plan` ("ok" once the plan runs out), so a test scripts a
host that misbehaves: drops the connection part-way ("drop:N", so it sent less than its
Content-Length), ignores Range (a server MAY, §14.2), answers 404 or an HTML page, stalls, sends
more than the file with ("oversized") or without ("no-length") a Content-Length saying so.
It records every request's Range header and how many body bytes it sent.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.serving import in_thread

PATH = "/owner/repo/resolve/" + "0" * 40 + "/model.gguf"


@dataclass
class Served:
    range: str | None  # the request's Range header
    status: int
    sent: int  # body bytes written


class ModelHost(ThreadingHTTPServer):
    daemon_threads = True  # a stalled handler must not block shutdown

    def __init__(self, body: bytes, plan: Sequence[str] = ()) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.body, self.plan = body, list(plan)
        self.served: list[Served] = []
        self.lock, self.stopping = threading.Lock(), threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{PATH}"

    def take(self) -> str:
        with self.lock:
            return self.plan.pop(0) if self.plan else "ok"

    def sent(self) -> int:
        return sum(s.sent for s in self.served)


class _Handler(BaseHTTPRequestHandler):
    server: ModelHost

    def do_GET(self) -> None:
        step, body = self.server.take(), self.server.body
        asked = self.headers.get("Range")
        if self.path != PATH or step == "404":
            return self._send(404, b"<html>Entry not found</html>", asked, "text/html")
        if step == "html":  # a login or rate-limit page, served with 200
            return self._send(200, b"<!doctype html><title>Sign in</title>", asked, "text/html")
        if step == "stall":  # headers, then nothing: a host that stopped sending
            self._head(200, len(body))
            self.end_headers()
            self.server.stopping.wait(30)
            return None
        if step == "oversized":
            return self._send(200, body + b"\0" * 4096, asked)
        if step == "no-length":  # HTTP/1.0 style: the body ends when the connection closes
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(body)
            with self.server.lock:
                self.server.served.append(Served(asked, 200, len(body)))
            return None
        start = _range_start(asked)
        if start is None or step == "ignore-range":
            return self._send(200, body, asked, drop_after=_drop(step))
        if start >= len(body):
            return self._send(416, b"", asked, extra={"Content-Range": f"bytes */{len(body)}"})
        part = body[start:]
        extra = {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}"}
        return self._send(206, part, asked, extra=extra, drop_after=_drop(step))

    def _head(self, status: int, length: int, kind: str = "application/octet-stream") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")

    def _send(
        self,
        status: int,
        payload: bytes,
        asked: str | None,
        kind: str = "application/octet-stream",
        extra: dict[str, str] | None = None,
        drop_after: int | None = None,
    ) -> None:
        self._head(status, len(payload), kind)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        sent = payload if drop_after is None else payload[:drop_after]
        try:
            self.wfile.write(sent)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up first
        with self.server.lock:
            self.server.served.append(Served(asked, status, len(sent)))
        if drop_after is not None:  # the connection ends before Content-Length bytes
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


def _range_start(header: str | None) -> int | None:
    match = re.fullmatch(r"bytes=(\d+)-", header or "")
    return int(match[1]) if match else None


def _drop(step: str) -> int | None:
    """ "drop:N": send N bytes of the body, then close the connection."""
    return int(step.split(":", 1)[1]) if step.startswith("drop:") else None


@contextmanager
def model_host(body: bytes, plan: Sequence[str] = ()) -> Iterator[ModelHost]:
    server = ModelHost(body, plan)
    with in_thread(server, 0.05, server.stopping.set):
        yield server
