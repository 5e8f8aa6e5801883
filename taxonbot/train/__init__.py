"""Training core of `taxonbot build`: chat data to token rows, mixing, packing, the phase loop.

- `data`: chat samples (train.jsonl) to token ids, labels only on assistant turns
- `packing`: samples bin-packed into rows with restarting position_ids; the padded baseline
- `mixing`: phase 1 = knowledge, phase 2 = skills + replay of knowledge and previous build
- `config`: `TrainConfig` (read from JSON by `TrainConfig.from_mapping`) and `TrainResult`
- `loop`: `train_phase`, on accelerate (one process, or torchrun / accelerate launch)
- `phaserun`: `PhaseRun`, the state of one phase while it runs (model, optimizer, steps, saves)
- `launch` (the parent: `launch_phase`) and `phase` (the child, `python -m taxonbot.train.phase`):
  one phase in the processes a launcher starts
- `parallel`: the model whole in each process (accelerate, DDP) or sharded (torch FSDP2)
- `order`, `rows`, `checkpoint`, `progress`, `quiet`: its parts
"""

from taxonbot.errors import CannotRun


class TrainError(CannotRun):
    """Bad input or a state training cannot go on from; the message says what to do."""
