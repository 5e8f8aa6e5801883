"""A stateful fake of the GitHub REST endpoints our PyGithub adapter calls, on 127.0.0.1.

PyGithub talks to it through `base_url` over real HTTP, so the adapter is tested with the
library's own request building, JSON parsing and error mapping. Objects take their shape from
the real webhook payloads in `../shared/github-payloads` when that folder is there (a built-in
minimal shape otherwise). Faults are queued with `fail_next`; every request lands in `requests`.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).resolve().parents[2] / "shared" / "github-payloads"
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
class _Pull:
    repo: str
    number: int
    head_sha: str
    head_repo: str
    author: str
    state: str = "open"
    merged: bool = False
    labels: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)


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


REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})


def _load(relative: str, key: str) -> dict[str, Any] | None:
    path = PAYLOADS / relative
    if not path.is_file():
        return None
    return dict(json.loads(path.read_text(encoding="utf-8"))[key])


class FakeGitHub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, token_logins: dict[str, str] | None = None) -> None:
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
        self.pr_template = _load("pull_request/opened.payload.json", "pull_request")
        self.comment_template = _load("issue_comment/created.payload.json", "comment")
        self.run_template = _load("workflow_run/completed.payload.json", "workflow_run")
        self.runs: dict[int, _Run] = {}
        self.pulls: dict[tuple[str, int], _Pull] = {}
        self.comments: dict[int, _Comment] = {}
        self.faults: list[Fault] = []
        # (method, path regex, what another job does just before that request is served)
        self.interleavings: list[tuple[str, str, Callable[[FakeGitHub], None]]] = []
        self.requests: list[Logged] = []
        self.lock = threading.Lock()
        self._ids = itertools.count(1_000_001)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    # -- arranging a story -------------------------------------------------------------------
    def add_pull(
        self,
        repo: str,
        number: int,
        head_sha: str,
        *,
        head_repo: str | None = None,
        author: str = "contributor",
        labels: Iterable[str] = (),
    ) -> None:
        pull = _Pull(repo, number, head_sha, head_repo or repo, author, labels=list(labels))
        pull.shas.append(head_sha)
        self.pulls[(repo, number)] = pull

    def push(self, repo: str, number: int, head_sha: str) -> None:
        """The contributor pushes (or force-pushes): the head moves on."""
        pull = self.pulls[(repo, number)]
        pull.head_sha = head_sha
        pull.shas.append(head_sha)

    def close(self, repo: str, number: int, *, merged: bool = False) -> None:
        pull = self.pulls[(repo, number)]
        pull.state, pull.merged = "closed", merged

    def add_comment(self, repo: str, number: int, author: str, body: str) -> int:
        comment = _Comment(next(self._ids), repo, number, author, body, _now())
        self.comments[comment.id] = comment
        return comment.id

    def comments_on(self, repo: str, number: int) -> list[_Comment]:
        return [c for c in self.comments.values() if (c.repo, c.number) == (repo, number)]

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

    def writes(self) -> list[Logged]:
        return [r for r in self.requests if r.method != "GET"]

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
        return {
            "id": zlib.crc32(full_name.encode()),
            "node_id": f"R_{full_name}",
            "name": name,
            "full_name": full_name,
            "private": False,
            "owner": self.user_json(owner),
            "url": f"{self.url}/repos/{full_name}",
            "html_url": f"https://github.com/{full_name}",
            "fork": False,
            "default_branch": "main",
        }

    def label_json(self, repo: str, name: str) -> dict[str, Any]:
        url = f"{self.url}/repos/{repo}/labels/{urllib.parse.quote(name)}"
        return {
            "id": zlib.crc32(name.encode()),
            "node_id": f"L_{name}",
            "url": url,
            "name": name,
            "color": "ededed",
            "default": False,
            "description": None,
        }

    def pull_json(self, pull: _Pull) -> dict[str, Any]:
        data = _rebased(self.pr_template, self.url) if self.pr_template else {}
        api, web = f"{self.url}/repos/{pull.repo}", f"https://github.com/{pull.repo}"
        head_owner = pull.head_repo.split("/")[0]
        head = dict(data.get("head", {}))
        head.update(
            label=f"{head_owner}:topic",
            ref="topic",
            sha=pull.head_sha,
            user=self.user_json(head_owner),
            repo=self.repo_json(pull.head_repo),
        )
        base = dict(data.get("base", {}))
        base.update(label="owner:main", ref="main", sha="0" * 40, repo=self.repo_json(pull.repo))
        issue = f"{api}/issues/{pull.number}"
        data.update(
            url=f"{api}/pulls/{pull.number}",
            html_url=f"{web}/pull/{pull.number}",
            issue_url=issue,
            comments_url=f"{issue}/comments",
            id=pull.number * 1000,
            number=pull.number,
            state=pull.state,
            title="Add a leaf",
            user=self.user_json(pull.author),
            head=head,
            base=base,
            merged=pull.merged,
            merged_at=_now() if pull.merged else None,
            closed_at=_now() if pull.state == "closed" else None,
            labels=[self.label_json(pull.repo, name) for name in pull.labels],
        )
        return data

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


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


REPO = r"/repos/(?P<repo>[^/]+/[^/]+)"
Answer = tuple[int, Any, dict[str, str]]  # status, JSON (or an HTML string), headers


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
        body = json.loads(self.rfile.read(length)) if length else None
        with self.server.lock:
            for entry in self.server.interleavings:
                if entry[0] == method and re.fullmatch(entry[1], path):
                    self.server.interleavings.remove(entry)
                    entry[2](self.server)
                    break
            fault = next((f for f in self.server.faults if f.matches(method, path)), None)
            if fault is not None:
                self.server.faults.remove(fault)
            status, payload, headers = self._answer(method, path, query, body, fault)
            self.server.requests.append(Logged(method, path, query, status, body))
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
            raise _Reply(401, {"message": "Bad credentials"})
        if self.path == "/user" and token in self.server.app_tokens:
            raise _Reply(403, {"message": "Resource not accessible by integration"})
        return login

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        kind = "text/html" if isinstance(payload, str) else "application/json; charset=utf-8"
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            **headers,
        }.items():
            self.send_header(name, value)
        self.end_headers()
        if raw and status not in (204, 304):
            self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass


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
    raise _Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})


def _pull(fake: FakeGitHub, args: dict[str, str]) -> _Pull:
    pull = fake.pulls.get((args["repo"], int(args["number"])))
    if pull is None:
        raise _Reply(404, {"message": "Not Found"})
    return pull


def get_user(fake: FakeGitHub, login: str, args: Any, body: Any, query: Any) -> Answer:
    return 200, fake.user_json(login), {}


def get_repo(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: Any) -> Answer:
    if not any(repo == args["repo"] for repo, _ in fake.pulls):
        raise _Reply(404, {"message": "Not Found"})
    return 200, fake.repo_json(args["repo"]), {}


def get_pull(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: Any) -> Answer:
    return 200, fake.pull_json(_pull(fake, args)), {}


def commit_pulls(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    """Open PRs that ever had this commit at their head, and merged ones (GitHub's rule)."""
    found = [
        fake.pull_json(p)
        for p in fake.pulls.values()
        if p.repo == args["repo"] and args["sha"] in p.shas and (p.state == "open" or p.merged)
    ]
    return 200, found, {}


def list_comments(
    fake: FakeGitHub, login: str, args: dict[str, str], body: Any, query: dict[str, str]
) -> Answer:
    pull = _pull(fake, args)
    every = sorted(fake.comments_on(pull.repo, pull.number), key=lambda c: c.id)
    per_page, page = min(int(query.get("per_page", 30)), 100), int(query.get("page", 1))
    chunk = every[(page - 1) * per_page : page * per_page]
    last = max(1, -(-len(every) // per_page))
    url = f"{fake.url}/repos/{pull.repo}/issues/{pull.number}/comments?per_page={per_page}&page="
    links = [f'<{url}{page + 1}>; rel="next"', f'<{url}{last}>; rel="last"'] if page < last else []
    return 200, [fake.comment_json(c) for c in chunk], ({"Link": ", ".join(links)} if links else {})


def create_comment(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    pull = _pull(fake, args)
    if not isinstance(body, dict) or not isinstance(body.get("body"), str):
        raise _Reply(422, {"message": "Validation Failed"})
    comment_id = fake.add_comment(pull.repo, pull.number, login, body["body"])
    return 201, fake.comment_json(fake.comments[comment_id]), {}


def edit_comment(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    comment = fake.comments.get(int(args["id"]))
    if comment is None or comment.repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    comment.body = body["body"]
    return 200, fake.comment_json(comment), {}


def delete_comment(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    comment = fake.comments.get(int(args["id"]))
    if comment is None or comment.repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    del fake.comments[comment.id]
    return 204, None, {}


def add_labels(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    pull = _pull(fake, args)
    names = body.get("labels", []) if isinstance(body, dict) else body
    pull.labels.extend(name for name in names if name not in pull.labels)
    return 200, [fake.label_json(pull.repo, name) for name in pull.labels], {}


def remove_label(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    pull = _pull(fake, args)
    if args["name"] not in pull.labels:
        raise _Reply(404, {"message": "Label does not exist"})
    pull.labels.remove(args["name"])
    return 200, [fake.label_json(pull.repo, name) for name in pull.labels], {}


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
    per_page, page = min(int(query.get("per_page", 30)), 100), int(query.get("page", 1))
    chunk = found[(page - 1) * per_page : page * per_page]
    return 200, {"total_count": len(found), "workflow_runs": [fake.run_json(r) for r in chunk]}, {}


def rerun(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    run = fake.runs.get(int(args["id"]))
    if run is None or run.repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    if run.status != "completed":
        raise _Reply(403, {"message": "This workflow run is not completed"})
    run.reruns, run.run_attempt, run.status = run.reruns + 1, run.run_attempt + 1, "queued"
    return 201, {}, {}


def add_reaction(fake: FakeGitHub, login: str, args: dict[str, str], body: Any, q: Any) -> Answer:
    comment = fake.comments.get(int(args["id"]))
    if comment is None or comment.repo != args["repo"]:
        raise _Reply(404, {"message": "Not Found"})
    content = body.get("content") if isinstance(body, dict) else None
    if content not in REACTIONS:
        raise _Reply(422, {"message": "Validation Failed"})
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


ROUTES: list[tuple[str, str, Callable[..., Answer]]] = [
    ("GET", r"/user", get_user),
    ("GET", REPO, get_repo),
    ("GET", REPO + r"/pulls/(?P<number>\d+)", get_pull),
    ("GET", REPO + r"/commits/(?P<sha>[0-9a-fA-F]+)/pulls", commit_pulls),
    ("GET", REPO + r"/issues/(?P<number>\d+)/comments", list_comments),
    ("POST", REPO + r"/issues/(?P<number>\d+)/comments", create_comment),
    ("PATCH", REPO + r"/issues/comments/(?P<id>\d+)", edit_comment),
    ("DELETE", REPO + r"/issues/comments/(?P<id>\d+)", delete_comment),
    ("POST", REPO + r"/issues/(?P<number>\d+)/labels", add_labels),
    ("DELETE", REPO + r"/issues/(?P<number>\d+)/labels/(?P<name>.+)", remove_label),
    ("GET", REPO + r"/actions/workflows/(?P<file>[^/]+)/runs", list_runs),
    ("POST", REPO + r"/actions/runs/(?P<id>\d+)/rerun", rerun),
    ("POST", REPO + r"/issues/comments/(?P<id>\d+)/reactions", add_reaction),
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
def serve_as_actions(monkeypatch: Any, repository: str | None = None) -> Iterator[FakeGitHub]:
    """A fresh fake, and the environment an Actions job gives taxonbot: GITHUB_TOKEN,
    GITHUB_API_URL (and GITHUB_REPOSITORY), no proxies, no pacing sleeps."""
    no_proxies(monkeypatch)
    with serve() as server:
        monkeypatch.setenv("GITHUB_TOKEN", APP_TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        if repository:
            monkeypatch.setenv("GITHUB_REPOSITORY", repository)
        # The adapter paces writes like GitHub asks; the fake needs no pacing.
        monkeypatch.setattr("bot.github.pygithub.time.sleep", lambda s: None)
        yield server


@contextmanager
def serve(token_logins: dict[str, str] | None = None) -> Iterator[FakeGitHub]:
    """Run a fresh fake in a thread for the length of a `with` block."""
    fake = FakeGitHub(token_logins)
    thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        fake.shutdown()
        fake.server_close()
        thread.join()


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

    def __init__(self, token_logins: dict[str, str] | None = None) -> None:
        super().__init__(token_logins)
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


def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
    per_page, page = min(int(query.get("per_page", 30)), 100), int(query.get("page", 1))
    return items[(page - 1) * per_page : page * per_page]


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


ROUTES.extend(
    [
        ("GET", REPO + r"/git/ref/(?P<ref>tags/.+)", get_tag_ref),
        ("GET", REPO + r"/git/tags/(?P<sha>[0-9a-f]+)", get_tag_object),
        ("POST", REPO + r"/git/tags", create_tag_object),
        ("POST", REPO + r"/git/refs", create_ref),
        ("GET", REPO + r"/releases", list_releases),
        ("POST", REPO + r"/releases", create_release),
        ("PATCH", REPO + r"/releases/(?P<id>\d+)", edit_release),
        ("GET", UPLOAD, list_assets),
        ("POST", UPLOAD, upload_asset),
        ("DELETE", REPO + r"/releases/assets/(?P<id>\d+)", delete_asset),
    ]
)


@contextmanager
def serve_releases(token_logins: dict[str, str] | None = None) -> Iterator[FakeGitHubReleases]:
    """Like `serve`, with tags, releases and asset uploads."""
    fake = FakeGitHubReleases(token_logins)
    thread = threading.Thread(target=fake.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        fake.shutdown()
        fake.server_close()
        thread.join()
