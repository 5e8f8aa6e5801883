"""What a person sees: one redrawn line on a terminal, a few plain lines in a CI log."""

from __future__ import annotations

import io

import pytest

from taxonbot.train.config import TrainConfig
from taxonbot.train.progress import ProgressDisplay, StepReport

pytestmark = pytest.mark.model  # needs the model stack: the full tier only


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def report(step: int, elapsed: float) -> StepReport:
    return StepReport(step, 4, 2.5, 1e-5, 1234.0, elapsed, None)


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    screen = Terminal()
    display = ProgressDisplay(screen)
    for step in range(1, 5):
        display.step(report(step, 10.0 * step))
    text = screen.getvalue()
    assert text.count("\r") == 4 and text.count("\n") == 1 and text.endswith("\n")
    assert "step 4/4  loss 2.5000  lr 1.00e-05  1,234 tokens/s  elapsed 0:40  ETA 0:00" in text


def test_a_log_gets_plain_lines_now_and_then_and_notes_on_their_own_line() -> None:
    log = io.StringIO()
    display = ProgressDisplay(log, every_s=15)
    for step in range(1, 5):
        display.step(report(step, 10.0 * step))
    display.note("resuming from x")
    lines = log.getvalue().splitlines()
    assert [line.split()[1] for line in lines[:-1]] == ["1/4", "3/4", "4/4"]
    assert "ETA 0:10" in lines[1]  # 30 s for 3 steps, one to go
    assert lines[-1] == "taxonbot train: resuming from x"
    assert "\r" not in log.getvalue()


def test_settings_are_checked_all_at_once() -> None:
    problems = TrainConfig(grad_accum=0, warmup_ratio=1.0, max_steps=0, on_long="cut").problems()  # type: ignore[arg-type]
    assert problems == [
        "grad_accum must be at least 1",
        "warmup_ratio must be in [0, 1)",
        "max_steps must be at least 1",
        'on_long must be "drop" or "truncate"',
    ]
    assert TrainConfig().problems() == []
