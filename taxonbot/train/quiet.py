"""Library output that would break our one-line progress display, silenced for a moment."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """transformers' tqdm bars (loading, writing shards); put back as they were afterwards."""
    from transformers.utils import logging as hf_logging

    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


@contextlib.contextmanager
def quiet_accelerate() -> Iterator[None]:
    """save_state warns that it dropped lm_head.weight, tied to the embeddings: as it should."""
    logger = logging.getLogger("accelerate.utils.other")
    was = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(was)
