"""`PhaseRun`: one training phase while it runs (see loop.py for what a phase computes).

It holds the accelerate state, the model (whole or sharded, `parallel.py`), the optimizer and
schedule, the history of the steps; it resumes from the newest good checkpoint, takes optimizer
steps (with the distillation loss where samples ask for it), writes checkpoints and the final
folder atomically (`checkpoint.py`). `train_phase` (loop.py) drives it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from taxonbot.diskwrite import disk_error
from taxonbot.train import TrainError
from taxonbot.train.checkpoint import FOLDER as CHECKPOINTS
from taxonbot.train.checkpoint import CheckpointProblem, CheckpointStore, fsync_tree, remove
from taxonbot.train.config import RESULT_FILE, TrainConfig, TrainResult
from taxonbot.train.order import DataOrder
from taxonbot.train.packing import PackedRow
from taxonbot.train.progress import Progress, ProgressDisplay, Silent, StepReport
from taxonbot.train.quiet import quiet_accelerate, quiet_transformers
from taxonbot.train.rows import RowTensors, collate


class PhaseRun:
    """The state of one phase while it runs; `train_phase` drives it."""

    def __init__(
        self, model_dir: Path, config: TrainConfig, out_dir: Path, progress: Progress | None
    ) -> None:
        from accelerate import Accelerator

        self.model_dir, self.config, self.out_dir = model_dir, config, out_dir
        import torch

        from taxonbot.train.parallel import choose

        # `accelerate launch --use_fsdp` asks for sharding through this variable. We shard
        # ourselves (parallel.py); left set, accelerate would wrap the model a second time on
        # GPUs and transformers would load the weights on the main process only.
        asked = os.environ.pop("ACCELERATE_USE_FSDP", "").lower() in ("true", "1")
        fsdp = config.fsdp or asked

        # The schedule counts optimizer steps, so it must step once per optimizer step,
        # not once per process as accelerate does by default. Without a GPU, accelerate
        # joins the processes of torchrun only when told cpu=True (accelerate 1.15
        # `PartialState._prepare_backend`); otherwise each would train alone on all the data.
        # accelerate keeps one AcceleratorState per process and refuses a second phase in the
        # same process that asks another precision; the processes' group (PartialState) stays.
        from accelerate.state import AcceleratorState

        AcceleratorState._reset_state()
        self.accelerator = Accelerator(
            mixed_precision=config.mixed_precision,
            step_scheduler_with_optimizer=False,
            cpu=not torch.accelerator.is_available(),
        )
        launched = os.environ.get("WORLD_SIZE", "1")
        if launched.isdigit() and int(launched) != self.processes:
            raise TrainError(
                f"the launcher started {launched} processes but accelerate joined "
                f"{self.processes}; launch with `accelerate launch` or `torchrun` on a machine "
                "where all of them see the same kind of device"
            )
        self.store = CheckpointStore(out_dir / CHECKPOINTS, config.keep_checkpoints)
        self.show: Progress = progress or (ProgressDisplay() if self.main else Silent())
        self.parallel = choose(self.accelerator, fsdp, config.mixed_precision)
        # How the processes share the work, for the record: "FSDP", "MULTI_GPU" (DDP), "NO"...
        self.distributed = self.parallel.name
        if fsdp and self.distributed != "FSDP":
            self.show.note("FSDP was asked for but there is one process: nothing to shard")
        # What the weights are computed in, for the record: accelerate's fp16 (autocast and a
        # gradient scaler) exists on GPUs only and leaves a CPU run in float32.
        self.precision = {"no": "fp32", "bf16": "bf16", "fp16": "fp16"}[config.mixed_precision]
        if self.precision == "fp16" and self.accelerator.device.type == "cpu":
            self.precision = "fp32"
            self.show.note(
                "fp16 needs a GPU (autocast with a gradient scaler); on this CPU "
                "the phase trains in float32 (bf16 works on CPUs)"
            )
        self.history: dict[str, Any] = {
            "losses": [],
            "learning_rates": [],
            "step_seconds": [],
            "tokens_seen": 0,
            "useful_tokens": 0,
            "supervised_tokens": 0,
        }
        self.reference: Any = None  # the distillation target's model, loaded by build()
        self.distills = False  # whether any row has distilled tokens (train_phase says)

    @property
    def main(self) -> bool:
        return bool(self.accelerator.is_main_process)

    @property
    def processes(self) -> int:
        return int(self.accelerator.num_processes)

    def build(self, total_steps: int) -> None:
        import torch
        from accelerate.utils import set_seed
        from transformers import get_cosine_schedule_with_warmup

        set_seed(self.config.seed)
        model = self.load(self.model_dir, torch.float32)
        if self.config.distill_from and self.distills and self.reference is None:
            # Half the memory where the phase computes in bf16 anyway; CPUs keep float32.
            dtype = torch.bfloat16 if self.precision == "bf16" else torch.float32
            self.reference = self.load(Path(self.config.distill_from), dtype, "reference ")
            self.reference.requires_grad_(False).eval().to(self.accelerator.device)
        model = self.parallel.shard(model)  # before the optimizer: sharding swaps the parameters
        decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
        rest = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
        groups = [{"params": decay, "weight_decay": self.config.weight_decay}]
        groups += [{"params": rest, "weight_decay": 0.0}] if rest else []
        optimizer = torch.optim.AdamW(groups, lr=self.config.learning_rate)
        # Floor: a short phase (fewer steps than 1/warmup_ratio) gets no warm-up step at lr 0.
        warmup = math.floor(self.config.warmup_ratio * total_steps)
        scheduler = get_cosine_schedule_with_warmup(optimizer, warmup, total_steps)
        prepared = self.parallel.prepare(model, optimizer, scheduler)
        self.model, self.optimizer, self.scheduler = prepared
        self.model.train()

    def load(self, folder: Path, dtype: Any, what: str = "") -> Any:
        from transformers import AutoModelForCausalLM

        extra = {}
        if self.config.attn_implementation:
            extra["attn_implementation"] = self.config.attn_implementation
        if not (folder / "config.json").is_file():
            raise TrainError(f"the {what}model {folder} is not a Hugging Face model folder")
        try:
            with quiet_transformers():
                return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, **extra)
        except (OSError, ValueError) as error:
            raise TrainError(f"{folder}: cannot load the {what}model ({error})") from None

    def rebuild(self, total_steps: int) -> None:
        """After a failed load left the model half-overwritten: start again from the base."""
        self.parallel.free(self.model, self.optimizer, self.scheduler)
        self.build(total_steps)

    def resume(self, stamp: str, total_steps: int) -> int:
        """The step to go on from (0 when no usable checkpoint), with model and history loaded."""
        tried = False
        for folder in self.store.complete():
            tried = True
            try:
                state = self.store.check(folder)
            except CheckpointProblem as problem:
                self.show.note(f"checkpoint {folder} is unusable: {problem}; trying an older one")
                continue
            if state.get("fingerprint") != stamp:
                # Not this run's state (new data, settings or base): going on from it would
                # be neither this run nor that one, so the only exact resume is from zero.
                self.show.note(
                    f"checkpoint {folder} is from another run (its data, settings or base "
                    "model differ); starting over"
                )
                if self.main:
                    self.store.clear_all()
                self.accelerator.wait_for_everyone()
                return 0
            try:
                self.parallel.load(folder, self.model, self.optimizer, self.scheduler)
            except Exception as error:  # any failure to load means this checkpoint is damaged
                self.show.note(f"checkpoint {folder} does not load ({error}); trying an older one")
                self.rebuild(total_steps)
                continue
            self.history = state["history"]
            self.show.note(f"resuming from {folder} (step {state['step']}/{total_steps})")
            return int(state["step"])
        if tried:
            self.show.note("no usable checkpoint; starting from step 0")
        return 0

    def step(self, tensors: Sequence[RowTensors], batches: list[list[int]], weight: float) -> float:
        """One optimizer step over this process's micro-batches; the step's mean loss."""
        import torch

        accelerator, model, parallel = self.accelerator, self.model, self.parallel
        total = torch.zeros((), device=accelerator.device)
        for index, batch in enumerate(batches):
            last = index == len(batches) - 1
            # Gradients are exchanged once per step, on the last micro-batch.
            with parallel.syncing(model, last):
                inputs = collate([tensors[i] for i in batch], accelerator.device)
                soft = inputs.pop("distill", None)
                if soft is not None and self.reference is not None:
                    loss = self.distilled_loss(inputs, soft, weight)
                else:
                    # use_cache=False: with a cache, transformers does not look for packed
                    # sequences in position_ids and the samples of a row would see each other.
                    loss = model(**inputs, use_cache=False, num_items_in_batch=weight).loss
                parallel.backward(loss)
            total += loss.detach()
        if self.config.max_grad_norm:
            parallel.clip(model, self.config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        if accelerator.num_processes > 1:
            total = accelerator.reduce(total, reduction="mean")
        return float(total.item())

    def distilled_loss(self, inputs: dict[str, Any], soft: Any, weight: float) -> Any:
        """Cross-entropy on the written tokens plus KL(reference ‖ model) on the distilled
        ones, each summed over its tokens and divided by the step's supervised tokens."""
        import torch
        import torch.nn.functional as F

        from taxonbot.train.data import IGNORE

        labels = inputs["labels"].masked_fill(soft, IGNORE)
        ids, positions = inputs["input_ids"], inputs["position_ids"]
        out = self.model(
            input_ids=ids,
            position_ids=positions,
            labels=labels,
            use_cache=False,
            num_items_in_batch=weight,
        )
        with torch.no_grad():
            target = self.reference(input_ids=ids, position_ids=positions, use_cache=False).logits
        where = soft[:, 1:]  # token t is predicted by the logits at t - 1
        student = out.logits[:, :-1][where].float().log_softmax(-1)
        teacher = target[:, :-1][where].float().log_softmax(-1)
        kl = F.kl_div(student, teacher, log_target=True, reduction="sum")
        return out.loss + kl / weight

    def train(
        self, rows: Sequence[PackedRow], order: DataOrder, first: int, total: int, stamp: str
    ) -> float:
        """Steps first..total-1; useful tokens per second, the first (warm-up) step left out."""
        tensors = [RowTensors.of(row) for row in rows]
        history, process, every = self.history, self.accelerator.process_index, 0
        began = time.monotonic()
        warm_at, warm_tokens = began, 0
        for step in range(first, total):
            step_began = time.monotonic()
            seen, useful, supervised = step_tokens(order, rows, step)
            history["learning_rates"].append(float(self.scheduler.get_last_lr()[0]))
            batches = order.micro_batches(step, process)
            loss = self.step(tensors, batches, supervised / self.processes)
            history["losses"].append(loss)
            history["step_seconds"].append(time.monotonic() - step_began)
            history["tokens_seen"] += seen
            history["useful_tokens"] += useful
            history["supervised_tokens"] += supervised
            if step == first:
                warm_at = time.monotonic()
            else:
                warm_tokens += useful
            saved = None
            every = self.config.checkpoint_every
            if every and (step + 1) % every == 0 and step + 1 < total:
                position = {"rows_consumed": (step + 1) * order.rows_per_step}
                saved = self.checkpoint(step + 1, {"fingerprint": stamp, **position})
            now = time.monotonic()
            rate = warm_tokens / (now - warm_at) if warm_tokens else useful / (now - began)
            lr = history["learning_rates"][-1]
            self.show.step(StepReport(step + 1, total, loss, lr, rate, now - began, saved))
        return rate if total > first else 0.0

    def checkpoint(self, step: int, state: dict[str, Any]) -> Path:
        temp = self.store.temp_dir(step)
        if self.main:
            shutil.rmtree(temp, ignore_errors=True)
        self.accelerator.wait_for_everyone()
        try:
            with quiet_accelerate():
                self.parallel.save(temp, self.model, self.optimizer, self.scheduler)
            self.accelerator.wait_for_everyone()
            path = (
                self.store.seal(temp, step, {**state, "history": self.history})
                if self.main
                else temp
            )
        except OSError as error:
            shutil.rmtree(temp, ignore_errors=True)
            raise self.store.cannot_write(error, step) from None
        self.accelerator.wait_for_everyone()
        return path

    def save_final(self, tokenizer: Any, result: TrainResult) -> Path:
        final = self.out_dir / "final"
        state_dict = self.parallel.full_state_dict(self.model)  # every process takes part
        if self.main:
            temp = self.out_dir / f".tmp-final-{os.getpid()}"
            shutil.rmtree(temp, ignore_errors=True)
            try:
                temp.mkdir()
                with quiet_transformers():
                    self.parallel.unwrap(self.model).save_pretrained(temp, state_dict=state_dict)
                    tokenizer.save_pretrained(temp)
                result.final_dir = str(final)
                (temp / RESULT_FILE).write_text(json.dumps(result.to_dict(), indent=1), "utf-8")
                fsync_tree(temp)
                remove(final)
                os.replace(temp, final)
            except OSError as error:
                again = "run again with resume (training is not repeated past the last checkpoint)"
                raise disk_error(error, final, again) from None
            finally:
                shutil.rmtree(temp, ignore_errors=True)
            self.store.clear_all()
            with contextlib.suppress(OSError):
                self.store.root.rmdir()  # empty now: checkpoints are only for resuming
        self.accelerator.wait_for_everyone()
        return final


def step_tokens(order: DataOrder, rows: Sequence[PackedRow], step: int) -> tuple[int, int, int]:
    """(positions fed incl. padding, real tokens, supervised tokens) of one step, all processes."""
    seen = 0
    for process in range(order.processes):
        for batch in order.micro_batches(step, process):
            seen += len(batch) * max(len(rows[i]) for i in batch)
    chosen = [rows[i] for i in order.step_rows(step)]
    return seen, sum(map(len, chosen)), sum(row.supervised for row in chosen)
