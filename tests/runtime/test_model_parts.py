"""requirements/model-parts.{in,txt} pin the offline default's part wheels; the catalogue says
which wheels make the file. Two files, one list: these tests keep them equal, so a catalogue edit
that changes the offline default cannot leave set-up joining the old model's parts."""

from __future__ import annotations

import re
from pathlib import Path

from taxonbot.runtime.catalogue import default_catalogue

REQUIREMENTS = Path(__file__).resolve().parents[2] / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\#]+)", re.M)


def wanted() -> list[tuple[str, str]]:
    catalogue = default_catalogue()
    entry = catalogue.entry(catalogue.offline_default)
    return [(part.package, part.version) for part in entry.wheels]


def test_the_offline_default_is_made_of_part_wheels() -> None:
    assert len(wanted()) >= 2


def test_model_parts_in_pins_exactly_the_offline_defaults_wheels_in_order() -> None:
    pins = PIN.findall((REQUIREMENTS / "model-parts.in").read_text("utf-8"))
    assert pins == wanted()


def test_the_lock_hashes_every_part_wheel_once() -> None:
    text = (REQUIREMENTS / "model-parts.txt").read_text("utf-8")
    assert PIN.findall(text) == wanted()
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})$", text, re.M)
    assert len(hashes) == len(wanted()) == len(set(hashes))
