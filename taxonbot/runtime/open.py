"""Which model a command asks, as a value: `ModelSpec`, and `open_model`, which opens it.

The one place outside the backends that tells a server URL from a local GGUF: every command
(preview, generate, gaps, build) fills a `ModelSpec` from its options and calls `open_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from taxonbot.runtime import open_backend
from taxonbot.runtime.base import BackendError, ModelBackend


@dataclass(frozen=True)
class ModelSpec:
    spec: str = "llama.cpp"  # "llama.cpp" (the bundled model), a .gguf path or an http(s) URL
    name: str | None = None  # the model's name on an HTTP server (GET <url>/v1/models lists them)
    concurrency: int = 4  # HTTP requests in flight
    threads: int = 2  # llama.cpp CPU threads
    seed: int = 0  # llama.cpp sampling seed

    @property
    def remote(self) -> bool:
        """A model behind an OpenAI-compatible server rather than a local GGUF."""
        return self.spec.startswith(("http://", "https://"))


def open_model(spec: ModelSpec) -> ModelBackend:
    """The backend `spec` names; BackendError (a sentence) when it cannot be opened."""
    if spec.remote:
        if spec.name is None:
            raise BackendError(
                f"{spec.spec} needs a model name; GET {spec.spec}/v1/models lists them"
            )
        return open_backend(spec.spec, model=spec.name, concurrency=spec.concurrency)
    return open_backend(spec.spec, n_threads=spec.threads, seed=spec.seed)
