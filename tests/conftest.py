"""Shared by every test folder: no test reaches the network; the shared corpus is optional;
plain `pytest` (the fast tier) never loads the model stack.

The fast tier deselects the `slow` and `model` markers (pyproject.toml) and does not even collect
the MODEL_MODULES, which import torch or llama_cpp at import time; `--full` collects them
(scripts/test.sh: `--full -m ""`). A fast run in which a test that is not marked `model` or
`slow` imports one of MODEL_STACK fails, naming the test.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

INET = (socket.AF_INET, socket.AF_INET6)
MODEL_STACK = ("torch", "transformers", "accelerate", "llama_cpp")
# Test modules that import the model stack at import time (all marked `model`): collected only
# with --full, so that collecting the fast tier stays light.
MODEL_MODULES = frozenset(
    {"train/test_loop.py", "train/test_distill.py", "runtime/test_llamacpp.py"}
)
TESTS = Path(__file__).resolve().parent
_loaded_by: list[str] = []  # where the model stack was first seen: a test id or "collection"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        help="the full tier: collect the modules that import the model stack too (with -m '')",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if config.getoption("full") or not collection_path.is_relative_to(TESTS):
        return None
    return True if collection_path.relative_to(TESTS).as_posix() in MODEL_MODULES else None


def _model_stack() -> list[str]:
    return [name for name in MODEL_STACK if name in sys.modules]


def _may_load(item: pytest.Item) -> bool:
    return any(item.iter_markers("model")) or any(item.iter_markers("slow"))


def pytest_collection_finish(session: pytest.Session) -> None:
    if _model_stack() and not any(_may_load(item) for item in session.items):
        _loaded_by.append("collection (a test module imports it at import time)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    before = _model_stack()
    result = yield
    if not before and _model_stack() and not _may_load(item):
        _loaded_by.append(item.nodeid)
    return result


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _loaded_by and not session.config.getoption("full"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _loaded_by and not config.getoption("full"):
        stack, where = ", ".join(_model_stack()), ", ".join(_loaded_by)
        terminalreporter.write_line(
            f"FAILED the fast tier loaded the model stack ({stack}) in {where}: mark that test "
            "or its module `model` (pytestmark = pytest.mark.model) or import lazily; a module "
            "that imports it at import time also goes in MODEL_MODULES (tests/conftest.py).",
            red=True,
        )


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:  # any other host name needs DNS, which is the network
        return False


def _refuse(address: Any) -> None:
    if not _is_loopback(address):
        pytest.fail(f"test tried to reach the network: {address!r}", pytrace=False)


@pytest.fixture(autouse=True)
def no_settle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot looks again right after writing (taxonbot/github/converge.py), not 10 s later."""
    monkeypatch.setenv("TAXONBOT_SETTLE_SECONDS", "0")


@pytest.fixture(autouse=True)
def no_model_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test reads a developer's model cache (taxonbot/runtime/modelcache.py): the default
    teacher is the bundled SmolLM2 unless a test fetches a model into a cache of its own."""
    monkeypatch.setenv("TAXONBOT_MODELS", str(tmp_path_factory.getbasetemp() / "no-models"))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Loopback servers and AF_UNIX sockets keep working; anything else fails the test."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_create = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in INET:
            _refuse(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in INET:
            _refuse(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        _refuse(address)  # before getaddrinfo: resolving a name is already the network
        return real_create(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    yield


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the checkout (the upstream corpus); tests that need it skip without it."""
    path = Path(__file__).resolve().parents[2] / "shared"
    if not path.is_dir():
        pytest.skip(f"{path} is not here (the shared folder is not checked out)")
    return path
