"""How the processes of a phase hold the model: whole in each (accelerate) or sharded (FSDP2).

`Replicated` is accelerate's way: one process, or data parallel (DDP) across GPUs, nodes or
CPU processes. `Sharded` is torch's FSDP2 (`fully_shard`): every decoder layer's parameters,
gradients and optimizer state are split across the processes, gathered for a layer's forward
and backward only. It is ours rather than accelerate's FSDP plugin because accelerate 1.15
shards only on GPU-like devices, while `fully_shard` runs the same code over NCCL on GPUs and
over gloo on CPUs — so the sharded path the GPU cluster runs is the one our CPU tests run.

Checkpoints of a sharded run are torch distributed checkpoints (each process writes its own
shards: `__R_0.distcp` and `.metadata`), with the scheduler and every process's random state
beside them; the final model is gathered whole on the main process and saved as usual. Either
way a save the disk refuses (full, over quota) raises the disk's OSError (`disk_refusal`), which
the checkpoint turns into one sentence (taxonbot.diskwrite.DiskError).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import pickle
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taxonbot.train import TrainError

SCHEDULER = "scheduler.pt"
FULL = (errno.ENOSPC, errno.EDQUOT)
PROBE = ".disk-probe"  # written and removed in a checkpoint folder whose save failed
PROBE_BYTES = 4096  # one block of a usual file system
RUST_ERROR = "SafetensorError"  # its message ends in Rust's io::Error: "... (os error 28)"
RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


class Replicated:
    """accelerate's preparation, state files and gradient sync; every process has the model."""

    def __init__(self, accelerator: Any) -> None:
        self.accelerator = accelerator
        # For the record: "NO" (one process), "MULTI_GPU" or "MULTI_CPU" (data parallel)...
        self.name = str(accelerator.distributed_type).split(".")[-1]

    def shard(self, model: Any) -> Any:
        """The model to build the optimizer on (accelerate wraps it later, in `prepare`)."""
        return model

    def prepare(self, model: Any, optimizer: Any, scheduler: Any) -> tuple[Any, Any, Any]:
        prepared = self.accelerator.prepare(model, optimizer, scheduler)
        return prepared[0], prepared[1], prepared[2]

    def free(self, *objects: Any) -> None:
        self.accelerator.free_memory(*objects)

    def syncing(self, model: Any, sync: bool) -> contextlib.AbstractContextManager[Any]:
        """Exchange gradients in this backward pass only when `sync` (the step's last one)."""
        return contextlib.nullcontext() if sync else self.accelerator.no_sync(model)

    def backward(self, loss: Any) -> None:
        self.accelerator.backward(loss)

    def clip(self, model: Any, max_norm: float) -> None:
        self.accelerator.clip_grad_norm_(model.parameters(), max_norm)

    def save(self, folder: Path, model: Any, optimizer: Any, scheduler: Any) -> None:
        with disk_refusal(folder):  # accelerate writes with torch.save and safetensors
            self.accelerator.save_state(str(folder))

    def load(self, folder: Path, model: Any, optimizer: Any, scheduler: Any) -> None:
        self.accelerator.load_state(str(folder))

    def full_state_dict(self, model: Any) -> dict[str, Any]:
        """The whole model's weights on the main process; every process must call it."""
        return dict(self.accelerator.get_state_dict(model))

    def unwrap(self, model: Any) -> Any:
        return self.accelerator.unwrap_model(model)

    def held(self, model: Any, optimizer: Any) -> dict[str, Any]:
        """What this process holds of the model, against the whole: the proof of sharding.

        `state_mib` counts the weights and the optimizer's moments this process keeps between
        steps (gradients come and go within a step)."""
        from torch.distributed.tensor import DTensor

        def here(tensor: Any) -> Any:
            return tensor.to_local() if isinstance(tensor, DTensor) else tensor

        total = local = size = 0
        for param in model.parameters():
            total += param.numel()
            local += here(param).numel()
            size += here(param).nbytes
            for value in optimizer.state.get(param, {}).values():
                if hasattr(value, "nbytes") and value.dim() > 0:
                    size += here(value).nbytes
        return {
            "parameters": total,
            "parameters_per_process": local,
            "state_mib": round(size / 2**20, 1),
        }


