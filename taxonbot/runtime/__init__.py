"""One small interface over the model backends (llama.cpp, OpenAI-compatible HTTP, fake);
taxonbot.runtime.open opens them. Importing this package imports no backend."""

from __future__ import annotations

from taxonbot.runtime.base import BackendError, ChatRequest, Completion, ModelBackend, RuntimeStats

__all__ = [
    "BackendError",
    "ChatRequest",
    "Completion",
    "ModelBackend",
    "RuntimeStats",
]
