"""One small interface over the model backends (llama.cpp, OpenAI-compatible HTTP, fake)."""

from __future__ import annotations

from typing import Any

from taxonbot.runtime.base import BackendError, ChatRequest, Completion, ModelBackend, RuntimeStats

__all__ = [
    "BackendError",
    "ChatRequest",
    "Completion",
    "ModelBackend",
    "RuntimeStats",
    "open_backend",
]


def open_backend(spec: str, **kw: Any) -> ModelBackend:
    """A backend for a resolved spec (taxonbot.runtime.open.resolve turns catalogue names and
    the default into paths first): "llama.cpp" (the bundled SmolLM2 or model_path=...), a path
    to a .gguf, or the http(s) URL of an OpenAI-compatible server (needs model=...)."""
    if spec.startswith(("http://", "https://")):
        from taxonbot.runtime.openai_http import OpenAIHTTPBackend

        if "model" not in kw:
            raise BackendError(f"{spec} needs a model name; GET {spec}/v1/models lists them")
        return OpenAIHTTPBackend(spec, **kw)
    if spec == "llama.cpp" or spec.endswith(".gguf"):
        if spec.endswith(".gguf"):
            kw["model_path"] = spec
        return _llamacpp_backend(**kw)
    if spec == "fake":
        raise BackendError("the fake backend is for tests: build FakeBackend(script) directly")
    raise BackendError(
        f"unknown backend {spec!r}; use llama.cpp, a path to a .gguf file, a model name from "
        "`taxonbot model list`, or the http(s):// URL of an OpenAI-compatible server"
    )


def _llamacpp_backend(**kw: Any) -> ModelBackend:
    # Imported here because llama_cpp is heavy and only the SDG commands need it.
    try:
        from taxonbot.runtime.llamacpp import LlamaCppBackend
    except ImportError as exc:
        raise BackendError(
            f"the llama.cpp backend needs llama-cpp-python ({exc}); "
            "install it with `pip install 'taxonbot[sdg]'`"
        ) from exc
    return LlamaCppBackend(**kw)