class Sharded(Replicated):
    """FSDP2 over the launcher's processes (NCCL on GPUs, gloo on CPUs)."""

    def __init__(self, accelerator: Any, mixed_precision: str) -> None:
        super().__init__(accelerator)
        self.name = "FSDP"
        if mixed_precision == "fp16":
            raise TrainError(
                "sharded training (FSDP) runs in full precision or bf16: fp16 would need a "
                'gradient scaler across the shards; set "mixed_precision": "bf16" (or "no")'
            )
        self.mixed_precision = mixed_precision

    def shard(self, model: Any) -> Any:
        import torch
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard

        device = self.accelerator.device
        mesh = init_device_mesh(device.type, (int(self.accelerator.num_processes),))
        policy = MixedPrecisionPolicy()
        if self.mixed_precision == "bf16":
            policy = MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32)
        model.to(device)
        # The units: the blocks transformers itself never splits across devices (Llama's
        # decoder layers), then the rest (embeddings, final norm, tied head) as the root unit.
        units = set(getattr(model, "_no_split_modules", None) or ())
        for module in model.modules():
            if type(module).__name__ in units:
                fully_shard(module, mesh=mesh, mp_policy=policy)
        fully_shard(model, mesh=mesh, mp_policy=policy)
        return model

    def prepare(self, model: Any, optimizer: Any, scheduler: Any) -> tuple[Any, Any, Any]:
        return model, optimizer, scheduler  # sharded and built on the shards already

    def free(self, *objects: Any) -> None:
        import gc

        del objects
        gc.collect()

    @contextlib.contextmanager
    def _syncing(self, model: Any, sync: bool) -> Iterator[None]:
        # Without sync, each process keeps its unsharded gradients and reduce-scatters them
        # with the last micro-batch's: one exchange per optimizer step, as with DDP's no_sync.
        model.set_requires_gradient_sync(sync)
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)

    def syncing(self, model: Any, sync: bool) -> contextlib.AbstractContextManager[Any]:
        return self._syncing(model, sync)

    def backward(self, loss: Any) -> None:
        loss.backward()

    def clip(self, model: Any, max_norm: float) -> None:
        import torch
        from torch.distributed.tensor import DTensor

        params = [p for p in model.parameters() if p.grad is not None]
        total = torch.nn.utils.get_total_norm([p.grad for p in params], foreach=True)
        if isinstance(total, DTensor):  # each process holds the norm of its shards
            total = total.full_tensor()
        torch.nn.utils.clip_grads_with_norm_(params, max_norm, total, foreach=True)

    def save(self, folder: Path, model: Any, optimizer: Any, scheduler: Any) -> None:
        import torch
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict

        weights, moments = get_state_dict(model, optimizer)
        with disk_refusal(folder):
            dcp.save({"model": weights, "optimizer": moments}, checkpoint_id=str(folder))
        if self.accelerator.is_main_process:
            # Serialized in memory (1.5 KB for our two parameter groups, whatever the model
            # size), written by Python: a full disk is then the OSError itself.
            serialized = io.BytesIO()
            torch.save(scheduler.state_dict(), serialized)
            (folder / SCHEDULER).write_bytes(serialized.getvalue())
        with open(folder / self.random_file(), "wb") as handle:
            pickle.dump(random_states(), handle)

    def load(self, folder: Path, model: Any, optimizer: Any, scheduler: Any) -> None:
        import torch
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

        weights, moments = get_state_dict(model, optimizer)
        dcp.load({"model": weights, "optimizer": moments}, checkpoint_id=str(folder))  # in place
        set_state_dict(model, optimizer, model_state_dict=weights, optim_state_dict=moments)
        scheduler.load_state_dict(torch.load(folder / SCHEDULER, weights_only=True))
        with open(folder / self.random_file(), "rb") as handle:
            set_random_states(pickle.load(handle))  # noqa: S301 - our own file, from this run

    def random_file(self) -> str:
        return f"random_states_{int(self.accelerator.process_index)}.pkl"

    def full_state_dict(self, model: Any) -> dict[str, Any]:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        options = StateDictOptions(full_state_dict=True, cpu_offload=True)
        state = dict(get_model_state_dict(model, options=options))
        # A tied parameter (Llama's embeddings and head) is gathered once per name, as two
        # tensors; made one again, save_pretrained stores it once, as it does unsharded.
        first: dict[int, str] = {}
        for name, param in model.named_parameters(remove_duplicate=False):
            origin = first.setdefault(id(param), name)
            if origin != name and origin in state and name in state:
                state[name] = state[origin]
        return state

    def unwrap(self, model: Any) -> Any:
        return model


