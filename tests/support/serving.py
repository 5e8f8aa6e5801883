"""Runs a test's loopback HTTP server on a thread: the one runner every fake server uses
(tests/doubles/fake_github.py, model_host.py, tests/runtime/fake_openai.py)."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def in_thread(
    server: socketserver.BaseServer, poll: float = 0.05, stop: Callable[[], None] = lambda: None
) -> Iterator[None]:
    """Serve until the block ends. `poll` is serve_forever's poll interval (shutdown waits for
    the next poll; the default 0.5 s would slow every test); `stop` runs first, to release
    handlers a test keeps waiting (a stalled download)."""
    thread = threading.Thread(target=server.serve_forever, args=(poll,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop()
        server.shutdown()
        server.server_close()
        thread.join()
