"""Training core of `taxonbot build`: chat data to token rows, mixing, packing, the phase loop.

- `data`: chat samples (train.jsonl) to token ids, labels only on assistant turns
- `packing`: samples bin-packed into rows with restarting position_ids; the padded baseline
- `mixing`: phase 1 = knowledge, phase 2 = skills + replay of knowledge and previous build
- `config`: `TrainConfig` and `TrainResult`
- `loop`: `train_phase`, on accelerate (one process, or torchrun / accelerate launch)
- `parallel`: the model whole in each process (accelerate, DDP) or sharded (torch FSDP2)
- `order`, `rows`, `checkpoint`, `progress`, `quiet`: its parts
- `tiny`: a tiny random Llama with an offline-trained tokenizer, for tests
"""


class TrainError(Exception):
    """Bad input or a state training cannot go on from; the message says what to do."""
