"""Packing wastes no position on padding and computes what the samples would compute alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taxonbot.train.data import IGNORE, TokenizedSample, encode_samples
from taxonbot.train.packing import bins, pack, pad_batches

pytestmark = pytest.mark.model  # needs the model stack: the full tier only


def fake(length: int, marker: int) -> TokenizedSample:
    return TokenizedSample((marker,) * length, (IGNORE,) + (marker,) * (length - 1))


def test_rows_hold_whole_samples_without_padding() -> None:
    lengths = [50, 10, 90, 33, 67, 5, 100, 41, 59, 1]
    samples = [fake(n, i) for i, n in enumerate(lengths)]
    rows = pack(samples, 100)
    assert sum(map(len, rows)) == sum(lengths)  # not one padding position
    assert all(len(row) <= 100 for row in rows)
    assert len(rows) == 5  # 456 tokens: best-fit decreasing reaches the bound of 5 rows
    seen = []
    for row in rows:
        starts = [i for i, p in enumerate(row.position_ids) if p == 0]
        assert len(starts) == row.samples
        for start, end in zip(starts, [*starts[1:], len(row)], strict=True):
            # positions restart at 0 and count up through exactly one sample
            assert list(row.position_ids[start:end]) == list(range(end - start))
            assert len(set(row.input_ids[start:end])) == 1
            assert row.labels[start] == IGNORE
            seen.append(row.input_ids[start])
    assert sorted(seen) == list(range(len(lengths)))  # each sample exactly once


def test_packing_is_deterministic_and_refuses_a_sample_longer_than_a_row() -> None:
    samples = [fake(n, i) for i, n in enumerate([7, 3, 7, 3, 9])]
    assert pack(samples, 10) == pack(list(samples), 10)
    assert bins([7, 3, 7, 3, 9], 10) == [[4], [0, 1], [2, 3]]
    with pytest.raises(ValueError, match="11 tokens"):
        pack([fake(11, 0)], 10)


def test_padded_batches_pad_to_the_longest_of_each_batch() -> None:
    batches = pad_batches([fake(n, i) for i, n in enumerate([4, 2, 3])], 2, pad_id=0)
    assert [len(b.input_ids[0]) for b in batches] == [4, 3]
    assert batches[0].input_ids[1] == [1, 1, 0, 0]
    assert batches[0].labels[1] == [IGNORE, 1, IGNORE, IGNORE]
    assert (batches[0].real_tokens, batches[0].shape_tokens) == (6, 8)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_a_packed_row_has_the_loss_of_its_samples_run_alone(
    tiny_model: Path, tokenizer: Any, samples: list[dict[str, Any]], attention: str
) -> None:
    """The proof that samples in a row do not see each other (transformers' packed mask)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=attention)
    model.eval()
    encoded = encode_samples(samples, tokenizer, 256).samples
    rows = pack(encoded, 256)
    assert any(row.samples >= 3 for row in rows)

    def loss(ids: Any, labels: Any, positions: Any = None) -> float:
        with torch.no_grad():
            out = model(
                input_ids=torch.tensor([ids]),
                labels=torch.tensor([labels]),
                position_ids=None if positions is None else torch.tensor([positions]),
                use_cache=False,
            )
        return float(out.loss)

    alone = sum(loss(s.input_ids, s.labels) * s.supervised for s in encoded)
    packed = sum(loss(r.input_ids, r.labels, r.position_ids) * r.supervised for r in rows)
    supervised = sum(s.supervised for s in encoded)
    assert supervised == sum(r.supervised for r in rows)
    assert packed / supervised == pytest.approx(alone / supervised, abs=1e-5)
    # and the check has teeth: the same row without restarted positions is a different loss
    row = max(rows, key=lambda r: r.samples)
    crossing = loss(row.input_ids, row.labels)
    assert abs(crossing - loss(row.input_ids, row.labels, row.position_ids)) > 1e-3
