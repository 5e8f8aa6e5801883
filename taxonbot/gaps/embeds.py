"""What the gap analyses need of an embedder (taxonbot.gaps.embed.Embedder is the real one):
typed here once, so novelty, overlap and the build's evaluation take fakes without loading a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np


class Embeds(Protocol):
    """Texts -> one unit-length float32 row each, so a dot product is a cosine."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class CachedEmbeds(Embeds, Protocol):
    """An embedder whose vectors may be cached: `model_id` names the cache folder (a change in
    how vectors are made changes it), `dimension` is the length of each row."""

    model_id: str
    dimension: int
