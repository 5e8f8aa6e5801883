"""The only place that runs git for documents: one bare repository, hardened, under a deadline.

Why each setting (git-config(1), git(1) ENVIRONMENT):
- the environment is built from scratch, so a GIT_DIR, GIT_CONFIG_* or global ~/.gitconfig of
  the runner (insteadOf rewrites, credential helpers, fsmonitor) never applies;
- `protocol.allow=never` plus `protocol.https.allow=always` is git's own allowlist, and it also
  covers URLs that `insteadOf` rewrote; the protocols git knows are switched off by name too, so
  a `protocol.<name>.allow` from `git_env` cannot re-open them;
- no credential helper and GIT_TERMINAL_PROMPT=0: a private or missing repository fails at once
  instead of waiting on a prompt; `http.followRedirects=false` keeps the host the one we checked;
- `core.hooksPath=/dev/null` and bare repositories only: nothing is checked out, so no hook,
  filter or smudge command can run.
Fetches are partial (`--filter=blob:none`): the commit and its trees first, then only the blobs
the patterns chose, in one request whose download is capped in bytes. A server that ignores the
filter (git warns and sends everything) still works, only without the saving.
A timeout kills git's whole process group: `git fetch` works through child processes
(git-remote-https, upload-pack) that would otherwise keep the pipes open and outlive it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PASSED_THROUGH = (
    "PATH",
    "TMPDIR",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
_HARDENED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "LC_ALL": "C",  # git's messages in English: we quote them to contributors
}
_HARDENED_CONFIG = (
    "core.hooksPath=/dev/null",
    "credential.helper=",
    "http.followRedirects=false",
    "fetch.recurseSubmodules=false",
    "gc.auto=0",
    # Every fetched pack goes to index-pack, which writes as it reads, so a byte cap sees it
    # grow (unpack-objects would hold a whole blob in memory first).
    "fetch.unpackLimit=1",
    "maintenance.auto=false",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.http.allow=never",
    "protocol.ssh.allow=never",
    "protocol.git.allow=never",
    "protocol.ext.allow=never",
)


class GitFailed(Exception):
    """git exited non-zero; `said` is its most telling stderr line."""

    def __init__(self, args: Sequence[str], said: str) -> None:
        super().__init__(f"git {' '.join(args[:2])} failed: {said}")
        self.said = said


class GitTimedOut(Exception):
    """The deadline passed; git and its children were killed."""


class GitTooBig(Exception):
    """A download grew the repository past its byte cap; git and its children were killed."""


POLL_S = 0.05  # how often a capped download's size is measured


def git_environment(git_env: Mapping[str, str] | None) -> dict[str, str]:
    """The variables git runs with: a few passed through, `git_env`, then our hardening."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.update(git_env or {})
    env.update(_HARDENED_ENV)  # last, so `git_env` adds settings but cannot undo these
    return env


