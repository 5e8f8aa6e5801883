"""A stateful fake of the GitHub REST endpoints taxonbot calls, on 127.0.0.1, faithful to GitHub.

PyGithub talks to it through `base_url` over real HTTP, so the adapters are tested with the
library's own request building, JSON parsing and error mapping. Where GitHub is harsh, the fake
is too: tokens carry the `permissions:` a workflow grants them (403 "Resource not accessible by
integration" for a write they lack), a fork's commit is unknown to the base repository's
commit -> pulls endpoint, a PR lists at most 3000 files, contents over 1 MB come back empty,
check runs take 50 annotations a request, comments stop at 65,536 characters. Each rule cites
GitHub's REST docs (docs.github.com/rest/...) or, where the docs are silent or wrong, the public
report it comes from. Objects take their shape from the real webhook payloads committed in
`tests/fixtures/github-payloads` (a built-in minimal shape where one is missing).
Faults are queued with `fail_next`; every request lands in `requests`.
"""

from __future__ import annotations

import base64
import copy
import difflib
import functools
import hashlib
import itertools
import json
import re
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from tests.support.serving import in_thread

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "github-payloads"
APP_TOKEN = "ghs_fake_actions_token"  # what GITHUB_TOKEN is: an app installation token
OLD_APP_TOKEN = "0123456789abcdef0123456789abcdef01234567"  # the same, before token prefixes
USER_TOKEN = "ghp_fake_user_token"
DOCS = "https://docs.github.com/rest"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
FAULT_KINDS = frozenset(
    "500 502 503 store-then-502 store-then-drop secondary-rate-limit primary-rate-limit".split()
)

# ---- what a token may do ------------------------------------------------------------------------
# A workflow's `permissions:` block, as the job's GITHUB_TOKEN holds it. Keys and levels are the
# workflow syntax's (docs.github.com/actions/reference/workflows-and-actions/workflow-syntax).
Permissions = Mapping[str, str]
COMMENT_JOB: Permissions = {  # comment.yml: the sticky comment, labels, the check run, the artifact
    "actions": "read",
    "checks": "write",
    "contents": "read",
    "issues": "write",
    "pull-requests": "write",
}
COMMAND_JOB: Permissions = {"actions": "write", "contents": "read", "pull-requests": "write"}
RELEASE_JOB: Permissions = {"contents": "write"}
# The fake's app tokens hold what the comment and command jobs hold together, so a story about
# either job runs on a plain `serve()`; a test narrows it with `grant` or `permissions=`.
APP_PERMISSIONS: Permissions = {**COMMENT_JOB, "actions": "write"}
LEVELS = {"none": 0, "read": 1, "write": 2}
NOT_ACCESSIBLE = "Resource not accessible by integration"

# A new repository's labels: docs.github.com/issues/using-labels-and-milestones-to-track-work/
# managing-labels#about-default-labels names these nine; the colours are those fresh
# repositories show (e.g. github.com/GitGuideOrg/git-guide/labels).
DEFAULT_LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)

# ---- limits, each from the page that states it ----------------------------------------------
# Comments: GitHub's 422 says "Body is too long (maximum is 65536 characters)" (quoted in
# jmikedupont2/ai-ticket#51, danger/danger#424; the docs give no figure). A 2026 probe saw longer
# bodies stored (objectstack-ai/objectstack#18826, up to 262,144 UTF-8 bytes); the fake keeps the
# figure GitHub's own refusal names, the one the bot must fit.
COMMENT_MAX = 65536
MAX_PULL_FILES = 3000  # docs.github.com/rest/pulls/pulls#list-pull-requests-files
ONE_MB = 1024 * 1024  # docs.github.com/rest/repos/contents#get-repository-content: "1 MB or ..."
HUNDRED_MB = 100 * ONE_MB  # ... "Between 1-100 MB" / "Greater than 100 MB: not supported"
ANNOTATIONS_PER_REQUEST = 50  # docs.github.com/rest/checks/runs: "a maximum of 50 per request"
# docs.github.com/rest/git/trees#get-a-tree: "The limit for the tree array is 100,000 entries with
# a maximum size of 7 MB when using the recursive parameter"; past it `truncated` is true.
TREE_MAX_ENTRIES = 100_000
TREE_MAX_BYTES = 7 * 1000 * 1000
OUTPUT_MAX = 65535  # docs.github.com/rest/checks/runs: output.summary/text "Maximum length: 65535"
PULL_STATES = frozenset({"open", "closed", "all"})
FILE_STATUSES = frozenset(
    {"added", "removed", "modified", "renamed", "copied", "changed", "unchanged"}
)
CHECK_STATUSES = ("queued", "in_progress", "completed")
CONCLUSIONS = (
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "success",
    "skipped",
    "stale",
    "timed_out",
)
ANNOTATION_LEVELS = ("notice", "warning", "failure")
# The app every GITHUB_TOKEN check run belongs to (github.com/apps/github-actions).
GITHUB_ACTIONS_APP = {
    "id": 15368,
    "slug": "github-actions",
    "node_id": "MDM6QXBwMTUzNjg=",
    "name": "GitHub Actions",
    "owner": {"login": "github", "id": 9919, "type": "Organization"},
    "html_url": "https://github.com/apps/github-actions",
}

DOC_PULLS = f"{DOCS}/pulls/pulls"
DOC_COMMITS = f"{DOCS}/commits/commits#list-pull-requests-associated-with-a-commit"
DOC_COMMENTS = f"{DOCS}/issues/comments"
DOC_LABELS = f"{DOCS}/issues/labels"
DOC_CONTENTS = f"{DOCS}/repos/contents#get-repository-content"
DOC_TREES = f"{DOCS}/git/trees#get-a-tree"
DOC_CHECKS = f"{DOCS}/checks/runs"
DOC_RUNS = f"{DOCS}/actions/workflow-runs"
DOC_REACTIONS = f"{DOCS}/reactions/reactions"
DOC_RELEASES = f"{DOCS}/releases/releases"
DOC_REPOS = f"{DOCS}/repos/repos#get-a-repository"


@dataclass
class Fault:
    """The next request matching `method` and `path` (a regex on the path) fails as `kind`."""

    kind: str
    method: str | None = None
    path: str | None = None
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (
            self.path is None or re.fullmatch(self.path, path) is not None
        )


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: dict[str, str]
    status: int
    body: Any = None


@dataclass
class _Label:
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class _Repo:
    full_name: str
    private: bool = False
    fork: bool = False
    labels: dict[str, _Label] = field(default_factory=dict)  # casefolded name -> label


@dataclass
class _Commit:
    """A commit the fake knows: where it was pushed and the whole tree at it."""

    sha: str
    repo: str
    tree: dict[str, bytes]


@dataclass
class _PullFile:
    filename: str
    status: str
    sha: str
    additions: int = 0
    deletions: int = 0
    previous_filename: str | None = None
    patch: str | None = None


@dataclass
class _Pull:
    repo: str
    number: int
    head_sha: str
    head_repo: str | None  # None: the fork was deleted (GitHub answers `head.repo: null`)
    author: str
    state: str = "open"
    merged: bool = False
    labels: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)
    head_ref: str = "topic"
    head_owner: str = ""  # head.label keeps it when the fork is deleted
    base_ref: str = "main"
    base_sha: str = "0" * 40
    association: str = "CONTRIBUTOR"
    files: list[_PullFile] = field(default_factory=list)


@dataclass
class _Comment:
    id: int
    repo: str
    number: int
    author: str
    body: str
    created: str
    reactions: list[tuple[str, str]] = field(default_factory=list)  # (login, content)


@dataclass
class _Run:
    """One Actions workflow run: what the re-run endpoints need."""

    id: int
    repo: str
    workflow_file: str
    head_sha: str
    event: str = "pull_request"
    status: str = "completed"
    run_attempt: int = 1
    reruns: int = 0


@dataclass
class _CheckRun:
    id: int
    repo: str
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    started_at: str
    completed_at: str | None = None
    external_id: str = ""
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[dict[str, Any]] = field(default_factory=list)


REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})


def _load(relative: str, key: str) -> dict[str, Any] | None:
    path = PAYLOADS / relative
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8"))[key])


def minimal_pull(
    api: str, repo: str, number: int, head: tuple[str, str, str], base: tuple[str, str]
) -> dict[str, Any]:
    """A pull request as `workflow_run.pull_requests` and a check run's `pull_requests` carry it
    (the real workflow_run/completed.with-pull-requests payload): no full_name, no user. `head`
    is (ref, sha, repository); `base` is (ref, sha) in `repo`."""

    def side(ref: str, sha: str, full_name: str) -> dict[str, Any]:
        url = f"{api}/repos/{full_name}"
        name = full_name.split("/")[1]
        repository = {"id": zlib.crc32(full_name.encode()), "url": url, "name": name}
        return {"ref": ref, "sha": sha, "repo": repository}

    return {
        "url": f"{api}/repos/{repo}/pulls/{number}",
        "id": number * 1000,
        "number": number,
        "head": side(*head),
        "base": side(base[0], base[1], repo),
    }


class FakeGitHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        token_logins: dict[str, str] | None = None,
        permissions: Mapping[str, Permissions] | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.token_logins = token_logins or {
            APP_TOKEN: "github-actions[bot]",
            OLD_APP_TOKEN: "github-actions[bot]",
            USER_TOKEN: "taxonbot-maintainer",
        }
        self.app_tokens = {
            APP_TOKEN,
            OLD_APP_TOKEN,
        }  # GET /user answers 403 for these, as GitHub does
        # token -> its `permissions:`; a token not here (a user's classic token) may do anything.
        self.permissions: dict[str, dict[str, str]] = {
            token: dict(APP_PERMISSIONS) for token in self.app_tokens
        }
        for token, granted in (permissions or {}).items():
            self.grant(token, granted)
        # token -> the repositories it was issued for (GITHUB_TOKEN: the workflow's own).
        self.token_repos: dict[str, set[str]] = {}
        self.pr_template = _load("pull_request/opened.payload.json", "pull_request")
        self.comment_template = _load("issue_comment/created.payload.json", "comment")
        self.run_template = _load("workflow_run/completed.payload.json", "workflow_run")
        self.repos: dict[str, _Repo] = {}  # casefolded full name -> repository
        self.commits: dict[str, _Commit] = {}
        # (sha, path) -> ("symlink", its target) or ("submodule", its clone URL): see `no_file`
        self.no_files: dict[tuple[str, str], tuple[str, str]] = {}
        # GitHub's cut of a recursive tree listing; a story lowers it to stand in for a huge
        # repository without building one.
        self.tree_max_entries = TREE_MAX_ENTRIES
        self.trees: dict[str, tuple[str, str]] = {}  # a tree's sha -> (commit sha, its folder)
        self.branches: dict[tuple[str, str], str] = {}  # (casefolded repo, branch) -> sha
        self.runs: dict[int, _Run] = {}
        self.pulls: dict[tuple[str, int], _Pull] = {}
        self.comments: dict[int, _Comment] = {}
        self.check_runs: dict[int, _CheckRun] = {}
        self.faults: list[Fault] = []
        # (method, path regex, what another job does just before that request is served)
        self.interleavings: list[tuple[str, str, Callable[[FakeGitHub], None]]] = []
        self.requests: list[Logged] = []
        self.lock = threading.Lock()
        self.caller = ""  # the token of the request being answered (set under `lock`)
        self._ids = itertools.count(1_000_001)
        self._request_ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    # -- arranging a story -------------------------------------------------------------------
    def grant(self, token: str, permissions: Permissions) -> None:
        """The token now holds exactly these permissions (a workflow's `permissions:` block)."""
        assert all(level in LEVELS for level in permissions.values()), permissions
        self.permissions[token] = dict(permissions)

    def scope(self, token: str, repos: Iterable[str]) -> None:
        """The token was issued for these repositories only; others' private data is a 404."""
        self.token_repos[token] = {repo.casefold() for repo in repos}

    def add_repo(self, repo: str, *, private: bool = False, fork: bool = False) -> _Repo:
        """A repository, with the labels GitHub gives a new one."""
        known = self.repos.get(repo.casefold())
        if known is None:
            known = _Repo(repo, private, fork)
            for name, color, description in DEFAULT_LABELS:
                known.labels[name] = _Label(name, color, description, default=True)
            self.repos[repo.casefold()] = known
        known.private, known.fork = private or known.private, fork or known.fork
        return known

    def add_label(
        self, repo: str, name: str, *, color: str = "ededed", description: str | None = None
    ) -> None:
        self.add_repo(repo).labels.setdefault(name.casefold(), _Label(name, color, description))

    def add_commit(
        self, repo: str, sha: str, files: Mapping[str, bytes], *, branch: str | None = "main"
    ) -> None:
        """A commit pushed to `repo` with exactly these files; `branch` now points at it."""
        self.add_repo(repo)
        self.commits[sha] = _Commit(sha, repo, dict(files))
        if branch is not None:
            self.branches[(repo.casefold(), branch)] = sha

    def no_file(self, sha: str, path: str, kind: str, target: str) -> None:
        """`path` at commit `sha` is a symbolic link (`target`: where it points, relative to the
        link's folder) or a submodule (`target`: its clone URL). The tree keeps its blob for the
        files listing; the contents endpoint answers a link to a plain file with that file, and
        anything else with the entry itself (`content_entry`); "Get a tree" shows its mode."""
        assert kind in ("symlink", "submodule"), kind
        self.no_files[(sha, path)] = (kind, target)

    def add_pull(
        self,
        repo: str,
        number: int,
        head_sha: str,
        *,
        head_repo: str | None = None,
        author: str = "contributor",
        labels: Iterable[str] = (),
        head_ref: str = "topic",
        base_ref: str = "main",
        association: str = "CONTRIBUTOR",
    ) -> None:
        """A PR from `head_repo:head_ref` (a fork when it differs from `repo`) into `base_ref`.
        Its head commit starts as the base branch's tree; `set_files` changes it."""
        head = head_repo or repo
        self.add_repo(repo)
        self.add_repo(head, fork=head.casefold() != repo.casefold())
        base_sha = self.branches.get((repo.casefold(), base_ref), "0" * 40)
        names = [self._label_named(repo, name) for name in labels]
        pull = _Pull(repo, number, head_sha, head, author, labels=names)
        pull.head_ref, pull.base_ref, pull.base_sha = head_ref, base_ref, base_sha
        pull.head_owner, pull.association = head.split("/")[0], association
        self.pulls[(repo, number)] = pull
        self._move_head(pull, head_sha)

    def push(self, repo: str, number: int, head_sha: str) -> None:
        """The contributor pushes (or force-pushes): the head moves on, with the same files."""
        self._move_head(self.pulls[(repo, number)], head_sha)

    def close(self, repo: str, number: int, *, merged: bool = False) -> None:
        pull = self.pulls[(repo, number)]
        pull.state, pull.merged = "closed", merged

    def delete_fork(self, repo: str, number: int) -> None:
        """The contributor deletes the fork: `head.repo` reads null from now on; the PR's
        commits stay readable through the base repository (refs/pull/N/head)."""
        pull = self.pulls[(repo, number)]
        if pull.head_repo is not None and pull.head_repo.casefold() != repo.casefold():
            self.branches.pop((pull.head_repo.casefold(), pull.head_ref), None)
            self.repos.pop(pull.head_repo.casefold(), None)
        pull.head_repo = None

    def set_files(
        self,
        repo: str,
        number: int,
        files: Mapping[str, bytes | None],
        *,
        renamed: Mapping[str, str] | None = None,
        statuses: Mapping[str, str] | None = None,
    ) -> None:
        """What the PR changes at its current head, against its base: `files` maps a path to
        its new bytes (None: removed); `renamed` maps a new path to its old one; `statuses`
        overrides a path's status (copied, changed, unchanged)."""
        pull = self.pulls[(repo, number)]
        base = self.commits[pull.base_sha].tree if pull.base_sha in self.commits else {}
        head = dict(base)
        for new, old in (renamed or {}).items():
            head[new] = head.pop(old, b"")
        for path, data in files.items():
            if data is None:
                head.pop(path, None)
            else:
                head[path] = data
        self.commits[pull.head_sha] = _Commit(pull.head_sha, pull.head_repo or repo, head)
        changed = sorted({*files, *(renamed or {})})
        pull.files = [
            _pull_file(path, base, head, (renamed or {}).get(path), (statuses or {}).get(path))
            for path in changed
        ]

    def add_comment(self, repo: str, number: int, author: str, body: str) -> int:
        self.add_repo(repo)
        comment = _Comment(next(self._ids), repo, number, author, body, _now())
        self.comments[comment.id] = comment
        return comment.id

    def add_run(
        self,
        repo: str,
        workflow_file: str,
        head_sha: str,
        run_id: int,
        *,
        event: str = "pull_request",
        status: str = "completed",
    ) -> None:
        self.add_repo(repo)
        self.runs[run_id] = _Run(run_id, repo, workflow_file, head_sha, event, status)

    def fail_next(
        self,
        kind: str,
        *,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        assert kind in FAULT_KINDS, kind
        self.faults.extend(Fault(kind, method, path, retry_after) for _ in range(times))

    def before_next(self, method: str, path: str, other_job: Callable[[FakeGitHub], None]) -> None:
        """Another job's write lands just before the next `method` request matching `path`."""
        self.interleavings.append((method, path, other_job))

    # -- looking at the outcome ------------------------------------------------------------
    def writes(self) -> list[Logged]:
        return [r for r in self.requests if r.method != "GET"]

    def comments_on(self, repo: str, number: int) -> list[_Comment]:
        return [c for c in self.comments.values() if (c.repo, c.number) == (repo, number)]

    def labels_of(self, repo: str) -> list[str]:
        """The repository's label names, as spelled when created."""
        known = self.repos.get(repo.casefold())
        return (
            sorted((label.name for label in known.labels.values()), key=str.casefold)
            if known
            else []
        )

    def check_runs_on(self, repo: str, sha: str) -> list[_CheckRun]:
        """Every check run on the commit, oldest first, with all its annotations."""
        return [
            run
            for run in sorted(self.check_runs.values(), key=lambda run: run.id)
            if run.repo.casefold() == repo.casefold() and run.head_sha == sha
        ]

    # -- what GitHub knows ---------------------------------------------------------------------
    def allows(self, token: str, need: str) -> bool:
        """`need` is "scope:level", e.g. "issues:write"."""
        granted = self.permissions.get(token)
        if granted is None or need == "metadata:read":  # every token may read metadata
            return True
        scope, level = need.split(":")
        return LEVELS[granted.get(scope, "none")] >= LEVELS[level]

    def check_access(self, repo: str, doc: str, needs: tuple[str, ...]) -> None:
        """Answer as GitHub does for the caller's token: a private repository it cannot see is
        a 404; a write (or a private read) without one of `needs` is a 403."""
        known = self.repos.get(repo.casefold())
        scope = self.token_repos.get(self.caller)
        outside = scope is not None and repo.casefold() not in scope
        private = known is not None and known.private
        if private and outside:
            raise _Reply(404, {"message": "Not Found", "documentation_url": doc})
        writes = any(need.endswith(":write") for need in needs)
        # Each endpoint's docs: "can be used without authentication or the aforementioned
        # permissions if only public resources are requested" (reads only).
        if not writes and not private:
            return
        if not outside and any(self.allows(self.caller, need) for need in needs):
            return
        # The header GitHub adds to say what would do ("issues=write; pull_requests=write" for
        # adding labels, as quoted in lidge-jun/opencodex#615).
        accepted = "; ".join(need.replace("-", "_").replace(":", "=") for need in needs)
        body = {"message": NOT_ACCESSIBLE, "documentation_url": doc}
        raise _Reply(403, body, {"X-Accepted-GitHub-Permissions": accepted})

    def knows_repo(self, repo: str) -> bool:
        return repo.casefold() in self.repos

    def resolve(self, repo: str, ref: str) -> str | None:
        """The commit `ref` names in `repo`: a branch, refs/pull/N/head, or a SHA the repository
        can reach. A PR's head commits are reachable from the base repository, which keeps them
        under refs/pull/N/head even after the fork is gone (docs.github.com/pull-requests/
        collaborating-with-pull-requests/reviewing-changes-in-pull-requests/
        checking-out-pull-requests-locally); a commit that only a fork has is not."""
        key = repo.casefold()
        if key not in self.repos:
            return None
        ref = ref.removeprefix("refs/heads/")
        if (key, ref) in self.branches:
            return self.branches[(key, ref)]
        pr_ref = re.fullmatch(r"(?:refs/)?pull/(\d+)/head", ref)
        if pr_ref is not None:
            pull = self._pull_in(repo, int(pr_ref.group(1)))
            return pull.head_sha if pull is not None else None
        commit = self.commits.get(ref)
        if commit is None:
            return None
        if commit.repo.casefold() == key:
            return ref
        reached = any(
            ref in p.shas and key in (p.repo.casefold(), (p.head_repo or "").casefold())
            for p in self.pulls.values()
        )
        return ref if reached else None

    def _pull_in(self, repo: str, number: int) -> _Pull | None:
        pull = self.pulls.get((repo, number))
        if pull is not None:
            return pull
        key = repo.casefold()
        return next(
            (p for (name, n), p in self.pulls.items() if n == number and name.casefold() == key),
            None,
        )

    def _move_head(self, pull: _Pull, head_sha: str) -> None:
        previous = self.commits.get(pull.head_sha if pull.shas else pull.base_sha)
        tree = dict(previous.tree) if previous is not None else {}
        self.commits.setdefault(head_sha, _Commit(head_sha, pull.head_repo or pull.repo, tree))
        pull.head_sha = head_sha
        pull.shas.append(head_sha)
        if pull.head_repo is not None:
            self.branches[(pull.head_repo.casefold(), pull.head_ref)] = head_sha

    def _label_named(self, repo: str, name: str) -> str:
        """The repository's spelling of a label, created when it has none (arranging only)."""
        known = self.add_repo(repo)
        return known.labels.setdefault(name.casefold(), _Label(name)).name

    # -- JSON as GitHub returns it -----------------------------------------------------------
    def user_json(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": zlib.crc32(login.encode()),
            "node_id": f"U_{login}",
            "url": f"{self.url}/users/{urllib.parse.quote(login)}",
            "html_url": f"https://github.com/{login}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
        }

    def repo_json(self, full_name: str) -> dict[str, Any]:
        owner, name = full_name.split("/")
        known = self.repos.get(full_name.casefold())
        private = known is not None and known.private
        return {
            "id": zlib.crc32(full_name.encode()),
            "node_id": f"R_{full_name}",
            "name": name,
            "full_name": known.full_name if known is not None else full_name,
            "private": private,
            "visibility": "private" if private else "public",
            "owner": self.user_json(owner),
            "url": f"{self.url}/repos/{full_name}",
            "html_url": f"https://github.com/{full_name}",
            "fork": known is not None and known.fork,
            "default_branch": "main",
        }

    def label_json(self, repo: str, name: str) -> dict[str, Any]:
        known = self.repos.get(repo.casefold())
        label = known.labels.get(name.casefold()) if known is not None else None
        label = label or _Label(name)
        url = f"{self.url}/repos/{repo}/labels/{urllib.parse.quote(label.name)}"
        return {
            "id": zlib.crc32(f"{repo.casefold()}:{label.name.casefold()}".encode()),
            "node_id": f"L_{label.name}",
            "url": url,
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def pull_json(self, pull: _Pull) -> dict[str, Any]:
        data = _rebased(self.pr_template, self.url) if self.pr_template else {}
        api, web = f"{self.url}/repos/{pull.repo}", f"https://github.com/{pull.repo}"
        head = dict(data.get("head", {}))
        head.update(
            label=f"{pull.head_owner}:{pull.head_ref}",
            ref=pull.head_ref,
            sha=pull.head_sha,
            user=self.user_json(pull.head_owner),
            repo=self.repo_json(pull.head_repo) if pull.head_repo is not None else None,
        )
        base = dict(data.get("base", {}))
        owner = pull.repo.split("/")[0]
        base.update(
            label=f"{owner}:{pull.base_ref}",
            ref=pull.base_ref,
            sha=pull.base_sha,
            user=self.user_json(owner),
            repo=self.repo_json(pull.repo),
        )
        issue = f"{api}/issues/{pull.number}"
        additions = sum(f.additions for f in pull.files)
        deletions = sum(f.deletions for f in pull.files)
        data.update(
            url=f"{api}/pulls/{pull.number}",
            html_url=f"{web}/pull/{pull.number}",
            issue_url=issue,
            comments_url=f"{issue}/comments",
            commits_url=f"{api}/pulls/{pull.number}/commits",
            statuses_url=f"{api}/statuses/{pull.head_sha}",
            id=pull.number * 1000,
            node_id=f"PR_{pull.number}",
            number=pull.number,
            state=pull.state,
            title="Add a leaf",
            user=self.user_json(pull.author),
            author_association=pull.association,
            head=head,
            base=base,
            draft=False,
            merged=pull.merged,
            merged_at=_now() if pull.merged else None,
            closed_at=_now() if pull.state == "closed" else None,
            mergeable=None,  # computed lazily by GitHub: null on the first read
            commits=len(pull.shas),
            changed_files=len(pull.files),  # the real count, even past the 3000 files listed
            additions=additions,
            deletions=deletions,
            labels=[self.label_json(pull.repo, name) for name in pull.labels],
        )
        return data

    def pull_ref_json(self, pull: _Pull) -> dict[str, Any]:
        head = (pull.head_ref, pull.head_sha, pull.head_repo or pull.repo)
        return minimal_pull(self.url, pull.repo, pull.number, head, (pull.base_ref, pull.base_sha))

    def comment_json(self, comment: _Comment) -> dict[str, Any]:
        data = _rebased(self.comment_template, self.url) if self.comment_template else {}
        api = f"{self.url}/repos/{comment.repo}"
        data.update(
            id=comment.id,
            node_id=f"IC_{comment.id}",
            body=comment.body,
            url=f"{api}/issues/comments/{comment.id}",
            issue_url=f"{api}/issues/{comment.number}",
            html_url=f"https://github.com/{comment.repo}/pull/{comment.number}#issuecomment-{comment.id}",
            user=self.user_json(comment.author),
            created_at=comment.created,
            updated_at=_now(),
            author_association="NONE",
        )
        return data

    def run_json(self, run: _Run) -> dict[str, Any]:
        data = _rebased(self.run_template, self.url) if self.run_template else {}
        api = f"{self.url}/repos/{run.repo}/actions/runs/{run.id}"
        data.update(
            id=run.id,
            node_id=f"WFR_{run.id}",
            path=f".github/workflows/{run.workflow_file}",
            head_sha=run.head_sha,
            event=run.event,
            status=run.status,
            conclusion="success" if run.status == "completed" else None,
            run_attempt=run.run_attempt,
            url=api,
            rerun_url=f"{api}/rerun",
            html_url=f"https://github.com/{run.repo}/actions/runs/{run.id}",
            repository=self.repo_json(run.repo),
        )
        return data

    def file_json(self, pull: _Pull, entry: _PullFile) -> dict[str, Any]:
        path = urllib.parse.quote(entry.filename)
        web = f"https://github.com/{pull.repo}"
        data: dict[str, Any] = {
            "sha": entry.sha,
            "filename": entry.filename,
            "status": entry.status,
            "additions": entry.additions,
            "deletions": entry.deletions,
            "changes": entry.additions + entry.deletions,
            "blob_url": f"{web}/blob/{pull.head_sha}/{path}",
            "raw_url": f"{web}/raw/{pull.head_sha}/{path}",
            "contents_url": f"{self.url}/repos/{pull.repo}/contents/{path}?ref={pull.head_sha}",
        }
        if entry.patch is not None:  # GitHub leaves `patch` out for binary files
            data["patch"] = entry.patch
        if entry.previous_filename is not None:  # renamed entries only
            data["previous_filename"] = entry.previous_filename
        return data

    def content_json(self, repo: str, path: str, ref: str, data: bytes | None) -> dict[str, Any]:
        """A file (`data`) or a folder entry (None) as the contents endpoint describes it."""
        quoted = urllib.parse.quote(path)
        sha = _blob_sha(data) if data is not None else _tree_sha(repo, ref, path)
        api = f"{self.url}/repos/{repo}/contents/{quoted}?ref={ref}"
        kind = "file" if data is not None else "dir"
        html = f"https://github.com/{repo}/{'blob' if data is not None else 'tree'}/{ref}/{quoted}"
        git = f"{self.url}/repos/{repo}/git/{'blobs' if data is not None else 'trees'}/{sha}"
        raw = f"https://raw.githubusercontent.com/{repo}/{ref}/{quoted}"
        return {
            "type": kind,
            "size": len(data) if data is not None else 0,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": api,
            "html_url": html,
            "git_url": git,
            "download_url": raw if data is not None else None,
            "_links": {"self": api, "git": git, "html": html},
        }

    def linked_file(self, sha: str, path: str) -> str | None:
        """Where a symbolic link at `path` leads, if that is a plain file of the commit."""
        kind, target = self.no_files[(sha, path)]
        parts: list[str] = path.split("/")[:-1]
        for part in target.split("/"):
            if part == "..":
                if not parts:
                    return None  # out of the repository
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        found = "/".join(parts)
        plain = found in self.commits[sha].tree and (sha, found) not in self.no_files
        return found if kind == "symlink" and not target.startswith("/") and plain else None

    def tree_json(self, repo: str, sha: str, folder: str, recursive: bool) -> dict[str, Any]:
        """The answer to "Get a tree" for `folder` at commit `sha`: entries in git's order (a
        folder before what it holds), each with its mode and type; a recursive listing is cut at
        GitHub's limits with `truncated: true` (TREE_MAX_ENTRIES, TREE_MAX_BYTES)."""
        tree_sha, entries = self._tree_entries(repo, sha, folder, recursive)
        kept, size = [], 0
        for entry in entries:
            size += len(json.dumps(entry))
            if recursive and (len(kept) >= self.tree_max_entries or size > TREE_MAX_BYTES):
                break
            kept.append(entry)
        url = f"{self.url}/repos/{repo}/git/trees/{tree_sha}"
        return {"sha": tree_sha, "url": url, "tree": kept, "truncated": len(kept) < len(entries)}

    def _tree_entries(
        self, repo: str, sha: str, folder: str, recursive: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """The folder's sha and its entries. The sha is content-addressed as git's are (equal
        folders, equal ids), though not git's exact bytes; `trees` remembers where it is."""
        files = self.commits[sha].tree
        prefix = f"{folder}/" if folder else ""
        names: dict[str, bool] = {}  # child name -> is a folder
        for path in files:
            if path.startswith(prefix):
                name, sep, _ = path[len(prefix) :].partition("/")
                names[name] = names.get(name, False) or bool(sep)
        entries: list[dict[str, Any]] = []
        ids: list[str] = []
        for name in sorted(names):
            full = prefix + name
            if names[name]:
                sub_sha, below = self._tree_entries(repo, sha, full, recursive)
                entry = {"mode": "040000", "type": "tree", "sha": sub_sha}
                entry["url"] = f"{self.url}/repos/{repo}/git/trees/{sub_sha}"
            else:
                entry, below = self._tree_blob(repo, sha, full), []
            entries.append({"path": full if recursive else name, **entry})
            entries.extend(below if recursive else [])
            ids.append(f"{entry['mode']} {name} {entry['sha']}")
        tree_sha = hashlib.sha1("\n".join(ids).encode(), usedforsecurity=False).hexdigest()
        self.trees.setdefault(tree_sha, (sha, folder))
        return tree_sha, entries

    def _tree_blob(self, repo: str, sha: str, path: str) -> dict[str, Any]:
        """A file (100644), a symbolic link (120000: a blob holding its target) or a submodule
        (160000, type "commit": the submodule's commit, no size) as git stores each."""
        data = self.commits[sha].tree[path]
        kind = self.no_files.get((sha, path), ("file", ""))[0]
        if kind == "submodule":
            commit = hashlib.sha1(data, usedforsecurity=False).hexdigest()
            return {"mode": "160000", "type": "commit", "sha": commit}
        blob = _blob_sha(data)
        return {
            "mode": "120000" if kind == "symlink" else "100644",
            "type": "blob",
            "sha": blob,
            "size": len(data),
            "url": f"{self.url}/repos/{repo}/git/blobs/{blob}",
        }

    def content_entry(self, repo: str, path: str, ref: str, sha: str) -> dict[str, Any]:
        """Docs, "Get repository content": "If the requested {path} points to a symlink, and
        the symlink's target is a normal file in the repository, then the API responds with the
        content of the file. Otherwise, the API responds with an object describing the symlink
        itself" (`type` "symlink", `target`); "If the requested {path} points to a submodule,
        the API responds with an object describing the submodule" (`type` "submodule",
        `submodule_git_url`, no content). A link to a plain file is `linked_file`'s."""
        kind, target = self.no_files[(sha, path)]
        entry = self.content_json(repo, path, ref, target.encode())
        entry["type"] = kind
        if kind == "symlink":
            entry["target"] = target
        else:
            entry.update(size=0, download_url=None, submodule_git_url=target)
        return entry

    def check_run_json(self, run: _CheckRun) -> dict[str, Any]:
        api = f"{self.url}/repos/{run.repo}/check-runs/{run.id}"
        html = f"https://github.com/{run.repo}/runs/{run.id}"
        # Docs: "Pushes to a branch in a forked repository are not detected and return an empty
        # pull_requests array": only same-repository open PRs with this head are named.
        pulls = [
            self.pull_ref_json(p)
            for p in self.pulls.values()
            if p.state == "open"
            and p.head_sha == run.head_sha
            and p.repo.casefold() == run.repo.casefold()
            and (p.head_repo or "").casefold() == run.repo.casefold()
        ]
        return {
            "id": run.id,
            "name": run.name,
            "node_id": f"CR_{run.id}",
            "head_sha": run.head_sha,
            "external_id": run.external_id,
            "url": api,
            "html_url": html,
            # Measured (robbeverhelst/sluiceway docs/research/preview-page.md, 2026-09-22): GitHub
            # ignores the details_url a GITHUB_TOKEN sends and sets it to the run's html_url.
            "details_url": html,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": run.started_at,
            "completed_at": run.completed_at,
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": len(run.annotations),
                "annotations_url": f"{api}/annotations",
            },
            "check_suite": {"id": zlib.crc32(f"{run.repo}:{run.head_sha}".encode())},
            "app": GITHUB_ACTIONS_APP,
            "pull_requests": pulls,
        }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _rebased(value: Any, base: str) -> Any:
    """Point every api.github.com URL of a payload at the fake."""
    if isinstance(value, str):
        return value.replace("https://api.github.com", base)
    if isinstance(value, dict):
        return {k: _rebased(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebased(v, base) for v in value]
    return copy.copy(value)


def _blob_sha(data: bytes) -> str:
    """Git's object id of a blob, as GitHub reports a file's `sha`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _tree_sha(repo: str, ref: str, path: str) -> str:
    return hashlib.sha1(f"tree:{repo}:{ref}:{path}".encode(), usedforsecurity=False).hexdigest()


def _text(data: bytes) -> list[str] | None:
    """The lines of a text file; None for a binary one (git's rule: a NUL byte in the first
    8000 bytes), for which GitHub counts no lines and sends no patch."""
    if b"\0" in data[:8000]:
        return None
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None


def _status(before: bytes | None, after: bytes | None, old: str | None) -> str:
    if after is None:
        return "removed"
    if old is not None:
        return "renamed"
    return "added" if before is None else "modified"


def _pull_file(
    path: str, base: dict[str, bytes], head: dict[str, bytes], old: str | None, status: str | None
) -> _PullFile:
    before, after = base.get(old or path), head.get(path)
    status = status or _status(before, after, old)
    assert status in FILE_STATUSES, status
    entry = _PullFile(path, status, _blob_sha(after if after is not None else before or b""))
    entry.previous_filename = old if status == "renamed" else None
    old_lines, new_lines = _text(before or b""), _text(after or b"")
    if old_lines is not None and new_lines is not None:
        diff = list(difflib.unified_diff(old_lines, new_lines, lineterm="", n=3))[2:]
        entry.additions = sum(1 for line in diff if line.startswith("+"))
        entry.deletions = sum(1 for line in diff if line.startswith("-"))
        entry.patch = "\n".join(diff) if diff else None
    return entry


def _base64_lines(data: bytes) -> str:
    """Base64 with a newline after every 60 characters, as GitHub sends `content` (Ruby's
    Base64.encode64; e.g. the docs' example response of "Get repository content")."""
    encoded = base64.b64encode(data).decode("ascii")
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def _not_found(doc: str = DOCS, message: str = "Not Found") -> _Reply:
    return _Reply(404, {"message": message, "documentation_url": doc})


def _invalid(
    doc: str, message: str = "Validation Failed", error: Mapping[str, str] | None = None
) -> _Reply:
    """422. The status is what the docs give; the wording is GitHub's where a public report
    quotes it (cited at the call), a plain "Validation Failed" otherwise."""
    body: dict[str, Any] = {"message": message, "documentation_url": doc}
    if error:
        body["errors"] = [dict(error)]
    return _Reply(422, body)


REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"
Answer = tuple[int, Any, dict[str, str]]  # status, JSON (or an HTML string), headers
Route = Callable[..., Answer]


class _Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path, query = urllib.parse.unquote(parts.path), dict(urllib.parse.parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        with self.server.lock:
            for entry in self.server.interleavings:
                if entry[0] == method and re.fullmatch(entry[1], path):
                    self.server.interleavings.remove(entry)
                    entry[2](self.server)
                    break
            fault = next((f for f in self.server.faults if f.matches(method, path)), None)
            if fault is not None:
                self.server.faults.remove(fault)
            try:
                body = json.loads(raw) if raw else None
            except ValueError:  # GitHub: 400 "Problems parsing JSON"
                body = _Unparsed(raw)
            status, payload, headers = self._answer(method, path, query, body, fault)
            logged = body.raw if isinstance(body, _Unparsed) else body
            self.server.requests.append(Logged(method, path, query, status, logged))
        if fault is not None and fault.kind == "store-then-drop":
            self.close_connection = True  # the server did the work; the client hears nothing
            return
        self._send(status, payload, headers)

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: Any, fault: Fault | None
    ) -> Answer:
        if fault is not None and not fault.kind.startswith("store-then"):
            return _fault_reply(fault)
        try:
            login = self._login()
            if isinstance(body, _Unparsed):
                raise _Reply(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
            status, payload, headers = _route(self.server, login, method, path, query, body)
        except _Reply as reply:
            status, payload, headers = reply.status, reply.body, reply.headers
        if fault is not None and fault.kind == "store-then-502":
            return 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}
        return status, payload, headers

    def _login(self) -> str:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        login = self.server.token_logins.get(token)
        if scheme.lower() not in ("token", "bearer") or login is None:
            raise _Reply(401, {"message": "Bad credentials", "documentation_url": DOCS})
        self.server.caller = token
        if self.path == "/user" and token in self.server.app_tokens:
            raise _Reply(403, {"message": NOT_ACCESSIBLE, "documentation_url": DOCS})
        return login

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        if status >= 400 and isinstance(payload, dict) and "message" in payload:
            # GitHub's error bodies carry the status as a string too (e.g. the 403s quoted in
            # belastingdienst/opr-paas#61: `status: '403'`).
            payload = {**payload, "status": str(status)}
        raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        kind = "text/html" if isinstance(payload, str) else "application/json; charset=utf-8"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        number = next(self.server._request_ids)
        for name, value in {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Request-Id": f"FAKE:{number:04X}:{zlib.crc32(self.path.encode()):08X}",
            **headers,
        }.items():
            self.send_header(name, value)
        self.end_headers()
        if raw and status not in (204, 304):
            self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


@dataclass(frozen=True)
class _Unparsed:
    raw: bytes


def _fault_reply(fault: Fault) -> Answer:
    if fault.kind == "secondary-rate-limit":
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        return 403, {"message": SECONDARY_MESSAGE, "documentation_url": DOCS}, headers
    if fault.kind == "primary-rate-limit":
        reset = str(int(time.time()) + (fault.retry_after or 0))
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return 403, {"message": "API rate limit exceeded for installation ID 1."}, headers
    return int(fault.kind), {"message": "Server Error"}, {}


def _route(
    fake: FakeGitHub, login: str, method: str, path: str, query: dict[str, str], body: Any
) -> Answer:
    for verb, pattern, handler in ROUTES:
        match = re.fullmatch(pattern, path)
        if match and verb == method:
            return handler(fake, login, match.groupdict(), body, query)
    raise _not_found()


def needs(doc: str, *grants: str) -> Callable[[Route], Route]:
    """The route answers as `FakeGitHub.check_access` decides for one of `grants` (each endpoint's
    "Fine-grained access tokens" section on its docs page `doc`)."""

    def wrap(handler: Route) -> Route:
        @functools.wraps(handler)
        def checked(
            fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
        ) -> Answer:
            fake.check_access(args.get("repo", ""), doc, grants)
            return handler(fake, login, args, body, query)

        return checked

    return wrap


def _paged(
    fake: FakeGitHub, items: list[Any], query: dict[str, str], path: str
) -> tuple[list[Any], dict[str, str]]:
    """One page (30 by default, at most 100: docs "Using pagination in the REST API") and the
    Link header that names the next and last pages."""
    per_page = max(1, min(_int(query.get("per_page"), 30), 100))
    page = max(1, _int(query.get("page"), 1))
    chunk = items[(page - 1) * per_page : page * per_page]
    last = max(1, -(-len(items) // per_page))
    rest = {k: v for k, v in query.items() if k not in ("page", "per_page")}
    url = f"{fake.url}{path}?" + urllib.parse.urlencode({**rest, "per_page": per_page}) + "&page="
    links = [f'<{url}{page + 1}>; rel="next"', f'<{url}{last}>; rel="last"'] if page < last else []
    if page > 1:
        links += [f'<{url}{page - 1}>; rel="prev"', f'<{url}1>; rel="first"']
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
    per_page, page = min(_int(query.get("per_page"), 30), 100), _int(query.get("page"), 1)
    return items[(page - 1) * per_page : page * per_page]


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


# ---- repositories, pull requests, commits ------------------------------------------------------


def _pull(fake: FakeGitHub, args: dict[str, str]) -> _Pull:
    pull = fake._pull_in(args["repo"], int(args["number"]))
    if pull is None:
        raise _not_found(DOC_PULLS)
    return pull


def _known(fake: FakeGitHub, args: dict[str, str], doc: str) -> str:
    if not fake.knows_repo(args["repo"]):
        raise _not_found(doc)
    return args["repo"]


def get_user(fake: FakeGitHub, login: str, args: Any, body: Any, query: Any) -> Answer:
    return 200, fake.user_json(login), {}


@needs(DOC_REPOS, "metadata:read")
def get_repo(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: Any) -> Answer:
    return 200, fake.repo_json(_known(fake, args, DOC_REPOS)), {}


@needs(DOC_PULLS, "pull-requests:read")
def get_pull(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: Any) -> Answer:
    return 200, fake.pull_json(_pull(fake, args)), {}


@needs(DOC_PULLS, "pull-requests:read")
def list_pulls(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    """GET /repos/{repo}/pulls: open ones by default, newest first (sort=created, desc)."""
    repo = _known(fake, args, DOC_PULLS)
    state = query.get("state", "open")
    if state not in PULL_STATES:
        error = {"resource": "PullRequest", "code": "invalid", "field": "state"}
        raise _invalid(f"{DOC_PULLS}#list-pull-requests", error=error)
    found = [
        p
        for p in fake.pulls.values()
        if p.repo.casefold() == repo.casefold()
        and state in ("all", p.state)
        and _head_matches(p, query.get("head"))
        and query.get("base", p.base_ref) == p.base_ref
    ]
    found.sort(key=lambda p: -p.number)
    chunk, links = _paged(fake, found, query, f"/repos/{repo}/pulls")
    return 200, [fake.pull_json(p) for p in chunk], links


def _head_matches(pull: _Pull, head: str | None) -> bool:
    """Docs: `head` filters "by head user or head organization and branch name in the format of
    user:ref-name". A bare branch name is silently ignored, every PR matches
    (argoproj-labs/gitops-promoter#1417, community discussion 24354). A deleted fork's PR has
    no head repository left to match."""
    if head is None or ":" not in head:
        return True
    owner, ref = head.split(":", 1)
    return (
        pull.head_repo is not None
        and pull.head_repo.split("/")[0].casefold() == owner.casefold()
        and pull.head_ref == ref
    )


@needs(DOC_COMMITS, "pull-requests:read")
def commit_pulls(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    """Docs: the merged PR that brought the commit into the repository, else the open PRs with
    it. A commit that only a fork has is unknown here: the base repository answers [] for a
    fork PR's head, the fork itself names the PR (measured in TooTallNate/nx.js#410; also
    retransmission/retransmission#280, learningequality/kolibri#14719)."""
    repo = args["repo"].casefold()

    def linked(p: _Pull) -> bool:
        base, head = p.repo.casefold(), (p.head_repo or "").casefold()
        if p.merged:
            return base == repo
        return p.state == "open" and head == repo  # same-repo PRs, or asked of the fork

    found = [fake.pull_json(p) for p in fake.pulls.values() if args["sha"] in p.shas and linked(p)]
    return 200, found, {}


@needs(f"{DOC_PULLS}#list-pull-requests-files", "pull-requests:read")
def list_files(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    """Docs: "Responses include a maximum of 3000 files"; the pull's changed_files still counts
    them all."""
    pull = _pull(fake, args)
    listed = pull.files[:MAX_PULL_FILES]
    chunk, links = _paged(fake, listed, query, f"/repos/{pull.repo}/pulls/{pull.number}/files")
    return 200, [fake.file_json(pull, entry) for entry in chunk], links


@needs(DOC_CONTENTS, "contents:read")
def get_contents(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = _known(fake, args, DOC_CONTENTS)
    ref = query.get("ref", "main")
    sha = fake.resolve(repo, ref)
    if sha is None:  # googleapis/repo-automation-bots#4725, packit/packit#767
        raise _not_found(DOC_CONTENTS, f"No commit found for the ref {ref}")
    tree = fake.commits[sha].tree if sha in fake.commits else {}
    path = args.get("path", "").strip("/")
    if (sha, path) in fake.no_files:
        target = fake.linked_file(sha, path)
        if target is not None:  # the docs: "the API responds with the content of the file"
            return 200, _file_content(fake, repo, target, ref, tree[target]), {}
        return 200, fake.content_entry(repo, path, ref, sha), {}
    if path in tree:
        return 200, _file_content(fake, repo, path, ref, tree[path]), {}
    prefix = f"{path}/" if path else ""
    below = sorted({p[len(prefix) :].split("/")[0] for p in tree if p.startswith(prefix)})
    if not below:
        raise _not_found(DOC_CONTENTS)
    entries = []
    for name in below:  # a folder: one entry per child, files and folders alike
        child = f"{prefix}{name}"
        entries.append(fake.content_json(repo, child, ref, tree.get(child)))
    return 200, entries, {}


@needs(DOC_TREES, "contents:read")
def get_tree(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    """Docs: `tree_sha` is "The SHA1 value or ref (branch or tag) name of the tree" (a commit's
    sha names its tree); "Setting this parameter to any value returns the objects or subtrees
    referenced by the tree" (`recursive`); an unknown or unreachable tree is a 404."""
    repo = _known(fake, args, DOC_TREES)
    wanted = urllib.parse.unquote(args["sha"])
    commit = fake.resolve(repo, wanted)
    folder = ""
    if commit is None and wanted in fake.trees:
        commit, folder = fake.trees[wanted]
        commit = fake.resolve(repo, commit)
    if commit is None or commit not in fake.commits:
        raise _not_found(DOC_TREES)
    return 200, fake.tree_json(repo, commit, folder, "recursive" in query), {}


def _file_content(fake: FakeGitHub, repo: str, path: str, ref: str, data: bytes) -> Any:
    """Docs, "Size limits": up to 1 MB the content comes base64-encoded; between 1 and 100 MB
    `content` is "" and `encoding` "none"; over 100 MB the endpoint refuses with 403 and a
    too_large error (the error's shape as public reports quote it: JasonEtco/todo#43,
    tinacms/tinacms#1308)."""
    if len(data) > HUNDRED_MB:
        message = (
            "This API returns blobs up to 100 MB in size. The requested blob is too large to "
            "fetch via the API."
        )
        error = {"resource": "Blob", "field": "data", "code": "too_large"}
        raise _Reply(
            403, {"message": message, "errors": [error], "documentation_url": DOC_CONTENTS}
        )
    entry = fake.content_json(repo, path, ref, data)
    if len(data) > ONE_MB:
        return {**entry, "content": "", "encoding": "none"}
    return {**entry, "content": _base64_lines(data), "encoding": "base64"}


# ---- comments and reactions ----------------------------------------------------------------------


def _comment_body(body: Any, doc: str) -> str:
    if not isinstance(body, dict) or not isinstance(body.get("body"), str):
        error = {"resource": "IssueComment", "code": "missing_field", "field": "body"}
        raise _invalid(doc, error=error)
    if len(body["body"]) > COMMENT_MAX:  # the refusal as quoted in jmikedupont2/ai-ticket#51
        error = {
            "resource": "IssueComment",
            "code": "unprocessable",
            "field": "data",
            "message": f"Body is too long (maximum is {COMMENT_MAX} characters)",
        }
        raise _invalid(doc, error=error)
    return str(body["body"])


@needs(DOC_COMMENTS, "issues:read", "pull-requests:read")
def list_comments(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    pull = _pull(fake, args)
    every = sorted(fake.comments_on(pull.repo, pull.number), key=lambda c: c.id)
    chunk, links = _paged(fake, every, query, f"/repos/{pull.repo}/issues/{pull.number}/comments")
    return 200, [fake.comment_json(c) for c in chunk], links


# Docs, "Create an issue comment": "Issues" or "Pull requests" repository permissions (write).
@needs(f"{DOC_COMMENTS}#create-an-issue-comment", "issues:write", "pull-requests:write")
def create_comment(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    pull = _pull(fake, args)
    text = _comment_body(body, f"{DOC_COMMENTS}#create-an-issue-comment")
    comment_id = fake.add_comment(pull.repo, pull.number, login, text)
    return 201, fake.comment_json(fake.comments[comment_id]), {}


def _comment(fake: FakeGitHub, args: dict[str, str]) -> _Comment:
    comment = fake.comments.get(int(args["id"]))
    if comment is None or comment.repo.casefold() != args["repo"].casefold():
        raise _not_found(DOC_COMMENTS)
    return comment


@needs(f"{DOC_COMMENTS}#update-an-issue-comment", "issues:write", "pull-requests:write")
def edit_comment(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    comment = _comment(fake, args)
    comment.body = _comment_body(body, f"{DOC_COMMENTS}#update-an-issue-comment")
    return 200, fake.comment_json(comment), {}


@needs(f"{DOC_COMMENTS}#delete-an-issue-comment", "issues:write", "pull-requests:write")
def delete_comment(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    comment = _comment(fake, args)
    del fake.comments[comment.id]
    return 204, None, {}


@needs(DOC_REACTIONS, "issues:write", "pull-requests:write")
def add_reaction(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    comment = _comment(fake, args)
    content = body.get("content") if isinstance(body, dict) else None
    if content not in REACTIONS:
        raise _invalid(DOC_REACTIONS)
    status = 200 if (login, content) in comment.reactions else 201  # GitHub: 200 if it existed
    if status == 201:
        comment.reactions.append((login, content))
    reaction = {
        "id": zlib.crc32(f"{comment.id}:{login}:{content}".encode()),
        "node_id": f"REA_{comment.id}",
        "user": fake.user_json(login),
        "content": content,
        "created_at": _now(),
    }
    return status, reaction, {}


# ---- labels --------------------------------------------------------------------------------------


@needs(DOC_LABELS, "issues:read", "pull-requests:read")
def list_labels(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    repo = _known(fake, args, DOC_LABELS)
    chunk, links = _paged(fake, fake.labels_of(repo), query, f"/repos/{repo}/labels")
    return 200, [fake.label_json(repo, name) for name in chunk], links


# Docs list issues:write or pull-requests:write, but since 2025 only issues:write creates a label:
# docker-library/official-images#19241 ("pull-request: write is no longer enough to create new
# labels", citing community discussion 156181).
@needs(f"{DOC_LABELS}#create-a-label", "issues:write")
def create_label(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    repo = _known(fake, args, DOC_LABELS)
    doc = f"{DOC_LABELS}#create-a-label"
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise _invalid(doc, error={"resource": "Label", "code": "missing_field", "field": "name"})
    if body["name"].casefold() in fake.repos[repo.casefold()].labels:  # yegor256/0pdd#160
        raise _invalid(doc, error={"resource": "Label", "code": "already_exists", "field": "name"})
    color = str(body.get("color") or "ededed").removeprefix("#")
    fake.add_label(repo, body["name"], color=color, description=body.get("description"))
    return 201, fake.label_json(repo, body["name"]), {}


@needs(f"{DOC_LABELS}#add-labels-to-an-issue", "issues:write", "pull-requests:write")
def add_labels(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    """A name the repository lacks creates the label, which takes issues:write (see
    create_label); an existing one matches case-insensitively and keeps its spelling."""
    pull = _pull(fake, args)
    names = body.get("labels", []) if isinstance(body, dict) else body
    if not isinstance(names, list):
        raise _invalid(f"{DOC_LABELS}#add-labels-to-an-issue")
    names = [n.get("name") if isinstance(n, dict) else n for n in names]
    if not all(isinstance(n, str) and n for n in names):
        raise _invalid(f"{DOC_LABELS}#add-labels-to-an-issue")
    known = fake.add_repo(pull.repo).labels
    if any(n.casefold() not in known for n in names):
        fake.check_access(pull.repo, f"{DOC_LABELS}#create-a-label", ("issues:write",))
    for name in names:
        spelled = fake._label_named(pull.repo, name)
        if spelled.casefold() not in (label.casefold() for label in pull.labels):
            pull.labels.append(spelled)
    return 200, [fake.label_json(pull.repo, name) for name in pull.labels], {}


@needs(f"{DOC_LABELS}#remove-a-label-from-an-issue", "issues:write", "pull-requests:write")
def remove_label(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    pull = _pull(fake, args)
    found = [label for label in pull.labels if label.casefold() == args["name"].casefold()]
    if not found:
        raise _not_found(f"{DOC_LABELS}#remove-a-label-from-an-issue", "Label does not exist")
    pull.labels.remove(found[0])
    return 200, [fake.label_json(pull.repo, name) for name in pull.labels], {}


# ---- Actions runs --------------------------------------------------------------------------------


@needs(DOC_RUNS, "actions:read")
def list_runs(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    """GET .../actions/workflows/{file}/runs: newest first, filtered like GitHub filters."""
    found = sorted(
        (
            run
            for run in fake.runs.values()
            if run.repo == args["repo"]
            and run.workflow_file == args["file"]
            and query.get("head_sha", run.head_sha) == run.head_sha
            and query.get("event", run.event) == run.event
        ),
        key=lambda run: -run.id,
    )
    chunk = _page(found, query)
    return 200, {"total_count": len(found), "workflow_runs": [fake.run_json(r) for r in chunk]}, {}


@needs(f"{DOC_RUNS}#re-run-a-workflow", "actions:write")
def rerun(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    run = fake.runs.get(int(args["id"]))
    if run is None or run.repo != args["repo"]:
        raise _not_found(DOC_RUNS)
    if run.status != "completed":
        raise _Reply(403, {"message": "This workflow run is not completed"})
    run.reruns, run.run_attempt, run.status = run.reruns + 1, run.run_attempt + 1, "queued"
    return 201, {}, {}


# ---- check runs ----------------------------------------------------------------------------------
# Docs: docs.github.com/rest/checks/runs. Where the docs give no wording, the 422 messages are the
# ones measured against GitHub with a workflow token in robbeverhelst/sluiceway
# docs/research/preview-page.md (a public write-up, 2026-09-22): "No more than 50 items
# are allowed; 51 were supplied.", "Only 65535 characters are allowed; 65536 were supplied.",
# "summary exceeds a maximum bytesize of 65535"; the same probes found `output.text` over 65,535
# UTF-8 bytes cut there without an error, and a PATCH's output replacing the whole output.

DOC_CREATE_CHECK = f"{DOC_CHECKS}#create-a-check-run"
DOC_UPDATE_CHECK = f"{DOC_CHECKS}#update-a-check-run"


def _check_run(fake: FakeGitHub, args: dict[str, str]) -> _CheckRun:
    run = fake.check_runs.get(int(args["id"]))
    if run is None or run.repo.casefold() != args["repo"].casefold():
        raise _not_found(DOC_CHECKS)
    return run


def _only_apps(fake: FakeGitHub) -> None:
    """Docs: "OAuth apps and authenticated users are not able to create a check suite." (GitHub
    answers a user's token with this message.)"""
    if fake.caller not in fake.app_tokens:
        raise _Reply(
            403,
            {"message": "You must authenticate via a GitHub App.", "documentation_url": DOC_CHECKS},
        )


def _one_of(body: dict[str, Any], key: str, allowed: tuple[str, ...], doc: str) -> str | None:
    value = body.get(key)
    if value is not None and value not in allowed:
        members = ", ".join(f'"{a}"' for a in allowed)
        raise _invalid(
            doc,
            f"Invalid request.\n\nFor 'properties/{key}', \"{value}\" is not a member of "
            f"[{members}].",
        )
    return value


def _status_and_conclusion(
    body: dict[str, Any], doc: str, had: str | None
) -> tuple[str | None, str | None]:
    """Docs: conclusion is "Required if you provide completed_at or a status of completed";
    "Providing conclusion will automatically set the status parameter to completed"."""
    status = _one_of(body, "status", CHECK_STATUSES, doc)
    conclusion = _one_of(body, "conclusion", CONCLUSIONS, doc)
    if conclusion is not None:
        status = "completed"
    wants_end = status == "completed" or body.get("completed_at") is not None
    if wants_end and conclusion is None and had is None:
        raise _invalid(doc, 'Invalid request.\n\n"conclusion" wasn\'t supplied.')
    return status, conclusion


def _output(body: dict[str, Any], doc: str) -> dict[str, Any] | None:
    output = body.get("output")
    if output is None:
        return None
    if not isinstance(output, dict):
        raise _invalid(doc, "Invalid request.\n\nFor 'properties/output', it is not an object.")
    for key in ("title", "summary"):  # docs: both "Required" in an output object
        if not isinstance(output.get(key), str):
            raise _invalid(doc, f'Invalid request.\n\n"{key}" wasn\'t supplied.')
    for key in ("summary", "text"):
        value = output.get(key)
        if isinstance(value, str) and len(value) > OUTPUT_MAX:
            raise _invalid(
                doc, f"Only {OUTPUT_MAX} characters are allowed; {len(value)} were supplied."
            )
    if len(output["summary"].encode()) > OUTPUT_MAX:
        raise _invalid(doc, f"summary exceeds a maximum bytesize of {OUTPUT_MAX}")
    text = output.get("text")
    if isinstance(text, str):  # cut at 65,535 bytes on a character boundary, silently
        text = text.encode()[:OUTPUT_MAX].decode("utf-8", "ignore")
    annotations = output.get("annotations") or []
    if not isinstance(annotations, list):
        raise _invalid(doc, "Invalid request.\n\nFor 'properties/annotations', it is not an array.")
    if len(annotations) > ANNOTATIONS_PER_REQUEST:
        raise _invalid(
            doc,
            f"No more than {ANNOTATIONS_PER_REQUEST} items are allowed; "
            f"{len(annotations)} were supplied.",
        )
    return {
        "title": output["title"],
        "summary": output["summary"],
        "text": text,
        "annotations": [_annotation(a, doc) for a in annotations],
    }


def _annotation(raw: Any, doc: str) -> dict[str, Any]:
    """Docs, the annotations object: path, start_line, end_line, annotation_level (notice,
    warning or failure) and message are required; "Annotations only support start_column and
    end_column on the same line. Omit this parameter if start_line and end_line have different
    values." (The fake refuses levels and columns the docs rule out; a probe saw GitHub store a
    level "error": stricter here is safe.) message and raw_details: at most 64 KB; title: 255."""
    if not isinstance(raw, dict):
        raise _invalid(doc, "Invalid request.\n\nFor 'items', it is not an object.")
    for key in ("path", "start_line", "end_line", "annotation_level", "message"):
        if raw.get(key) is None:
            raise _invalid(doc, f'Invalid request.\n\n"{key}" wasn\'t supplied.')
    if not isinstance(raw["start_line"], int) or not isinstance(raw["end_line"], int):
        raise _invalid(
            doc, "Invalid request.\n\nFor 'properties/start_line', it is not an integer."
        )
    _one_of(raw, "annotation_level", ANNOTATION_LEVELS, doc)
    columns = raw.get("start_column") is not None or raw.get("end_column") is not None
    if columns and raw["start_line"] != raw["end_line"]:
        raise _invalid(
            doc, "Annotations only support start_column and end_column on the same line."
        )
    if len(str(raw.get("title") or "")) > 255:
        raise _invalid(doc, "Only 255 characters are allowed in an annotation's title.")
    for key in ("message", "raw_details"):
        if len(str(raw.get(key) or "").encode()) > 64 * 1024:
            raise _invalid(doc, f"{key} exceeds a maximum bytesize of 65536")
    keep = ("path", "start_line", "end_line", "start_column", "end_column", "annotation_level")
    return {
        **{k: raw.get(k) for k in keep},
        **{k: raw.get(k) for k in ("title", "message", "raw_details")},
    }


@needs(DOC_CREATE_CHECK, "checks:write")
def create_check_run(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any
) -> Answer:
    repo = _known(fake, args, DOC_CHECKS)
    _only_apps(fake)
    doc = DOC_CREATE_CHECK
    if not isinstance(body, dict):
        raise _invalid(doc, 'Invalid request.\n\n"name" wasn\'t supplied.')
    for key in ("name", "head_sha"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise _invalid(doc, f'Invalid request.\n\n"{key}" wasn\'t supplied.')
    sha = body["head_sha"]
    if not re.fullmatch(r"[0-9a-f]{40}", sha) or fake.resolve(repo, sha) != sha:
        raise _invalid(doc, f"No commit found for SHA: {sha}")  # as in rust-lang/homu#141
    status, conclusion = _status_and_conclusion(body, doc, None)
    output = _output(body, doc)
    run = _CheckRun(
        next(fake._ids),
        repo,
        sha,
        body["name"],
        status or "queued",
        conclusion,
        body.get("started_at") or _now(),
    )
    run.external_id = str(body.get("external_id") or "")
    _apply(run, body, output)
    fake.check_runs[run.id] = run
    return 201, fake.check_run_json(run), {}


@needs(DOC_UPDATE_CHECK, "checks:write")
def update_check_run(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any
) -> Answer:
    run = _check_run(fake, args)
    _only_apps(fake)
    if not isinstance(body, dict):
        raise _invalid(DOC_UPDATE_CHECK)
    status, conclusion = _status_and_conclusion(body, DOC_UPDATE_CHECK, run.conclusion)
    output = _output(body, DOC_UPDATE_CHECK)
    run.name = str(body.get("name") or run.name)
    run.status, run.conclusion = status or run.status, conclusion or run.conclusion
    if "external_id" in body:
        run.external_id = str(body["external_id"] or "")
    _apply(run, body, output)
    return 200, fake.check_run_json(run), {}


def _apply(run: _CheckRun, body: dict[str, Any], output: dict[str, Any] | None) -> None:
    """Docs: "Each time you update the check run, annotations are appended"; the rest of the
    output is replaced (text included: left out, it is gone)."""
    if run.status == "completed" and run.completed_at is None:
        run.completed_at = body.get("completed_at") or _now()
    if output is not None:
        run.title, run.summary, run.text = output["title"], output["summary"], output["text"]
        run.annotations.extend(output["annotations"])


@needs(DOC_CHECKS, "checks:read")
def get_check_run(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    return 200, fake.check_run_json(_check_run(fake, args)), {}


@needs(f"{DOC_CHECKS}#list-check-runs-for-a-git-reference", "checks:read")
def list_check_runs(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    """Newest first; `filter=latest` (the default) keeps the most recent run of each name."""
    repo = _known(fake, args, DOC_CHECKS)
    sha = fake.resolve(repo, args["ref"])
    if sha is None:  # squalrus/merge-bot#92: "No commit found for SHA: master" (a 404)
        raise _not_found(DOC_CHECKS, f"No commit found for SHA: {args['ref']}")
    found = [
        run
        for run in reversed(fake.check_runs_on(repo, sha))
        if query.get("check_name", run.name) == run.name
        and query.get("status", run.status) == run.status
    ]
    if query.get("filter", "latest") == "latest":
        newest: dict[str, _CheckRun] = {}
        for run in found:
            newest.setdefault(run.name, run)
        found = list(newest.values())
    chunk, links = _paged(fake, found, query, f"/repos/{repo}/commits/{args['ref']}/check-runs")
    answer = {"total_count": len(found), "check_runs": [fake.check_run_json(r) for r in chunk]}
    return 200, answer, links


@needs(f"{DOC_CHECKS}#list-check-run-annotations", "checks:read")
def list_annotations(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    run = _check_run(fake, args)
    chunk, links = _paged(
        fake, run.annotations, query, f"/repos/{run.repo}/check-runs/{run.id}/annotations"
    )
    blob = f"https://github.com/{run.repo}/blob/{run.head_sha}"
    return 200, [{**a, "blob_href": f"{blob}/{a['path']}"} for a in chunk], links


ROUTES: list[tuple[str, str, Route]] = [
    ("GET", r"/user", get_user),
    ("GET", REPO, get_repo),
    ("GET", REPO + r"/pulls", list_pulls),
    ("GET", REPO + r"/pulls/(?P<number>\d+)", get_pull),
    ("GET", REPO + r"/pulls/(?P<number>\d+)/files", list_files),
    ("GET", REPO + r"/commits/(?P<sha>[0-9a-fA-F]+)/pulls", commit_pulls),
    ("GET", REPO + r"/contents/?", get_contents),
    ("GET", REPO + r"/contents/(?P<path>.+)", get_contents),
    ("GET", REPO + r"/git/trees/(?P<sha>[^/]+)", get_tree),
    ("GET", REPO + r"/issues/(?P<number>\d+)/comments", list_comments),
    ("POST", REPO + r"/issues/(?P<number>\d+)/comments", create_comment),
    ("PATCH", REPO + r"/issues/comments/(?P<id>\d+)", edit_comment),
    ("DELETE", REPO + r"/issues/comments/(?P<id>\d+)", delete_comment),
    ("POST", REPO + r"/issues/comments/(?P<id>\d+)/reactions", add_reaction),
    ("GET", REPO + r"/labels", list_labels),
    ("POST", REPO + r"/labels", create_label),
    ("POST", REPO + r"/issues/(?P<number>\d+)/labels", add_labels),
    ("DELETE", REPO + r"/issues/(?P<number>\d+)/labels/(?P<name>.+)", remove_label),
    ("POST", REPO + r"/check-runs", create_check_run),
    ("GET", REPO + r"/check-runs/(?P<id>\d+)", get_check_run),
    ("PATCH", REPO + r"/check-runs/(?P<id>\d+)", update_check_run),
    ("GET", REPO + r"/check-runs/(?P<id>\d+)/annotations", list_annotations),
    ("GET", REPO + r"/commits/(?P<ref>.+)/check-runs", list_check_runs),
    ("GET", REPO + r"/actions/workflows/(?P<file>[^/]+)/runs", list_runs),
    ("POST", REPO + r"/actions/runs/(?P<id>\d+)/rerun", rerun),
]


PROXY_VARIABLES = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)


def no_proxies(monkeypatch: Any) -> None:
    """requests would send loopback traffic to a configured proxy."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@contextmanager
def serve_as_actions(
    monkeypatch: Any, repository: str | None = None, *, permissions: Permissions | None = None
) -> Iterator[FakeGitHub]:
    """A fresh fake, and the environment an Actions job gives taxonbot: GITHUB_TOKEN (holding
    `permissions`, the job's `permissions:` block, when given), GITHUB_API_URL (and
    GITHUB_REPOSITORY), no proxies, no pacing sleeps."""
    no_proxies(monkeypatch)
    granted = {APP_TOKEN: permissions} if permissions is not None else None
    with serve(permissions=granted) as server:
        monkeypatch.setenv("GITHUB_TOKEN", APP_TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        if repository:
            monkeypatch.setenv("GITHUB_REPOSITORY", repository)
        # The adapter paces writes like GitHub asks; the fake needs no pacing.
        monkeypatch.setattr("taxonbot.github.retry.time.sleep", lambda s: None)
        yield server


@contextmanager
def serve(
    token_logins: dict[str, str] | None = None,
    permissions: Mapping[str, Permissions] | None = None,
) -> Iterator[FakeGitHub]:
    """Run a fresh fake in a thread for the length of a `with` block."""
    with _running(FakeGitHub(token_logins, permissions)) as fake:
        yield fake


_Fake = TypeVar("_Fake", bound=FakeGitHub)


@contextmanager
def _running(fake: _Fake) -> Iterator[_Fake]:
    with in_thread(fake):
        yield fake


# ---- git tags, releases and release assets (taxonbot release cut) ------------------------------
# A subclass, so the PR bot's fake stays as it is: `serve_releases()` runs one. Uploads carry raw
# bytes (GitHub's uploads host takes the file as the request body), so its handler reads them
# unparsed; every other request goes through the JSON handler above.

UPLOAD = REPO + r"/releases/(?P<id>\d+)/assets"


@dataclass
class _TagObject:
    sha: str
    repo: str
    tag: str
    message: str
    commit: str


@dataclass
class _Release:
    id: int
    repo: str
    tag: str
    name: str
    body: str
    draft: bool
    target: str
    created: str


@dataclass
class _Asset:
    id: int
    release_id: int
    name: str
    data: bytes
    content_type: str
    state: str = "uploaded"  # "starter": an upload that broke off; GitHub keeps it until deleted


@dataclass(frozen=True)
class _Upload:
    data: bytes
    content_type: str


class FakeGitHubReleases(FakeGitHub):
    """The fake above, plus tag references, annotated tag objects, releases and assets."""

    def __init__(
        self,
        token_logins: dict[str, str] | None = None,
        permissions: Mapping[str, Permissions] | None = None,
    ) -> None:
        super().__init__(token_logins)
        for token in self.app_tokens:  # a release job's token: release.yml's contents: write
            self.grant(token, {**APP_PERMISSIONS, **RELEASE_JOB})
        for token, granted in (permissions or {}).items():
            self.grant(token, granted)
        self.RequestHandlerClass = _ReleasesHandler
        self.refs: dict[tuple[str, str], str] = {}  # (repo, "refs/tags/x") -> commit or tag sha
        self.tag_objects: dict[str, _TagObject] = {}
        self.releases: dict[int, _Release] = {}
        self.assets: dict[int, _Asset] = {}
        self.broken_uploads: list[str] = []  # names whose next upload breaks off midway

    # -- arranging a story -------------------------------------------------------------------
    def add_tag(self, repo: str, tag: str, commit: str, message: str | None = None) -> None:
        """A tag already on GitHub: annotated with a message, lightweight without."""
        target = commit if message is None else self.make_tag_object(repo, tag, message, commit)
        self.refs[(repo, f"refs/tags/{tag}")] = target

    def make_tag_object(self, repo: str, tag: str, message: str, commit: str) -> str:
        sha = f"{zlib.crc32(f'{repo}:{tag}:{commit}:{len(self.tag_objects)}'.encode()):08x}" * 5
        self.tag_objects[sha] = _TagObject(sha, repo, tag, message, commit)
        return sha

    def add_asset(self, release_id: int, name: str, data: bytes, *, state: str = "uploaded") -> int:
        asset = _Asset(next(self._ids), release_id, name, data, "application/octet-stream", state)
        self.assets[asset.id] = asset
        return asset.id

    def break_next_upload(self, name: str, times: int = 1) -> None:
        """The next upload of `name` stops midway: a "starter" asset stays, the client gets 502."""
        self.broken_uploads.extend([name] * times)

    def releases_of(self, repo: str) -> list[_Release]:
        return sorted((r for r in self.releases.values() if r.repo == repo), key=lambda r: r.id)

    def assets_of(self, release_id: int) -> list[_Asset]:
        every = (a for a in self.assets.values() if a.release_id == release_id)
        return sorted(every, key=lambda a: a.id)

    def tag_commit(self, repo: str, tag: str) -> str | None:
        target = self.refs.get((repo, f"refs/tags/{tag}"))
        tag_object = self.tag_objects.get(target or "")
        return tag_object.commit if tag_object is not None else target

    # -- JSON as GitHub returns it -----------------------------------------------------------
    def release_json(self, release: _Release) -> dict[str, Any]:
        api = f"{self.url}/repos/{release.repo}/releases/{release.id}"
        web = f"https://github.com/{release.repo}/releases"
        return {
            "id": release.id,
            "node_id": f"RE_{release.id}",
            "url": api,
            "assets_url": f"{api}/assets",
            "upload_url": f"{self.url}/repos/{release.repo}/releases/{release.id}/assets"
            "{?name,label}",
            "html_url": f"{web}/tag/{release.tag}" if not release.draft else f"{web}/untagged",
            "tag_name": release.tag,
            "target_commitish": release.target,
            "name": release.name,
            "body": release.body,
            "draft": release.draft,
            "prerelease": False,
            "created_at": release.created,
            "published_at": None if release.draft else _now(),
            "author": self.user_json("github-actions[bot]"),
            "assets": [self.asset_json(a) for a in self.assets_of(release.id)],
        }

    def asset_json(self, asset: _Asset) -> dict[str, Any]:
        release = self.releases[asset.release_id]
        return {
            "id": asset.id,
            "node_id": f"RA_{asset.id}",
            "url": f"{self.url}/repos/{release.repo}/releases/assets/{asset.id}",
            "browser_download_url": f"https://github.com/{release.repo}/releases/download/"
            f"{release.tag}/{urllib.parse.quote(asset.name)}",
            "name": asset.name,
            "label": "",
            "state": asset.state,
            "content_type": asset.content_type,
            "size": len(asset.data),
            "download_count": 0,
            "created_at": _now(),
            "updated_at": _now(),
            "uploader": self.user_json("github-actions[bot]"),
        }


class _ReleasesHandler(_Handler):
    server: FakeGitHubReleases

    def _serve(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(parts.path)
        if method != "POST" or re.fullmatch(UPLOAD, path) is None:
            super()._serve(method)
            return
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = _Upload(self.rfile.read(length), self.headers.get("Content-Type") or "")
        with self.server.lock:
            fault = next((f for f in self.server.faults if f.matches(method, path)), None)
            if fault is not None:
                self.server.faults.remove(fault)
            status, payload, headers = self._answer(method, path, query, body, fault)
            self.server.requests.append(Logged(method, path, query, status, len(body.data)))
        if fault is not None and fault.kind == "store-then-drop":
            self.close_connection = True
            return
        self._send(status, payload, headers)


def _releases(fake: FakeGitHub) -> FakeGitHubReleases:
    if not isinstance(fake, FakeGitHubReleases):
        raise _Reply(404, {"message": "Not Found"})
    return fake


def get_tag_ref(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    store = _releases(fake)
    ref = f"refs/{args['ref']}"
    target = store.refs.get((args["repo"], ref))
    if target is None:
        raise _Reply(404, {"message": "Not Found"})
    kind = "tag" if target in store.tag_objects else "commit"
    api = f"{fake.url}/repos/{args['repo']}/git"
    url = f"{api}/tags/{target}" if kind == "tag" else f"{api}/commits/{target}"
    return (
        200,
        {
            "ref": ref,
            "node_id": f"REF_{ref}",
            "url": f"{api}/{ref}",
            "object": {"type": kind, "sha": target, "url": url},
        },
        {},
    )


def _tag_object_json(fake: FakeGitHub, tag: _TagObject) -> dict[str, Any]:
    api = f"{fake.url}/repos/{tag.repo}/git"
    return {
        "node_id": f"TAG_{tag.sha}",
        "sha": tag.sha,
        "url": f"{api}/tags/{tag.sha}",
        "tag": tag.tag,
        "message": tag.message,
        "tagger": {"name": "github-actions[bot]", "email": "actions@invalid", "date": _now()},
        "object": {"type": "commit", "sha": tag.commit, "url": f"{api}/commits/{tag.commit}"},
        "verification": {"verified": False, "reason": "unsigned"},
    }


def get_tag_object(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    tag = _releases(fake).tag_objects.get(args["sha"])
    if tag is None or tag.repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    return 200, _tag_object_json(fake, tag), {}


def create_tag_object(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any
) -> Answer:
    store = _releases(fake)
    fields = ("tag", "message", "object", "type")
    if not isinstance(body, dict) or not all(isinstance(body.get(k), str) for k in fields):
        raise _Reply(422, {"message": "Validation Failed"})
    sha = store.make_tag_object(args["repo"], body["tag"], body["message"], body["object"])
    return 201, _tag_object_json(fake, store.tag_objects[sha]), {}


def create_ref(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    store = _releases(fake)
    if not isinstance(body, dict) or not str(body.get("ref", "")).startswith("refs/"):
        raise _Reply(422, {"message": "Validation Failed"})
    key = (args["repo"], body["ref"])
    if key in store.refs:
        raise _Reply(422, {"message": "Reference already exists"})
    store.refs[key] = body["sha"]
    return get_tag_ref(fake, login, {**args, "ref": body["ref"][len("refs/") :]}, None, q)


def list_releases(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    """Newest first, drafts included (the token can push, as a release job's can)."""
    every = sorted(_releases(fake).releases_of(args["repo"]), key=lambda r: -r.id)
    return 200, [_releases(fake).release_json(r) for r in _page(every, query)], {}


def _publish_tag(store: FakeGitHubReleases, release: _Release) -> None:
    """Publishing a release whose tag does not exist makes a lightweight one, as GitHub does."""
    if not release.draft:
        store.refs.setdefault((release.repo, f"refs/tags/{release.tag}"), release.target)


def create_release(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    store = _releases(fake)
    if not isinstance(body, dict) or not isinstance(body.get("tag_name"), str):
        raise _Reply(422, {"message": "Validation Failed"})
    if any(r.tag == body["tag_name"] for r in store.releases_of(args["repo"])):
        errors = [{"resource": "Release", "code": "already_exists", "field": "tag_name"}]
        raise _Reply(422, {"message": "Validation Failed", "errors": errors})
    release = _Release(
        next(store._ids),
        args["repo"],
        body["tag_name"],
        body.get("name") or body["tag_name"],
        body.get("body") or "",
        bool(body.get("draft", False)),
        body.get("target_commitish") or "main",
        _now(),
    )
    store.releases[release.id] = release
    _publish_tag(store, release)
    return 201, store.release_json(release), {}


def _release(fake: FakeGitHub, args: dict[str, str]) -> _Release:
    release = _releases(fake).releases.get(int(args["id"]))
    if release is None or release.repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    return release


def edit_release(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    release = _release(fake, args)
    if not isinstance(body, dict):
        raise _Reply(422, {"message": "Validation Failed"})
    release.name = body.get("name", release.name)
    release.body = body.get("body", release.body)
    release.tag = body.get("tag_name", release.tag)
    release.draft = bool(body.get("draft", release.draft))
    release.target = body.get("target_commitish", release.target)
    _publish_tag(_releases(fake), release)
    return 200, _releases(fake).release_json(release), {}


def list_assets(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    release = _release(fake, args)
    found = _releases(fake).assets_of(release.id)
    return 200, [_releases(fake).asset_json(a) for a in _page(found, query)], {}


def upload_asset(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    store, release = _releases(fake), _release(fake, args)
    name = query.get("name", "")
    if not isinstance(body, _Upload) or not name:
        raise _Reply(422, {"message": "Validation Failed"})
    if any(a.name == name for a in store.assets_of(release.id)):
        errors = [{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}]
        raise _Reply(422, {"message": "Validation Failed", "errors": errors})
    asset = _Asset(next(store._ids), release.id, name, body.data, body.content_type)
    store.assets[asset.id] = asset
    if name in store.broken_uploads:
        store.broken_uploads.remove(name)
        asset.state, asset.data = "starter", body.data[: len(body.data) // 2]
        return 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {}
    return 201, store.asset_json(asset), {}


def delete_asset(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    store = _releases(fake)
    asset = store.assets.get(int(args["id"]))
    if asset is None or store.releases[asset.release_id].repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    del store.assets[asset.id]
    return 204, "", {}


_READ_CONTENTS = needs(DOC_RELEASES, "contents:read")
_WRITE_CONTENTS = needs(DOC_RELEASES, "contents:write")  # tags, releases, assets: contents
ROUTES.extend(
    [
        ("GET", REPO + r"/git/ref/(?P<ref>tags/.+)", _READ_CONTENTS(get_tag_ref)),
        ("GET", REPO + r"/git/tags/(?P<sha>[0-9a-f]+)", _READ_CONTENTS(get_tag_object)),
        ("POST", REPO + r"/git/tags", _WRITE_CONTENTS(create_tag_object)),
        ("POST", REPO + r"/git/refs", _WRITE_CONTENTS(create_ref)),
        ("GET", REPO + r"/releases", _READ_CONTENTS(list_releases)),
        ("POST", REPO + r"/releases", _WRITE_CONTENTS(create_release)),
        ("PATCH", REPO + r"/releases/(?P<id>\d+)", _WRITE_CONTENTS(edit_release)),
        ("GET", UPLOAD, _READ_CONTENTS(list_assets)),
        ("POST", UPLOAD, _WRITE_CONTENTS(upload_asset)),
        ("DELETE", REPO + r"/releases/assets/(?P<id>\d+)", _WRITE_CONTENTS(delete_asset)),
    ]
)


@contextmanager
def serve_releases(
    token_logins: dict[str, str] | None = None,
    permissions: Mapping[str, Permissions] | None = None,
) -> Iterator[FakeGitHubReleases]:
    """Like `serve`, with tags, releases and asset uploads."""
    with _running(FakeGitHubReleases(token_logins, permissions)) as fake:
        yield fake
