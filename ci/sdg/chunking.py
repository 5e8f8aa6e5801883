"""Split knowledge documents into overlapping chunks that fit the generator's prompt.

Token-aware: sizes are counted with the model's own tokenizer when the backend offers one
(`count_tokens`), else estimated from words (≈ 1.3 tokens per English word). Paragraphs stay
whole where they fit; a paragraph longer than a chunk is cut at word boundaries.
"""

from __future__ import annotations

from collections.abc import Callable

TokenCounter = Callable[[str], int]
DEFAULT_CHUNK_TOKENS = 320
DEFAULT_OVERLAP_TOKENS = 48


def estimate_tokens(text: str) -> int:
    return int(len(text.split()) * 1.3) + 1


def chunk_text(
    text: str,
    max_tokens: int = DEFAULT_CHUNK_TOKENS,
    overlap_tokens: int = DEFAULT_OVERLAP_TOKENS,
    count: TokenCounter = estimate_tokens,
) -> list[str]:
    pieces = [p for part in paragraphs(text) for p in split_long(part, max_tokens, count)]
    chunks: list[str] = []
    current: list[str] = []
    size = 0  # running token count: counting each candidate chunk anew would be quadratic
    for piece in pieces:
        piece_size = count(piece) + 1
        if current and size + piece_size > max_tokens:
            chunks.append("\n\n".join(current))
            current = overlap(current, overlap_tokens, count)
            size = sum(count(p) + 1 for p in current)
        current.append(piece)
        size += piece_size
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


def split_long(paragraph: str, max_tokens: int, count: TokenCounter) -> list[str]:
    if count(paragraph) <= max_tokens:
        return [paragraph]
    out: list[str] = []
    current: list[str] = []
    size = 0
    for word in paragraph.split():
        word_size = count(word)
        if current and size + word_size > max_tokens:
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
