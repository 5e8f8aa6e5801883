"""Installs llama.cpp's converter reproducibly: the llama-cpp-python sdist at a pinned version and
sha256, fetched through pip (whose cache makes a repeat fast) and unpacked, converter files only,
into the virtual environment. Run by `scripts/get_converter.sh`; idempotent."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from taxonbot.diskwrite import DiskError, atomic_folder, check_folder
from taxonbot.exits import Exit
from taxonbot.modelbuild.converter import (
    SETUP_COMMAND,
    SOURCE_FILE,
    Converter,
    ExportError,
    default_converter_dir,
    find_converter,
)

SDIST_VERSION = "0.3.36"  # the llama-cpp-python pinned in pyproject.toml's `sdg` extra
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
_ROOT = f"llama_cpp_python-{SDIST_VERSION}"
_VENDOR = f"{_ROOT}/vendor/llama.cpp/"
_SUBMODULE_HEAD = f"{_ROOT}/.git/modules/vendor/llama.cpp/HEAD"  # the llama.cpp commit
# What convert_hf_to_gguf.py reads: its model modules, its own gguf package, chat templates
# some models embed, and the licence and requirements that travel with them.
_KEEP = (
    "convert_hf_to_gguf.py",
    "LICENSE",
    "conversion/",
    "gguf-py/",
    "models/templates/",
    "requirements/requirements-convert_",
)
_DOWNLOAD_TIMEOUT_S = 900


def install(folder: Path, sdist: Path | None = None, *, force: bool = False) -> Converter:
    check_folder(folder)  # a file in the way is said before a download, not after
    if not force:
        try:
            current = find_converter(folder)
        except ExportError:
            pass
        else:
            if current.sdist_sha256 == SDIST_SHA256:
                return current
    with tempfile.TemporaryDirectory(prefix="llama-cpp-sdist-") as work:
        path = sdist or download_sdist(Path(work))
        verify_sdist(path)
        return unpack(path, folder)


def download_sdist(work_dir: Path) -> Path:
    requirement = work_dir / "requirement.txt"
    requirement.write_text(f"llama-cpp-python=={SDIST_VERSION} --hash=sha256:{SDIST_SHA256}\n")
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q"]
    command += ["--no-deps", "--no-binary", ":all:", "--require-hashes"]
    command += ["-r", str(requirement), "-d", str(work_dir)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_DOWNLOAD_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ExportError(f"pip download of llama-cpp-python=={SDIST_VERSION} timed out") from exc
    found = sorted(work_dir.glob(f"llama_cpp_python-{SDIST_VERSION}.tar.gz"))
    if done.returncode != 0 or not found:
        tail = "\n".join(done.stderr.splitlines()[-10:])
        raise ExportError(
            f"pip could not download the llama-cpp-python=={SDIST_VERSION} sdist:\n{tail}\n"
            "pass --sdist PATH to a copy of the file where the registry is out of reach"
        )
    return found[0]


def verify_sdist(path: Path) -> None:
    if not path.is_file():
        raise ExportError(f"{path} not found; pass --sdist PATH to llama_cpp_python-*.tar.gz")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != SDIST_SHA256:
        raise ExportError(
            f"{path} is not the llama-cpp-python {SDIST_VERSION} sdist (sha256 "
            f"{digest.hexdigest()}, expected {SDIST_SHA256}); delete it and run "
            f"`{SETUP_COMMAND}` again"
        )


def unpack(sdist: Path, folder: Path) -> Converter:
    """Into a fresh folder beside the target, renamed into place (taxonbot.diskwrite): a kill
    leaves the old converter or none, never half of one; a full disk or a file in the way is
    one sentence naming the folder."""
    check_folder(folder)  # a file where the folder (or a parent) goes: said before unpacking
    with atomic_folder(folder, again=f"run `{SETUP_COMMAND}` again") as staging:
        with tarfile.open(sdist, "r:gz") as archive:
            commit = _extract(archive, staging)
        project = tomllib.loads((staging / "gguf-py" / "pyproject.toml").read_text("utf-8"))
        source = {
            "sdist": f"llama-cpp-python=={SDIST_VERSION}",
            "sdist_sha256": SDIST_SHA256,
            "llama_cpp_commit": commit,
            "gguf_py_version": str(project["project"]["version"]),
        }
        (staging / SOURCE_FILE).write_text(json.dumps(source, indent=2) + "\n", encoding="utf-8")
    return find_converter(folder)


def _extract(archive: tarfile.TarFile, staging: Path) -> str:
    commit = "unknown"
    for member in archive:
        if member.name == _SUBMODULE_HEAD and member.isfile():
            head = _read(archive, member).decode("ascii", "replace").strip()
            commit = head if re.fullmatch(r"[0-9a-f]{40}", head) else commit
        relative = member.name.removeprefix(_VENDOR)
        if relative == member.name or not relative.startswith(_KEEP) or not member.isfile():
            continue
        parts = PurePosixPath(relative).parts
        if ".." in parts or PurePosixPath(relative).is_absolute():
            raise ExportError(f"the sdist holds an unsafe path {member.name!r}; not unpacked")
        target = staging.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_read(archive, member))
    if not (staging / "convert_hf_to_gguf.py").is_file():
        raise ExportError(f"the sdist has no {_VENDOR}convert_hf_to_gguf.py")
    return commit


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    return handle.read() if handle else b""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=SETUP_COMMAND, description="Install llama.cpp's convert_hf_to_gguf.py."
    )
    parser.add_argument("--dest", type=Path, help="default: <venv>/share/llama-cpp-converter")
    parser.add_argument("--sdist", type=Path, help="a local llama_cpp_python sdist (no download)")
    parser.add_argument("--force", action="store_true", help="unpack again even if present")
    args = parser.parse_args(argv)
    try:
        converter = install(args.dest or default_converter_dir(), args.sdist, force=args.force)
    except (ExportError, DiskError) as exc:
        print(f"get_converter: {exc}", file=sys.stderr)
        return Exit.CANNOT
    print(
        f"get_converter: {converter.sdist} (llama.cpp {converter.llama_cpp_commit[:12]}, "
        f"gguf-py {converter.gguf_py_version}) in {converter.folder}",
        file=sys.stderr,
    )
    return Exit.OK


if __name__ == "__main__":
    sys.exit(main())
