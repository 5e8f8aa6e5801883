"""Writing output and cache files: whole or not at all, and a sentence when the disk says no.

Every file a command leaves for a person or a later run (manifests, train.jsonl, previews,
gaps reports, cache entries, store rewrites) is written to a temporary file beside it, synced,
then renamed over the target (`atomic_open`, `write_atomic`): a full disk or a killed run leaves
the old file or none, never a zero-byte or half-written one. An `OSError` on the way becomes a
`DiskError`, one line naming the path and what to do (free space, remove a folder or a file in
the way), which `taxonbot.cli.main` prints instead of a traceback.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from taxonbot.errors import CannotRun
from taxonbot.terminal import printable


class DiskError(CannotRun):
    """A file or folder could not be written; the message names it and what to do."""


def shown(path: str | os.PathLike[str]) -> str:
    """A path as a terminal may print it (taxonbot.terminal)."""
    return printable(os.fspath(path))


def in_the_way(folder: Path) -> Path | None:
    """The file (not folder) at `folder` or at one of its parents, if any."""
    for candidate in (folder, *folder.parents):
        if candidate.exists() or candidate.is_symlink():
            return None if candidate.is_dir() else candidate
    return None


def disk_error(
    exc: OSError, path: str | os.PathLike[str], again: str = "run the same command again"
) -> DiskError:
    """The sentence for an OSError met while writing `path` (a file or a folder); `again`: how
    to go on once space is freed."""
    target = Path(path)
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        return DiskError(
            f"cannot write {shown(target)}: the disk is full; free space on the disk that holds "
            f"{shown(target.parent)} and {again}"
        )
    if code == errno.EISDIR or (code == errno.EEXIST and target.is_dir()):
        return DiskError(
            f"cannot write {shown(target)}: a folder of that name is in the way; remove the "
            f"folder {shown(target)} or choose another output folder"
        )
    blocking = in_the_way(target) or in_the_way(target.parent)
    if code in (errno.ENOTDIR, errno.EEXIST) and blocking is not None:
        return DiskError(
            f"cannot write {shown(target)}: {shown(blocking)} is a file, not a folder; remove "
            f"the file {shown(blocking)} or choose another output folder"
        )
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DiskError(
            f"cannot write {shown(target)} ({exc.strerror}); choose a folder you can write to"
        )
    return DiskError(f"cannot write {shown(target)} ({exc.strerror or exc})")


def check_folder(folder: str | os.PathLike[str]) -> Path:
    """`folder`, if it is or can become a folder (nothing created); DiskError when a file is in
    the way. Said before hours of work, not after them."""
    path = Path(folder)
    blocking = in_the_way(path)
    if blocking is not None:
        raise DiskError(
            f"cannot write into {shown(path)}: {shown(blocking)} is a file, not a folder; remove "
            f"the file {shown(blocking)} or choose another folder"
        )
    return path


def check_file(path: str | os.PathLike[str]) -> Path:
    """`path`, if a file can be written there (nothing created); DiskError when a folder of that
    name, or a file where one of its folders should be, is in the way."""
    target = Path(path)
    check_folder(target.parent)
    if target.is_dir():
        raise disk_error(IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)), target)
    return target


def make_folder(folder: str | os.PathLike[str]) -> Path:
    """`folder` and its parents, created as needed; DiskError when a file is in the way."""
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise disk_error(exc, path) from None
    return path


@contextmanager
def atomic_open(path: str | os.PathLike[str], binary: bool = False) -> Iterator[IO[Any]]:
    """A handle on a temporary file beside `path`, renamed over it once the block ends
    without an exception (after an fsync); removed otherwise. OSError → DiskError."""
    target = Path(path)
    make_folder(target.parent)
    try:
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise disk_error(exc, target) from None
    try:
        with os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except OSError as exc:
        _remove(temp)
        raise disk_error(exc, target) from None
    except BaseException:
        _remove(temp)
        raise
    _sync_folder(target.parent)


@contextmanager
def atomic_folder(
    path: str | os.PathLike[str], again: str = "run the same command again"
) -> Iterator[Path]:
    """A fresh folder beside `path` for a writer that fills a folder itself (save_pretrained,
    torch.save, an unpacked archive); once the block ends without an exception its files are
    fsynced and it takes the place of `path` (an old folder there is moved aside, then
    removed); otherwise it is removed. OSError → DiskError naming `path`."""
    target = Path(path)
    make_folder(target.parent)
    try:
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        )
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the folder from other users
    except OSError as exc:
        raise disk_error(exc, target, again) from None
    try:
        yield staging
        _sync_tree(staging)
        _replace_folder(staging, target)
    except OSError as exc:
        raise disk_error(exc, target, again) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _sync_folder(target.parent)


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """`data` as the whole of `path`, or DiskError and the old file (if any) untouched."""
    with atomic_open(path, binary=isinstance(data, bytes)) as handle:
        handle.write(data)


def _replace_folder(staging: Path, target: Path) -> None:
    """`target` is at every moment the old folder or the new one (or briefly absent); a file
    there is not replaced (the rename fails with ENOTDIR: DiskError names it)."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.is_dir() and not target.is_symlink():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _sync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # not every platform opens folders; the rename itself is done
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass  # already gone: nothing half-written is left either way
