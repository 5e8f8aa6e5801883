"""Where fetched model files live, and the one way bytes become a usable one.

The cache is `$TAXONBOT_MODELS`, else `$XDG_CACHE_HOME/taxonbot/models`, else
`~/.cache/taxonbot/models`. A catalogue entry's file is `<cache>/<sha256>/<file>`, and it is
only ever put there by a rename after its size and sha256 matched the catalogue (`PartFile`):
so a file at that path is a verified file, and a killed fetch leaves only `<file>.part`, which
the next fetch resumes. A failed fetch leaves its reason in `<cache>/failed/<name>.txt` (cleared
by a later success), so a preview that fell back can say why. Nothing here runs a byte it wrote.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from taxonbot.diskwrite import disk_error, make_folder, write_atomic
from taxonbot.errors import CannotRun
from taxonbot.runtime.catalogue import CatalogueEntry
from taxonbot.runtime.gguf import GGUF_MAGIC
from taxonbot.terminal import printable

CHUNK = 1 << 20
MAX_REASON = 600  # characters of a recorded failure shown again


class FetchError(CannotRun):
    """A model file could not be fetched or failed verification; the message says what to do."""


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("TAXONBOT_MODELS"):
        return Path(env["TAXONBOT_MODELS"])
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "taxonbot" / "models"


def final_path(entry: CatalogueEntry, cache: Path) -> Path:
    return cache / entry.sha256 / entry.file


def bundled_path(entry: CatalogueEntry) -> Path | None:
    """The file inside the installed package that ships it, found without importing it (the
    package may import things we do not install)."""
    spec = importlib.util.find_spec(entry.bundled_package) if entry.bundled_package else None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / entry.file
        if candidate.is_file():
            return candidate
    return None


def cached_path(entry: CatalogueEntry, cache: Path) -> Path | None:
    """The entry's verified file, or None. A cached file was verified before it was renamed into
    place; the size check catches a file truncated since, without hashing a gigabyte again."""
    path = bundled_path(entry) if entry.bundled_package else final_path(entry, cache)
    try:
        return path if path is not None and path.stat().st_size == entry.size else None
    except OSError:
        return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def failure_path(cache: Path, name: str) -> Path:
    return cache / "failed" / f"{name}.txt"


def record_failure(cache: Path, name: str, reason: str) -> None:
    """Best effort: a fetch that failed because the disk is full cannot record that either."""
    try:
        write_atomic(failure_path(cache, name), " ".join(reason.split()) + "\n")
    except CannotRun:
        pass


def recorded_failure(cache: Path, name: str) -> str:
    """The reason the last fetch of `name` failed, or "" (never fetched, or fetched since)."""
    try:
        with failure_path(cache, name).open(encoding="utf-8", errors="replace") as handle:
            text = handle.read(MAX_REASON + 1)
    except OSError:
        return ""
    line = printable(" ".join(text.split()))
    return line if len(line) <= MAX_REASON else line[:MAX_REASON] + "…"


def clear_failure(cache: Path, name: str) -> None:
    try:
        failure_path(cache, name).unlink(missing_ok=True)
    except OSError:
        pass


class PartFile:
    """The bytes of one entry as they arrive, in `<file>.part` beside the final path: hashed as
    written, refused past the catalogue's size or when they do not start like a GGUF file, and
    renamed into place by `install` only when size and sha256 are the catalogue's."""

    def __init__(self, entry: CatalogueEntry, cache: Path, resume: bool) -> None:
        self.entry = entry
        self.final = final_path(entry, cache)
        self.part = self.final.with_name(self.final.name + ".part")
        self._digest = hashlib.sha256()
        self.size = 0
        self._head = b""  # the first bytes, to check the GGUF magic
        make_folder(self.final.parent)
        try:
            # A part longer than the file cannot be a prefix of it: start over.
            if resume and self.part.is_file() and self.part.stat().st_size <= entry.size:
                with self.part.open("rb") as existing:
                    while chunk := existing.read(CHUNK):
                        self._digest.update(chunk)
                        self._head = (self._head + chunk)[: len(GGUF_MAGIC)]
                        self.size += len(chunk)
            self._handle = self.part.open("ab" if self.size else "wb")
        except OSError as exc:
            raise disk_error(exc, self.part) from None

    def __enter__(self) -> PartFile:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._handle.close()

    def restart(self) -> None:
        """Forget what is there (a server that ignored our Range sends the whole file again)."""
        try:
            self._handle.seek(0)
            self._handle.truncate()
        except OSError as exc:
            raise disk_error(exc, self.part) from None
        self._digest, self.size, self._head = hashlib.sha256(), 0, b""

    def write(self, chunk: bytes, source: str) -> None:
        if self.size + len(chunk) > self.entry.size:
            self.discard()
            raise FetchError(
                f"{source} gave more than the {self.entry.size:,} bytes the catalogue gives "
                f"{self.entry.name}; it is not the catalogued file, so nothing was kept"
            )
        if self.size < len(GGUF_MAGIC):
            self._head = (self._head + chunk)[: len(GGUF_MAGIC)]
            if len(self._head) == len(GGUF_MAGIC) and self._head != GGUF_MAGIC:
                self.discard()
                raise FetchError(
                    f"{source} is not a GGUF file (it starts with {self._head!r}, not b'GGUF'), "
                    f"so it is not {self.entry.name}; nothing was kept"
                )
        try:
            self._handle.write(chunk)
        except OSError as exc:
            raise disk_error(exc, self.part) from None
        self._digest.update(chunk)
        self.size += len(chunk)

    def install(self, source: str) -> Path:
        """The final path, once the bytes are the catalogue's; FetchError (and no file) if not."""
        entry = self.entry
        if self.size != entry.size:
            raise FetchError(
                f"{source} ended after {self.size:,} of {entry.size:,} bytes of {entry.name}; "
                "run the same command again to resume"
            )
        got = self._digest.hexdigest()
        if got != entry.sha256:
            self.discard()
            raise FetchError(
                f"{source} gave a file whose sha256 is {got}, but the catalogue's {entry.name} "
                f"has sha256 {entry.sha256}; the file was deleted and is never used"
            )
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            os.chmod(self.part, 0o644)  # data, never executable
            os.replace(self.part, self.final)
        except OSError as exc:
            raise disk_error(exc, self.final) from None
        return self.final

    def discard(self) -> None:
        self._handle.close()
        try:
            self.part.unlink(missing_ok=True)
        except OSError:
            pass