@contextlib.contextmanager
def disk_refusal(folder: Path) -> Iterator[None]:
    """A save into `folder` that the disk refused (ENOSPC, EDQUOT) raises the disk's OSError,
    whatever the library that wrote made of it (torch 2.13, safetensors 0.8, seen on a full
    tmpfs):

    - torch.save to a path writes in C++: RuntimeError ("[enforce fail at inline_container.cc]
      ... unexpected pos"), with no OSError anywhere in it;
    - torch.save to a Python file: the same RuntimeError, the OSError in its `__context__`;
    - safetensors: SafetensorError, the errno only in its message, in the form Rust's
      io::Error always prints ("No space left on device (os error 28)"); it removes the partial
      file, so the disk has room again afterwards;
    - torch.distributed.checkpoint: CheckpointException (a BaseException) holding each process's
      error in `failures`; those of other processes arrive pickled, without `__context__`.

    An OSError of a full disk in that chain, or Rust's "(os error N)", is the answer. Failing
    that, one block written into `folder`, where torch's partial files still lie, asks the disk
    itself. Any other failure is raised as it was.
    """
    try:
        yield
    except OSError:
        raise
    except BaseException as error:
        if not (isinstance(error, Exception) or _is_checkpoint_exception(error)):
            raise  # KeyboardInterrupt, SystemExit
        refused = _refusal_in(error) or _probe(folder)
        if refused is None:
            raise
        # A fresh error: its filename would name the probe or a file in the temporary folder;
        # without one, the checkpoint's message names the checkpoint.
        raise OSError(refused.errno, refused.strerror) from error


def _is_checkpoint_exception(error: BaseException) -> bool:
    from torch.distributed.checkpoint.api import CheckpointException

    return isinstance(error, CheckpointException)


def _refusal_in(error: BaseException) -> OSError | None:
    """The first full-disk OSError among `error`, its causes and contexts, and the errors of a
    CheckpointException's processes (a SafetensorError's errno made one)."""
    seen: set[int] = set()
    waiting: list[BaseException | None] = [error]
    while waiting:
        current = waiting.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in FULL:
            return current
        rust = RUST_OS_ERROR.search(str(current)) if type(current).__name__ == RUST_ERROR else None
        if rust is not None and int(rust[1]) in FULL:
            return OSError(int(rust[1]), os.strerror(int(rust[1])))
        waiting += [current.__cause__, current.__context__]
        failures = getattr(current, "failures", None)
        if isinstance(failures, dict):
            waiting += [f[0] for f in failures.values() if isinstance(f, tuple) and f]
    return None


def _probe(folder: Path) -> OSError | None:
    """The disk's OSError if it refuses one more block in `folder` now; None if it takes it."""
    probe = folder / PROBE
    try:
        with open(probe, "wb") as handle:
            handle.write(bytes(PROBE_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        return error if error.errno in FULL else None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return None


def random_states() -> dict[str, Any]:
    import numpy
    import torch

    states: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": numpy.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: dict[str, Any]) -> None:
    import numpy
    import torch

    random.setstate(states["python"])
    numpy.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def choose(accelerator: Any, fsdp: bool, mixed_precision: str) -> Replicated:
    """Sharded when FSDP is asked and there are processes to shard over."""
    if fsdp and int(accelerator.num_processes) > 1:
        return Sharded(accelerator, mixed_precision)
    return Replicated(accelerator)
