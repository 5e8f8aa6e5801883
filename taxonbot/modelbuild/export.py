"""Export of a build: Hugging Face safetensors + tokenizer, and the quantized GGUF that llama.cpp
loads (the next PR's preview and novelty checks run on it).

Every output is written beside its final place under a `.NAME.partial` name and renamed into
place, so a kill or a full disk leaves the previous output or none, never half of one; a rerun
overwrites the leftovers. torch, transformers and llama_cpp are imported only when used.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taxonbot.modelbuild.converter import Converter, ExportError, find_converter, run_converter
from taxonbot.runtime.base import BackendError
from taxonbot.runtime.gguf import check_gguf

if TYPE_CHECKING:
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["ExportError", "GgufExport", "HfExport", "load_gguf_for_training", "save_hf", "to_gguf"]
GGUF_EXTRA = "gguf==0.19.0"  # transformers reads GGUF through this package


@dataclass(frozen=True)
class ExportedFile:
    name: str
    bytes: int
    sha256: str

    def as_manifest(self) -> dict[str, Any]:
        return {"name": self.name, "bytes": self.bytes, "sha256": self.sha256}


@dataclass(frozen=True)
class HfExport:
    folder: Path
    files: tuple[ExportedFile, ...]
    seconds: float

    def as_manifest(self) -> dict[str, Any]:
        return {
            "format": "huggingface-safetensors",
            "folder": self.folder.name,
            "bytes": sum(f.bytes for f in self.files),
            "files": [f.as_manifest() for f in self.files],
            "seconds": round(self.seconds, 1),
        }


@dataclass(frozen=True)
class GgufExport:
    file: ExportedFile
    quant: str
    architecture: str
    converter: Converter
    f16_bytes: int
    fallback_tensors: int  # tensors llama.cpp quantized to another type than `quant` asks
    convert_seconds: float
    quantize_seconds: float

    def as_manifest(self) -> dict[str, Any]:
        return {
            "format": "gguf",
            **self.file.as_manifest(),
            "quant": self.quant,
            "architecture": self.architecture,
            "f16_bytes": self.f16_bytes,
            "fallback_tensors": self.fallback_tensors,
            "converter": self.converter.as_manifest(),
            "convert_seconds": round(self.convert_seconds, 1),
            "quantize_seconds": round(self.quantize_seconds, 1),
        }


def load_gguf_for_training(
    gguf_path: Path | str,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A GGUF (quantized or not) as a float32 transformers model that trains and saves like any
    other: transformers dequantizes it, and we drop its GGUF quantizer, without which
    save_pretrained would refuse or write a config that claims a quantization."""
    try:
        path = check_gguf(str(gguf_path))
    except BackendError as exc:
        raise ExportError(str(exc)) from exc
    if importlib.util.find_spec("gguf") is None:
        raise ExportError(
            f"reading {path} needs the `gguf` package: pip install '{GGUF_EXTRA}' "
            "(scripts/setup.sh full installs it)"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    except (ValueError, KeyError, OSError, RuntimeError) as exc:
        raise ExportError(f"transformers cannot read {path} as a model: {exc}") from exc
    dequantized: Any = model  # transformers sets hf_quantizer at run time, undeclared
    dequantized.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model, tokenizer


def save_hf(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, out_dir: Path | str
) -> HfExport:
    """safetensors weights, config, generation config and tokenizer files in `out_dir`."""
    started = time.monotonic()
    out_dir = Path(out_dir)
    with _staging_dir(out_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if not (staging / "generation_config.json").exists() and model.generation_config:
            model.generation_config.save_pretrained(staging)
        files = tuple(_describe(p, p.relative_to(staging).as_posix()) for p in _files(staging))
        replace_folder(staging, out_dir)
    return HfExport(out_dir, files, time.monotonic() - started)


def to_gguf(
    hf_dir: Path | str,
    out_path: Path | str,
    *,
    quant: str = "Q4_K_M",
    converter: Converter | None = None,
    threads: int | None = None,
    timeout_s: int = 3600,
) -> GgufExport:
    """An f16 GGUF through llama.cpp's converter, quantized to `quant` (a llama.cpp file type:
    Q4_K_M, Q5_K_M, Q8_0, ... or F16 for none) at `out_path`."""
    hf_dir, out_path = Path(hf_dir), Path(out_path)
    ftype = quant_ftype(quant)
    converter = converter or find_converter()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    f16 = out_path.with_name(f".{out_path.name}.f16.partial")
    partial = out_path.with_name(f".{out_path.name}.partial")
    try:
        started = time.monotonic()
        architecture = run_converter(converter, hf_dir, f16, outtype="f16", timeout_s=timeout_s)
        converted = time.monotonic()
        f16_bytes = f16.stat().st_size
        fallbacks = 0
        if ftype is None:
            f16.rename(partial)
        else:
            fallbacks = quantize(f16, partial, ftype, threads or os.cpu_count() or 1)
        quantized = time.monotonic()
        _fsync(partial)
        file = _describe(partial, out_path.name)
        partial.replace(out_path)
    finally:
        f16.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return GgufExport(
        file=file,
        quant=quant.upper(),
        architecture=architecture,
        converter=converter,
        f16_bytes=f16_bytes,
        fallback_tensors=fallbacks,
        convert_seconds=converted - started,
        quantize_seconds=quantized - converted,
    )


def quant_ftype(quant: str) -> int | None:
    """llama.cpp's file type for a quant name; None for F16 (the converter's output as is)."""
    name = quant.upper()
    if name == "F16":
        return None
    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{name}", None)
    if not isinstance(ftype, int):
        known = sorted(k.removeprefix("LLAMA_FTYPE_MOSTLY_") for k in dir(llama_cpp))
        known = [k for k in known if not k.startswith("LLAMA_")]
        raise ExportError(f"unknown quant type {quant!r}; llama.cpp has: {', '.join(known)}")
    return ftype


def quantize(source: Path, target: Path, ftype: int, threads: int) -> int:
    """Quantize with llama.cpp; returns how many tensors had to fall back to another type
    (rows not a multiple of the block size, e.g. 576 columns for Q4_K's 256)."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = threads
    with _llama_log() as log:
        failed = llama_cpp.llama_model_quantize(
            str(source).encode(), str(target).encode(), ctypes.byref(params)
        )
    if failed:
        said = [line for line in log if "error" in line.lower() or "fail" in line.lower()]
        raise ExportError(
            f"llama.cpp could not quantize {source.name} to {target.name}: "
            + (" ".join(said[-3:]) or f"status {failed}")
        )
    found = [_FALLBACKS.search(line) for line in log]
    return next((int(m.group(1)) for m in found if m), 0)


_FALLBACKS = re.compile(r"(\d+) of \d+ tensor\(s\) required fallback quantization")


@contextmanager
def _llama_log() -> Iterator[deque[str]]:
    """llama.cpp's log while quantizing (a line per tensor), kept rather than printed: its
    failure reason goes into our message. llama-cpp-python's own callback is put back after;
    it maps this llama.cpp's log levels wrongly (warnings print even with verbose=False)."""
    import llama_cpp
    from llama_cpp import _logger

    lines: deque[str] = deque(maxlen=200)

    @llama_cpp.llama_log_callback
    def keep(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        lines.append(text.decode("utf-8", "replace").strip())

    llama_cpp.llama_log_set(keep, ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))


@contextmanager
def _staging_dir(out_dir: Path) -> Iterator[Path]:
    staging = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)  # what a killed run left
    staging.mkdir(parents=True)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_folder(staging: Path, folder: Path) -> None:
    """Put `staging` at `folder`; the old folder, if any, is moved aside first and removed after,
    so `folder` is at every moment either the old one or the new one, or briefly absent."""
    old = folder.with_name(f".{folder.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _describe(path: Path, name: str) -> ExportedFile:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return ExportedFile(name, path.stat().st_size, digest.hexdigest())


def _fsync(path: Path) -> None:
    """On disk before the rename makes it visible: a crash must not publish an empty file."""
    with path.open("rb") as fh:
        os.fsync(fh.fileno())
