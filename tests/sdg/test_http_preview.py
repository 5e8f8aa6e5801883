"""`taxonbot preview --teacher http://...`: the scale-out path, end to end against the fake
OpenAI-compatible server of tests/runtime on loopback (no vLLM or llama.cpp server needed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import taxonbot.runtime.open
from taxonbot.cli.main import main
from taxonbot.runtime.open import open_backend
from taxonbot.schemas import validator
from tests.runtime.fake_openai import serving

from .conftest import HAIKU
from .fakes import every_pair_accounted_for

PREVIEW_SCHEMA = "https://taxonbot.dev/schemas/preview.json"
Taxonomy = Callable[[str], Path]


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The real open_model and open_backend, with retry back-off shortened from 0.5 s."""
    for scheme in ("http", "https", "all", "no"):  # urllib would ask a proxy for loopback too
        monkeypatch.delenv(f"{scheme}_proxy", raising=False)
        monkeypatch.delenv(f"{scheme.upper()}_PROXY", raising=False)

    def quick(spec: str, **kw: Any) -> Any:
        return open_backend(spec, backoff_s=0.01, timeout_s=5, **kw)

    monkeypatch.setattr(taxonbot.runtime.open, "open_backend", quick)
    yield


def preview(qna: Path, url: str, *argv: str | int) -> dict[str, Any]:
    args = ["preview", str(qna), "--teacher", url, "--teacher-model", "fake", "--out", "out"]
    assert main([*args, *map(str, argv)]) == 0
    body = json.loads(Path("out/preview.json").read_text(encoding="utf-8"))
    problems = [e.message for e in validator(PREVIEW_SCHEMA).iter_errors(body)]
    assert not problems, problems
    every_pair_accounted_for(body["leaves"][0])
    return body


def test_a_preview_over_http_sends_capped_chat_requests_to_the_named_model(
    taxonomy: Taxonomy, workdir: Path
) -> None:
    """The echo server answers every prompt with its own text: no judge can read a score from
    that, so the pairs are rejected, each with its reason; the wire format is what is tested."""
    qna = taxonomy(HAIKU)
    with serving(cached=10) as server:
        body = preview(qna, server.url, "--pairs", 3, "--max-new-tokens", 48, "--concurrency", 2)
    assert body["model"] == {
        "backend": "openai-http",
        "url": f"{server.url}/v1/chat/completions",
        "model": "fake",
    }
    assert server.bodies and all(b["model"] == "fake" for b in server.bodies)
    for sent in server.bodies:  # judges prefill the reply ("Score:") and ask vLLM to continue it
        roles = [m["role"] for m in sent["messages"]]
        assert roles in (["system", "user"], ["system", "user", "assistant"])
        assert (roles[-1] == "assistant") == bool(sent.get("continue_final_message"))
    assert max(b["max_tokens"] for b in server.bodies) <= 48
    assert server.max_in_flight <= 2
    stats = body["stats"]
    assert stats["requests"] == len(server.bodies) and stats["failures"] == 0
    assert stats["prompt_tokens_evaluated"] == stats["prompt_tokens"] - 10 * stats["requests"]
    (leaf,) = body["leaves"]
    assert leaf["status"] == "complete" and leaf["counts"]["candidates"] == 3


def test_a_server_that_fails_every_request_yields_reasons_not_a_crash(
    taxonomy: Taxonomy, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every request gets HTTP 500 → each is retried, then recorded as a failed request: the
    leaf's pairs are rejections that say so, and the command still writes preview.json."""
    qna = taxonomy(HAIKU)
    with serving(plan=["500"] * 100) as server:
        body = preview(qna, server.url, "--pairs", 2)
    assert len(server.bodies) == 2 * 4  # two first questions, each tried four times
    assert body["stats"]["requests"] == body["stats"]["failures"] == 2
    (leaf,) = body["leaves"]
    assert leaf["status"] == "complete"
    assert leaf["counts"] == {"candidates": 2, "kept": 0, "rejected_by": {"new_question": 2}}
    for pair in leaf["pairs"]:
        assert pair["reason"].startswith("the model request failed: POST ")
        assert "failed 4 times (last: HTTP 500)" in pair["reason"]
    assert Path("out/pairs.jsonl").read_text() == ""
    assert "Traceback" not in capsys.readouterr().err


def test_a_flaky_server_is_retried_and_nothing_is_lost(taxonomy: Taxonomy, workdir: Path) -> None:
    with serving(plan=["503", "500", "429"]) as server:
        body = preview(taxonomy(HAIKU), server.url, "--pairs", 2, "--concurrency", 1)
    assert body["stats"]["failures"] == 0
    assert len(server.bodies) == body["stats"]["requests"] + 3


def test_an_http_backend_without_a_model_name_is_a_usage_error(
    taxonomy: Taxonomy, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["preview", str(taxonomy(HAIKU)), "--teacher", "http://127.0.0.1:9"])
    assert code == 2
    assert "needs a model name" in capsys.readouterr().err
