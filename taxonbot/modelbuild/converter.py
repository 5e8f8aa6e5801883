"""llama.cpp's Hugging Face → GGUF converter, run as a subprocess.

The converter is the one inside the llama-cpp-python sdist we already build llama.cpp from, so
the GGUF it writes matches the llama.cpp that reads it; `scripts/get_converter.sh` unpacks it
(taxonbot/modelbuild/converter_install.py). Its own `gguf-py` goes first on PYTHONPATH: the `gguf`
wheel
that transformers needs may be older or newer than the converter expects.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taxonbot.errors import CannotRun

SETUP_COMMAND = "scripts/get_converter.sh"
SOURCE_FILE = "SOURCE.json"  # written by the installer: where the converter came from
SCRIPT = "convert_hf_to_gguf.py"
_STDERR_LINES = 15
# Keeps transformers (inside the converter) off the model hub: inputs are local folders.
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


class ExportError(CannotRun):
    """An export step failed for a reason a person can act on; the message says which."""


@dataclass(frozen=True)
class Converter:
    folder: Path
    sdist: str  # "llama-cpp-python==0.3.36"
    sdist_sha256: str
    llama_cpp_commit: str
    gguf_py_version: str

    @property
    def script(self) -> Path:
        return self.folder / SCRIPT

    def as_manifest(self) -> dict[str, str]:
        return {
            "sdist": self.sdist,
            "sdist_sha256": self.sdist_sha256,
            "llama_cpp_commit": self.llama_cpp_commit,
            "gguf_py_version": self.gguf_py_version,
        }


def default_converter_dir() -> Path:
    """Inside the virtual environment, which git ignores and setup rebuilds."""
    return Path(sys.prefix) / "share" / "llama-cpp-converter"


def find_converter(folder: Path | None = None) -> Converter:
    folder = folder or default_converter_dir()
    source = folder / SOURCE_FILE
    if not (folder / SCRIPT).is_file() or not source.is_file():
        raise ExportError(
            f"llama.cpp's converter is not installed in {folder}; run `{SETUP_COMMAND}` "
            "(it unpacks convert_hf_to_gguf.py from the llama-cpp-python sdist)"
        )
    try:
        info = json.loads(source.read_text(encoding="utf-8"))
        return Converter(
            folder,
            info["sdist"],
            info["sdist_sha256"],
            info["llama_cpp_commit"],
            info["gguf_py_version"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"{source} is damaged ({exc}); run `{SETUP_COMMAND}` again") from exc


def supported_architectures(converter: Converter) -> frozenset[str]:
    """The text-model architectures the converter registers, read from its source without
    importing it (that would import torch and every model module)."""
    path = converter.folder / "conversion" / "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "TEXT_MODEL_MAP" for t in targets):
                return frozenset(ast.literal_eval(node.value))
    raise ExportError(f"{path} has no TEXT_MODEL_MAP; run `{SETUP_COMMAND}` again")


def model_architecture(hf_dir: Path) -> str:
    config_path = hf_dir / "config.json"
    try:
        config: Any = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ExportError(
            f"{config_path} not found; export a Hugging Face model folder (save_hf) first"
        ) from exc
    except ValueError as exc:
        raise ExportError(f"{config_path} is not valid JSON ({exc})") from exc
    names = config.get("architectures") if isinstance(config, dict) else None
    if not isinstance(names, list) or not names or not isinstance(names[0], str):
        raise ExportError(
            f"{config_path} names no `architectures`; save the model with save_pretrained, "
            "which records its class there"
        )
    return names[0]


def check_architecture(converter: Converter, hf_dir: Path) -> str:
    architecture = model_architecture(hf_dir)
    if architecture not in supported_architectures(converter):
        raise unsupported(architecture, converter)
    return architecture


def unsupported(architecture: str, converter: Converter) -> ExportError:
    return ExportError(
        f"llama.cpp's converter ({converter.sdist}, llama.cpp {converter.llama_cpp_commit[:12]}) "
        f"does not support the architecture {architecture}, so no GGUF can be made; choose a base "
        "model of a supported architecture (for example LlamaForCausalLM) or a newer converter"
    )


def run_converter(
    converter: Converter,
    hf_dir: Path,
    outfile: Path,
    *,
    outtype: str = "f16",
    timeout_s: int = 3600,
) -> str:
    """Writes `outfile` and says which architecture it converted; raises ExportError with the
    converter's last words when it fails."""
    architecture = check_architecture(converter, hf_dir)
    command = [sys.executable, str(converter.script), str(hf_dir)]
    command += ["--outfile", str(outfile), "--outtype", outtype]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            env=_converter_env(converter),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportError(
            f"llama.cpp's converter did not finish {hf_dir} within {timeout_s} s; "
            "raise the timeout for large models"
        ) from exc
    if done.returncode != 0:
        raise _failure(converter, hf_dir, architecture, done.stderr)
    return architecture


def _converter_env(converter: Converter) -> dict[str, str]:
    env = {**os.environ, **_OFFLINE}
    env.pop("NO_LOCAL_GGUF", None)  # the converter then also puts its gguf-py first itself
    paths = [str(converter.folder / "gguf-py"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def _failure(converter: Converter, hf_dir: Path, architecture: str, stderr: str) -> ExportError:
    lines = [line for line in stderr.splitlines() if line.strip()]
    if any(line.endswith(f"Model {architecture} is not supported") for line in lines):
        return unsupported(architecture, converter)
    tail = "\n".join(lines[-_STDERR_LINES:]) or "(no output)"
    hint = ""
    if "BPE pre-tokenizer was not recognized" in stderr:
        hint = (
            "\nthe converter knows tokenizers by a hash of their output on a test text, and this "
            "one is not on its list (a custom-trained tokenizer never is); keep the base model's "
            "tokenizer, or use a newer converter if the base model is newer than it"
        )
    elif "ModuleNotFoundError" in stderr:
        hint = (
            "\nthe converter needs a Python package that is not installed (named above); "
            "for SentencePiece tokenizers: pip install 'sentencepiece>=0.1.98,<0.3' protobuf"
        )
    return ExportError(f"llama.cpp's converter failed on {hf_dir}; its last lines:\n{tail}{hint}")
