"""`taxonbot build`: a versioned community build from a taxonomy commit (run.py)."""

from taxonbot.errors import CannotRun


class BuildError(CannotRun):
    """The build cannot go on; the message names what and what to do."""
