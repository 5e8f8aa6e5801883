"""The error vocabulary every command shares: an exception carries the exit code it means.

Library code raises; `taxonbot.cli.main` catches a `TaxonbotError` that a command did not handle
and turns it into one line, `taxonbot <command>: <message>`, on stderr and the error's exit code.
Domain errors subclass `Refused` (the input was read and the answer is no) or `CannotRun` (the
command could not do its job: usage, a missing file, git or model trouble).
"""

from __future__ import annotations

from taxonbot.exits import Exit


class TaxonbotError(Exception):
    """Base of every error a command reports as one line; `exit` is what the process returns."""

    exit: Exit = Exit.CANNOT


class CannotRun(TaxonbotError):
    """The command could not do its job (usage, missing input, git/model/disk trouble)."""

    exit = Exit.CANNOT


class UsageError(CannotRun):
    """The arguments or an input file named on the command line are unusable."""


class Refused(TaxonbotError):
    """The input was read to the end and the answer is no (a refused artifact, a write denied)."""

    exit = Exit.NO
