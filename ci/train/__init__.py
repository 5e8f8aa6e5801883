"""Training core of `taxonbot build`: chat data to token rows, mixing, packing, the phase loop.

Modules: `data` (chat samples to token ids and labels), `packing` (bin-packed rows, padded
baseline), `mixing` (phase 1 / phase 2 with replay), `loop` (`train_phase` on accelerate),
`checkpoint` (atomic, resumable), `tiny` (a tiny random Llama for tests).
"""


class TrainError(Exception):
    """Bad input or a state training cannot go on from; the message says what to do."""
