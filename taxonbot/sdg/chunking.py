"""Split knowledge documents into overlapping chunks that fit the generator's prompt.

Token-aware: sizes are counted with the TokenCounter given, by default estimated from words
(≈ 1.3 tokens per English word; runtime/base.py). Paragraphs stay whole where they fit; a
paragraph longer than a chunk is cut at word boundaries.
"""

from __future__ import annotations

from taxonbot.runtime.base import TokenCounter, estimate_tokens

DEFAULT_CHUNK_TOKENS = 320
DEFAULT_OVERLAP_TOKENS = 48


def chunk_text(
    text: str,
    max_tokens: int = DEFAULT_CHUNK_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    count: TokenCounter = estimate_tokens,
) -> list[str]:
    # A long paragraph is cut short enough that the overlap carried from its previous piece
    # still fits in front of the next one.
    cut = max(1, max_tokens - max(0, overlap_tokens) - 1)
    pieces = [p for part in paragraphs(text) for p in split_long(part, max_tokens, count, cut)]
    chunks: list[str] = []
    current: list[str] = []
    size = 0  # running token count: counting each candidate chunk anew would be quadratic
    for piece in pieces:
        piece_size = count(piece) + 1
        if current and size + piece_size > max_tokens:
            chunks.append("\n\n".join(current))
            # Only as much overlap as leaves room for this piece: every chunk must fit max_tokens.
            current = overlap(current, min(overlap_tokens, max_tokens - piece_size), count)
            size = sum(count(p) + 1 for p in current)
        current.append(piece)
        size += piece_size
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def split_long(
    paragraph: str, max_tokens: int, count: TokenCounter, cut: int | None = None
) -> list[str]:
    """The paragraph whole if it fits max_tokens, else pieces of at most `cut` tokens."""
    if count(paragraph) <= max_tokens:
        return [paragraph]
    limit = cut or max_tokens
    out: list[str] = []
    current: list[str] = []
    size = 0
    for word in (piece for long in paragraph.split() for piece in _slices(long, limit, count)):
        word_size = count(word)
        if current and size + word_size > limit:
            out.append(" ".join(current))
            current, size = [], 0
        current.append(word)
        size += word_size
    if current:
        out.append(" ".join(current))
    return out


def overlap(previous: list[str], overlap_tokens: int, count: TokenCounter) -> list[str]:
    """The tail of the previous chunk (whole words) that the next chunk starts with."""
    if overlap_tokens <= 0:
        return []
    words = previous[-1].split()
    tail: list[str] = []
    for word in reversed(words):
        if count(" ".join([word, *tail])) > overlap_tokens:
            break
        tail.insert(0, word)
    return [" ".join(tail)] if tail and len(tail) < len(words) else []


def _slices(word: str, limit: int, count: TokenCounter) -> list[str]:
    """A "word" longer than a chunk (a URL, a data: image) is cut into chunk-sized slices."""
    if count(word) <= limit:
        return [word]
    width = max(1, limit * 3)  # characters; a token is rarely shorter than 3 characters
    return [word[i : i + width] for i in range(0, len(word), width)]
