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
A timeout kills git's whole process group: `git fetch` works through child processes
(git-remote-https, upload-pack) that would otherwise keep the pipes open and outlive it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
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

    def fetch(self, url: str, commit: str) -> None:
        self._run(["fetch", "--quiet", "--depth", "1", "--no-tags", "--", url, commit])

    def has_commit(self, commit: str) -> bool:
        try:
            self._run(["cat-file", "-e", f"{commit}^{{commit}}"])
        except GitFailed:
            return False
        return True

    def ls_tree(self, commit: str) -> bytes:
        return self._run(["ls-tree", "-r", "-z", "--long", "--full-tree", commit])

    def read_blob(self, oid: str) -> bytes:
        return self._run(["cat-file", "blob", oid])

    def _run(self, args: list[str]) -> bytes:
        # An explicit --git-dir on every call, init included: git never discovers a repository
        # (and its config) from the working directory.
        command = ["git", "--git-dir", str(self.git_dir), *self.config, *args]
        out, err, returncode = run_with_deadline(command, self.env, self.deadline, self.git_dir)
        if returncode != 0:
            raise GitFailed(args, most_telling_line(err))
        return out


def run_with_deadline(
    command: list[str], env: Mapping[str, str], deadline: float, near: Path
) -> tuple[bytes, bytes, int]:
    """Run without a shell; on timeout kill the process group and raise GitTimedOut."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
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
        try:
            out, err = process.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            process.communicate()
            raise GitTimedOut from None
    return out, err, process.returncode


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