class BareRepo:
    """Runs git commands against one bare repository, all sharing one deadline."""

    def __init__(
        self, git_dir: Path, env: Mapping[str, str], deadline: float, allow_file: bool
    ) -> None:
        self.git_dir = git_dir
        self.env = dict(env)
        self.deadline = deadline
        protocol_file = "always" if allow_file else "never"
        config = (*_HARDENED_CONFIG, f"protocol.file.allow={protocol_file}")
        self.config = [arg for setting in config for arg in ("-c", setting)]

    def init(self) -> None:
        # An empty --template copies no sample hooks into the new repository.
        self._run(["init", "--quiet", "--bare", "--template="])

    def ls_remote(self, url: str) -> None:
        self._run(["ls-remote", "--", url, "HEAD"])

    def fetch(self, url: str, commit: str, max_bytes: int) -> None:
        """The commit and its trees, no file contents; GitTooBig past `max_bytes`."""
        self._fetch(["--depth", "1", "--", url, commit], max_bytes)

    def fetch_blobs(self, url: str, oids: Sequence[str], max_bytes: int) -> None:
        """These blobs, in one request; GitTooBig when they would take over `max_bytes`."""
        self._fetch(["--", url, *oids], max_bytes)

    def _fetch(self, args: list[str], max_bytes: int) -> None:
        packs = self.git_dir / "objects" / "pack"
        kept = set(packs.iterdir()) if packs.is_dir() else set()
        start = stored_bytes(self.git_dir)
        try:
            self._run(
                ["fetch", "--quiet", "--filter=blob:none", "--no-tags", *args],
                too_big=lambda: stored_bytes(self.git_dir) - start > max_bytes,
            )
        except (GitTooBig, GitTimedOut):
            # A stopped fetch leaves its pack, half-written or whole, behind: the cache keeps
            # none of it. (Few objects: every pack goes through index-pack, never loose.)
            for leftover in set(packs.glob("*")) - kept:
                leftover.unlink(missing_ok=True)
            raise

    def blob_sizes(self) -> dict[str, int]:
        """Every blob stored here and its size; lists only what is present, fetches nothing."""
        listing = self._run(
            [
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objecttype) %(objectname) %(objectsize)",
            ]
        )
        sizes = {}
        for line in listing.decode("ascii").splitlines():
            kind, oid, size = line.split()
            if kind == "blob":
                sizes[oid] = int(size)
        return sizes

    def has_commit(self, commit: str) -> bool:
        try:
            self._run(["cat-file", "-e", f"{commit}^{{commit}}"])
        except GitFailed:
            return False
        return True

    def ls_tree(self, commit: str) -> bytes:
        # No --long: in a partial repository the sizes would make git download every blob.
        return self._run(["ls-tree", "-r", "-z", "--full-tree", commit])

    def read_blob(self, oid: str) -> bytes:
        return self._run(["cat-file", "blob", oid])

    def _run(self, args: list[str], too_big: Callable[[], bool] | None = None) -> bytes:
        # An explicit --git-dir on every call, init included: git never discovers a repository
        # (and its config) from the working directory.
        command = ["git", "--git-dir", str(self.git_dir), *self.config, *args]
        out, err, returncode = run_with_deadline(
            command, self.env, self.deadline, self.git_dir, too_big
        )
        if returncode != 0:
            raise GitFailed(args, most_telling_line(err))
        return out


def run_with_deadline(
    command: list[str],
    env: Mapping[str, str],
    deadline: float,
    near: Path,
    too_big: Callable[[], bool] | None = None,
) -> tuple[bytes, bytes, int]:
    """Run without a shell; kill the process group and raise GitTimedOut at the deadline, or
    GitTooBig as soon as `too_big()` (asked every POLL_S) says so."""
    if deadline - time.monotonic() <= 0:
        raise GitTimedOut
    with subprocess.Popen(
        command,
        cwd=near.parent,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    ) as process:
        while True:
            remaining = deadline - time.monotonic()
            try:
                # communicate() may be retried after a timeout without losing output.
                out, err = process.communicate(
                    timeout=min(remaining, POLL_S) if too_big else remaining
                )
                break
            except subprocess.TimeoutExpired:
                overdue = time.monotonic() >= deadline
                if overdue or (too_big is not None and too_big()):
                    kill_group(process.pid)
                    process.communicate()
                    raise GitTimedOut if overdue else GitTooBig from None
    if too_big is not None and too_big():  # it finished between two looks
        raise GitTooBig
    return out, err, process.returncode


def stored_bytes(git_dir: Path) -> int:
    """Bytes under `git_dir`/objects, in-flight packs included; files may vanish meanwhile."""
    total = 0
    for folder, _, names in os.walk(git_dir / "objects"):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except FileNotFoundError:
                pass
    return total


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:  # everyone already exited
        pass


def most_telling_line(stderr: bytes) -> str:
    """git's first fatal/error line (the rest is advice we replace), at most 300 characters."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    telling = [line for line in lines if line.startswith(("fatal:", "error:", "remote:"))]
    said = (telling or lines or ["no message"])[0]
    return said[:300]
