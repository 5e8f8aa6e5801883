"""Fixtures for the SDG tests: taxonomy leaves copied into a temp folder, the offline document
mirror, and a way to hand the commands a model of the test's choosing."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from taxonbot.runtime.base import ModelBackend
from taxonbot.runtime.choice import ModelChoice
from taxonbot.runtime.open import ModelSpec
from tests.doubles.docmirror import build_mirror

ROOT = Path(__file__).resolve().parents[2]
TAXONOMY = ROOT / "taxonomy"
HAIKU = "compositional_skills/writing/freeform/poetry/haiku_about_weather"
MEETING = "compositional_skills/writing/grounded/summarization/meeting_notes_bullets"
WATER = "knowledge/science/earth_science/water_cycle"
COMPOSTING = "knowledge/home_and_garden/composting/home_composting"

Backend = TypeVar("Backend", bound=ModelBackend)


class UseModel(Protocol):
    def __call__(self, backend: Backend, catalogue: bool = False) -> Backend: ...


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Commands run from a scratch folder, so default outputs never land in the checkout."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def taxonomy(workdir: Path) -> Callable[[str], Path]:
    """Copies a leaf folder (qna.yaml + attribution.txt) into <tmp>/taxonomy/<leaf>; returns
    the copied qna.yaml, so its path keeps the `compositional_skills/...` shape."""

    def copy(leaf: str) -> Path:
        target = workdir / "taxonomy" / leaf
        shutil.copytree(TAXONOMY / leaf, target, dirs_exist_ok=True)
        return target / "qna.yaml"

    return copy


@pytest.fixture(scope="session")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The knowledge documents' repositories, served from local bare repos (built once)."""
    root = tmp_path_factory.mktemp("mirror")
    build_mirror(root)
    return root


@pytest.fixture
def offline_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """A git that missed the mirror's URL rewrite fails at once on a closed loopback proxy."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")


@pytest.fixture
def use_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[UseModel]:
    """`use_model(backend)`: preview and generate open this backend instead of a real model.
    The commands import open_model by name, so it is replaced where each one looks it up."""
    import taxonbot.cli.generate
    import taxonbot.cli.preview

    def install(backend: Backend, catalogue: bool = False) -> Backend:
        # The scripted model is no catalogue model: it was never measured, so every judge runs
        # (and is reported uncalibrated), as for any unknown GGUF or server. catalogue=True
        # keeps the real resolution (which catalogue model the command would have run).
        def resolve(spec: ModelSpec, fallback: bool = True) -> tuple[ModelSpec, ModelChoice]:
            return spec, ModelChoice(spec.spec, backend.name, "file")

        for module in (taxonbot.cli.preview, taxonbot.cli.generate):
            monkeypatch.setattr(module, "open_model", lambda spec: backend)
            if not catalogue:
                monkeypatch.setattr(module, "resolve", resolve)
        return backend

    yield install
