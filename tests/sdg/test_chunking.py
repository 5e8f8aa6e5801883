"""Knowledge documents cut into chunks that fit the generator's prompt, with some overlap so a
fact on a boundary is whole in at least one chunk."""

from __future__ import annotations

from itertools import pairwise

import pytest

from taxonbot.runtime.base import estimate_tokens
from taxonbot.sdg.chunking import chunk_text
from tests.doubles.docmirror import FIXTURES


def words(text: str) -> int:
    """A tokenizer stand-in that is easy to reason about: one token per word."""
    return len(text.split())


def paragraph(name: str, length: int) -> str:
    return " ".join(f"{name}{i}" for i in range(length))


def in_order(chunks: list[str]) -> list[str]:
    """Every word of the chunks, overlaps removed: what a reader of all chunks has seen."""
    seen: list[str] = []
    for chunk in chunks:
        for word in chunk.split():
            if word not in seen:
                seen.append(word)
    return seen


@pytest.mark.parametrize("text", ["", "   ", "\n\n\n", "\r\n\r\n  \t"])
def test_an_empty_document_has_no_chunks(text: str) -> None:
    assert chunk_text(text, count=words) == []


def test_a_short_document_is_one_chunk_with_its_paragraphs_and_tidy_whitespace() -> None:
    text = "Evaporation   turns water\ninto vapor.\r\n\r\nPlants   transpire."
    assert chunk_text(text, max_tokens=50, count=words) == [
        "Evaporation turns water into vapor.\n\nPlants transpire."
    ]


@pytest.mark.parametrize(("max_tokens", "overlap"), [(10, 3), (25, 6), (40, 0), (12, 11)])
def test_no_chunk_is_larger_than_max_tokens_as_the_counter_counts(
    max_tokens: int, overlap: int
) -> None:
    text = "\n\n".join(paragraph(f"p{n}w", length) for n, length in enumerate([3, 9, 30, 7, 2, 18]))
    chunks = chunk_text(text, max_tokens=max_tokens, overlap_tokens=overlap, count=words)
    assert chunks
    assert max(words(c) for c in chunks) <= max_tokens
    assert in_order(chunks) == text.split()  # nothing lost, nothing reordered


def test_consecutive_chunks_overlap_by_the_tail_of_the_previous_one() -> None:
    text = "\n\n".join(paragraph(f"p{n}w", 4) for n in range(6))
    chunks = chunk_text(text, max_tokens=10, overlap_tokens=3, count=words)
    assert len(chunks) > 2
    for before, after in pairwise(chunks):
        shared = set(before.split()) & set(after.split())
        assert shared and after.split()[: len(shared)] == before.split()[-len(shared) :]
        assert len(shared) <= 3


def test_a_paragraph_longer_than_a_chunk_is_cut_at_words_and_still_overlaps() -> None:
    long = paragraph("w", 25)
    chunks = chunk_text(long, max_tokens=10, overlap_tokens=3, count=words)
    assert len(chunks) >= 3
    assert max(words(c) for c in chunks) <= 10
    assert in_order(chunks) == long.split()
    for before, after in pairwise(chunks):
        assert before.split()[-1] in after.split()  # the cut is covered from both sides


def test_without_overlap_chunks_partition_the_text() -> None:
    text = "\n\n".join(paragraph(f"p{n}w", 6) for n in range(5))
    chunks = chunk_text(text, max_tokens=13, overlap_tokens=0, count=words)
    assert sum(words(c) for c in chunks) == words(text)


def test_the_word_estimate_is_used_when_the_backend_has_no_tokenizer() -> None:
    assert estimate_tokens("") == 1
    assert estimate_tokens(paragraph("w", 100)) == 131
    water = (FIXTURES / "water-cycle" / "docs" / "water_cycle.md").read_text(encoding="utf-8")
    chunks = chunk_text(water)
    assert len(chunks) > 1
    assert max(estimate_tokens(c) for c in chunks) <= 320


def test_a_document_line_without_spaces_still_becomes_prompt_sized_chunks() -> None:
    image = "![chart](data:image/png;base64," + "iVBORw0KGgo" * 6000 + ")"
    chunks = chunk_text(f"Rain falls.\n\n{image}\n\nRivers flow.")
    assert max(len(c) for c in chunks) <= 320 * 8
