"""`GitHubPort` over the REST API through PyGithub, with retries chosen call by call.

PyGithub's default `GithubRetry` adds POST to urllib3's retried methods and retries every 5xx,
so a comment POST that GitHub stored but answered 502 would be posted twice. Here urllib3 never
retries (`retry=None`) and this module decides:
- reads, comment edits (PATCH of a whole body), label adds (POST of a set) and label removals
  are idempotent: 5xx and dropped connections are retried a bounded number of times;
- a comment POST is not: when it goes unanswered we list the comments again and look for ours
  (our login, marker and run line) before posting once more;
- rate limits (403/429 with Retry-After, or no requests left until X-RateLimit-Reset, or the
  secondary-limit message alone: wait a minute, as GitHub's docs say) are waited out up to
  `retry_cap_s`; a longer wait stops with `RateLimitWaitTooLong`.
Every HTTP request, retries included, is counted in `api_calls`.
"""

from __future__ import annotations

import base64
import functools
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import requests
from github import Auth, Github, GithubException
from github.IssueComment import IssueComment
from github.Repository import Repository

from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.markers import MARKER, RUN_PREFIX
from taxonbot.github.port import GitHubError, RateLimitWaitTooLong
from taxonbot.github.records import (
    Annotation,
    CheckRunRequest,
    CheckRunState,
    PullFile,
    PullHead,
    RepoFile,
    WorkflowRun,
)
from taxonbot.github.values import Comment, PrState

T = TypeVar("T")
ACTIONS_LOGIN = BOT_LOGIN  # who GITHUB_TOKEN's comments are by
PER_PAGE = 100  # GitHub's maximum: one request lists a PR's first 100 comments
MAX_FILES = 3000  # "List pull requests files": responses include a maximum of 3000 files
MAX_OPEN_PAGES = 10  # open PRs scanned for a deleted fork's head: 1,000 is plenty
ANNOTATIONS_PER_REQUEST = 50  # the Checks API's limit per create or update request
TOO_LARGE = 100 * 1024 * 1024 + 1  # the contents API refuses files over 100 MB (403 too_large)
# What each kind of write needs in the workflow's `permissions:` (GitHub's fine-grained docs).
NEEDS = {
    "comment": "pull-requests: write",
    "labels": "issues: write (adding a label the repository does not have yet creates it, "
    "and only `issues: write` may create labels)",
    "checks": "checks: write",
    "contents": "contents: read",
    "actions": "actions: write",
    "read": "pull-requests: read",
}
SECONDARY_WAIT_S = 60.0  # "wait at least one minute" when GitHub names no time


@dataclass
class ApiCalls:
    """HTTP requests made so far (each retry is one more)."""

    reads: int = 0
    writes: int = 0

    def __str__(self) -> str:
        return f"{self.reads} reads, {self.writes} writes"


class _Unanswered(Exception):
    """A write may or may not have happened: 5xx or the connection dropped."""


Unanswered = _Unanswered  # the release adapter shares the retry rules (taxonbot/release/github.py)


class PyGithubAdapter:
    def __init__(
        self,
        token: str,
        base_url: str = "https://api.github.com",
        retry_cap_s: float = 60,
        *,
        login: str | None = None,
        attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: int = 30,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
    ) -> None:
        # lazy: get_repo/get_issue build URLs without a request; each call below is one request.
        self._gh = client(
            token, base_url, timeout_s, seconds_between_requests, seconds_between_writes
        )
        self.retry_cap_s, self.attempts = retry_cap_s, attempts
        self._sleep, self._clock, self._login = sleep or time.sleep, clock, login
        if login is None and token.startswith("ghs_"):
            # An installation token (GITHUB_TOKEN is one) cannot read GET /user; asking costs
            # a request to learn what the 403 fallback below says anyway.
            self._login = ACTIONS_LOGIN
        self.api_calls = ApiCalls()

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> PyGithubAdapter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ---- reads ---------------------------------------------------------------------------
    def pull(self, repo: str, number: int) -> PrState:
        """The PR (its labels come with it) and its comments: 1 + one request per 100 comments."""
        what = f"reading pull request {repo}#{number}"
        pr = self._send(False, what, self._repo(repo).get_pull(number).complete)
        labels = frozenset(label.name for label in pr.labels)
        comments = self._comments(repo, number)
        return PrState(number, pr.state, bool(pr.merged), pr.head.sha, labels, comments)

    def pulls_for_head(self, repo: str, head_sha: str, head_repo: str) -> list[int]:
        """PRs into `repo` linked to the commit, whose head lives in `head_repo`."""
        pages = self._repo(repo).get_commit(head_sha).get_pulls()
        what = f"finding the pull request for {head_repo}@{head_sha[:12]}"
        numbers = {
            pr.number
            for pr in self._pages(what, pages.get_page)
            if pr.head.repo is not None
            and pr.head.repo.full_name.casefold() == head_repo.casefold()
        }
        return sorted(numbers)

    def pull_head(self, repo: str, number: int) -> PullHead | None:
        """One request; None when GitHub has no such pull request (404)."""
        what = f"reading pull request {repo}#{number}"
        try:
            data = self._json(False, what, "GET", f"/repos/{repo}/pulls/{number}")
        except GitHubError as exc:
            if getattr(exc.__cause__, "status", None) == 404:
                return None
            raise
        return _pull_head(data)

    def open_pulls(self, repo: str, head_label: str | None) -> list[PullHead]:
        """`GET /pulls?state=open&head=owner:branch`: how a fork's PR is found (the commit ->
        pulls endpoint answers [] for a commit that lives only in a fork)."""
        query: dict[str, Any] = {"state": "open", "per_page": PER_PAGE}
        if head_label is not None:
            query["head"] = head_label
        what = f"listing the open pull requests of {repo}"
        found: list[PullHead] = []
        for page in range(1, MAX_OPEN_PAGES + 1):
            data = self._json(False, what, "GET", f"/repos/{repo}/pulls", {**query, "page": page})
            found.extend(_pull_head(item) for item in _list(data))
            if len(_list(data)) < PER_PAGE:
                break
        return found

    def pull_files(self, repo: str, number: int) -> list[PullFile]:
        what = f"listing the files of {repo}#{number}"
        url = f"/repos/{repo}/pulls/{number}/files"
        found: list[PullFile] = []
        for page in range(1, MAX_FILES // PER_PAGE + 1):
            data = _list(self._json(False, what, "GET", url, {"per_page": PER_PAGE, "page": page}))
            found.extend(
                PullFile(str(f["filename"]), str(f["status"]), f.get("previous_filename"))
                for f in data
                if isinstance(f, dict) and isinstance(f.get("filename"), str)
            )
            if len(data) < PER_PAGE:
                break
        return found

    def file_at(self, repo: str, path: str, ref: str) -> RepoFile | None:
        """The file at `ref`, read through the base repository (a PR's head commits are there
        under refs/pull/N/head, a deleted fork's too); None when it is not a file there."""
        what = f"reading {path} at {ref[:12]}"
        url = f"/repos/{repo}/contents/{quote(path, safe='/')}"
        try:
            data = self._json(False, what, "GET", url, {"ref": ref}, needs="contents")
        except GitHubError as exc:
            status = getattr(exc.__cause__, "status", None)
            if status == 404:
                return None
            if status == 403 and "too_large" in str(getattr(exc.__cause__, "data", "")):
                return RepoFile(path, TOO_LARGE, None)
            raise
        if not isinstance(data, dict) or data.get("type") != "file":
            return None  # a folder (a list), a symlink or a submodule is not a leaf file
        size = int(data.get("size") or 0)
        if data.get("encoding") != "base64":
            return RepoFile(path, size, None)  # 1-100 MB: GitHub leaves the content out
        return RepoFile(path, size, base64.b64decode(str(data.get("content") or "")))

    def check_runs(self, repo: str, head_sha: str, name: str) -> list[CheckRunState]:
        what = f"listing the {name} check runs of {head_sha[:12]}"
        query = {"check_name": name, "filter": "all", "per_page": PER_PAGE}
        url = f"/repos/{repo}/commits/{head_sha}/check-runs"
        data = self._json(False, what, "GET", url, query, needs="checks")
        runs = data.get("check_runs") if isinstance(data, dict) else None
        return [_check_run(item) for item in _list(runs) if isinstance(item, dict)]

    def viewer_login(self) -> str:
        if self._login is None:
            try:
                self._login = self._send(False, "asking who we are", self._whoami)
            except GitHubError as exc:
                # An Actions GITHUB_TOKEN may not read /user ("Resource not accessible by
                # integration"); its comments are by github-actions[bot]. Another GitHub App's
                # token posts as "<app-slug>[bot]": pass that as `login`.
                if "not accessible by integration" not in _message(exc.__cause__).lower():
                    raise
                self._login = ACTIONS_LOGIN
        return self._login

    def latest_run(self, repo: str, workflow_file: str, head_sha: str) -> WorkflowRun | None:
        """The newest pull_request run of the workflow for this head: one request."""
        runs = (
            self._repo(repo)
            .get_workflow(workflow_file)
            .get_runs(head_sha=head_sha, event="pull_request")
        )
        what = f"finding the {workflow_file} run for {head_sha[:12]} in {repo}"
        page = self._send(False, what, functools.partial(runs.get_page, 0))
        newest = max(page, key=lambda run: run.id, default=None)  # ids grow: largest is newest
        return None if newest is None else WorkflowRun(newest.id, str(newest.status))

    def _json(
        self,
        write: bool,
        what: str,
        verb: str,
        url: str,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        *,
        needs: str = "read",
        repeat: bool = True,
    ) -> Any:
        """One REST request under the retry rules; its JSON answer."""
        requester = self._gh.requester

        def request() -> Any:
            return requester.requestJsonAndCheck(verb, url, parameters=query, input=body)[1]

        policy = Retry(self.attempts, self.retry_cap_s, self._sleep, self._clock, self.api_calls)
        return send_with_retry(
            policy, write, what, request, repeat=repeat, refusal=functools.partial(_refusal, needs)
        )

    def _whoami(self) -> str:
        return self._gh.get_user().login

    def _comments(self, repo: str, number: int) -> tuple[Comment, ...]:
        pages = self._repo(repo).get_issue(number).get_comments()
        what = f"listing the comments on {repo}#{number}"
        return tuple(
            Comment(c.id, c.user.login if c.user is not None else "", c.body or "")
            for c in self._pages(what, pages.get_page)
        )

    def _pages(self, what: str, get_page: Callable[[int], list[T]]) -> list[T]:
        """Page by page, each retried on its own; a short page is the last one."""
        found: list[T] = []
        for index in itertools.count():
            page = self._send(False, what, functools.partial(get_page, index))
            found.extend(page)
            if len(page) < PER_PAGE:
                break
        return found

    # ---- writes --------------------------------------------------------------------------
    def create_comment(self, repo: str, number: int, body: str) -> int:
        issue = self._repo(repo).get_issue(number)
        what = f"posting the comment on {repo}#{number}"
        failure: BaseException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return self._send(True, what, lambda: issue.create_comment(body).id, repeat=False)
            except _Unanswered as exc:
                failure = exc.__cause__
            # GitHub may have stored it anyway (a 502 after the write): give it a moment to
            # show up in the list, then look before posting again.
            self._sleep(self._backoff(attempt))
            posted = self._find_posted(repo, number, body)
            if posted is not None:
                return posted
        raise GitHubError(_gave_up(what, self.attempts, failure))

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        url = f"/repos/{repo}/issues/comments/{comment_id}"
        comment = IssueComment(self._gh.requester, url=url)  # lazy: no request until edit
        self._send(True, f"editing comment {comment_id} in {repo}", lambda: comment.edit(body))

    def delete_comment(self, repo: str, comment_id: int) -> None:
        """Only ever one of our own duplicates (taxonbot/comment/plan.py); already gone is fine."""
        url = f"/repos/{repo}/issues/comments/{comment_id}"
        comment = IssueComment(self._gh.requester, url=url)  # lazy: no request until delete
        try:
            self._send(True, f"deleting comment {comment_id} in {repo}", comment.delete)
        except GitHubError as exc:
            if getattr(exc.__cause__, "status", None) != 404:
                raise

    def add_labels(self, repo: str, number: int, labels: Iterable[str]) -> None:
        names = sorted(labels)
        issue = self._repo(repo).get_issue(number)
        what = f"adding labels {', '.join(names)} to {repo}#{number}"
        self._send(True, what, lambda: issue.add_to_labels(*names), needs="labels")

    def remove_label(self, repo: str, number: int, label: str) -> None:
        issue = self._repo(repo).get_issue(number)
        try:
            what = f"removing label {label} from {repo}#{number}"
            self._send(True, what, lambda: issue.remove_from_labels(label), needs="labels")
        except GitHubError as exc:
            if "label does not exist" not in _message(exc.__cause__).lower():
                raise  # "does not exist" is what we wanted; anything else is not

    def rerun(self, repo: str, run_id: int) -> None:
        """POST .../actions/runs/{id}/rerun once. Not retried when unanswered: it may have
        started, and a second request for a running run is refused anyway. (PyGithub's
        `WorkflowRun.rerun()` returns False instead of raising, and would first GET the run.)"""
        what = f"re-running workflow run {run_id} in {repo}"
        url = f"/repos/{repo}/actions/runs/{run_id}/rerun"
        try:
            request = functools.partial(self._gh.requester.requestJsonAndCheck, "POST", url)
            self._send(True, what, request, repeat=False, needs="actions")
        except _Unanswered as exc:
            raise GitHubError(
                f"GitHub did not answer {what}; it may have started: check the Actions tab"
            ) from exc.__cause__

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        """A reaction on a comment: idempotent on GitHub's side (the same one twice is one)."""
        url = f"/repos/{repo}/issues/comments/{comment_id}"
        comment = IssueComment(self._gh.requester, url=url)  # lazy: no request until react
        what = f"reacting {content} to comment {comment_id} in {repo}"
        self._send(True, what, lambda: comment.create_reaction(content))

    def create_check_run(self, repo: str, request: CheckRunRequest) -> int:
        """POST a completed check run with its first 50 annotations. Not repeated blindly: a
        502 may come after GitHub stored it, so look for our external_id before sending again."""
        what = f"publishing the {request.name} check on {request.head_sha[:12]}"
        body = {
            "name": request.name,
            "head_sha": request.head_sha,
            "status": "completed",
            "conclusion": request.conclusion,
            "external_id": request.external_id,
            "output": _output(request, request.annotations[:ANNOTATIONS_PER_REQUEST]),
        }
        failure: BaseException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                data = self._json(
                    True,
                    what,
                    "POST",
                    f"/repos/{repo}/check-runs",
                    None,
                    body,
                    needs="checks",
                    repeat=False,
                )
                return int(data["id"])
            except _Unanswered as exc:
                failure = exc.__cause__
            self._sleep(self._backoff(attempt))
            for run in self.check_runs(repo, request.head_sha, request.name):
                if run.external_id == request.external_id:
                    return run.id
        raise GitHubError(_gave_up(what, self.attempts, failure))

    def update_check_run(
        self, repo: str, check_run_id: int, request: CheckRunRequest, annotations: list[Annotation]
    ) -> None:
        """PATCH appends annotations (GitHub adds them to those the run has), so a PATCH that
        went unanswered is checked against the run's annotation count before it is sent again."""
        what = f"adding annotations to check run {check_run_id}"
        url = f"/repos/{repo}/check-runs/{check_run_id}"
        body = {"output": _output(request, tuple(annotations))}
        before = self._annotation_count(repo, check_run_id)
        failure: BaseException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                self._json(True, what, "PATCH", url, None, body, needs="checks", repeat=False)
                return
            except _Unanswered as exc:
                failure = exc.__cause__
            self._sleep(self._backoff(attempt))
            if self._annotation_count(repo, check_run_id) >= before + len(annotations):
                return
        raise GitHubError(_gave_up(what, self.attempts, failure))

    def _annotation_count(self, repo: str, check_run_id: int) -> int:
        what = f"reading check run {check_run_id}"
        url = f"/repos/{repo}/check-runs/{check_run_id}"
        data = self._json(False, what, "GET", url, needs="checks")
        output = data.get("output") if isinstance(data, dict) else None
        count = output.get("annotations_count") if isinstance(output, dict) else None
        return count if isinstance(count, int) else 0

    def _find_posted(self, repo: str, number: int, body: str) -> int | None:
        login = self.viewer_login().casefold()
        for comment in self._comments(repo, number):
            if comment.author.casefold() == login and _same_comment(comment.body, body):
                return comment.id
        return None

    # ---- one request, with the retry policy --------------------------------------------
    def _send(
        self,
        write: bool,
        what: str,
        request: Callable[[], T],
        *,
        repeat: bool = True,
        needs: str = "comment",
    ) -> T:
        policy = Retry(self.attempts, self.retry_cap_s, self._sleep, self._clock, self.api_calls)
        refusal = functools.partial(_refusal, needs)
        return send_with_retry(policy, write, what, request, repeat=repeat, refusal=refusal)

    def _backoff(self, attempt: int) -> float:
        return float(min(2 ** (attempt - 1), self.retry_cap_s))

    def _repo(self, repo: str) -> Repository:
        return self._gh.get_repo(repo)  # lazy: no request


def client(
    token: str,
    base_url: str,
    timeout_s: int,
    seconds_between_requests: float | None,
    seconds_between_writes: float | None,
) -> Github:
    """PyGithub as both adapters use it: lazy objects, and no retries of its own (a retried
    POST would duplicate a comment or an asset; `send_with_retry` decides instead)."""
    return Github(
        auth=Auth.Token(token),
        base_url=base_url,
        retry=None,
        lazy=True,
        per_page=PER_PAGE,
        timeout=timeout_s,
        seconds_between_requests=seconds_between_requests,
        seconds_between_writes=seconds_between_writes,
    )


@dataclass(frozen=True)
class Retry:
    """How one adapter retries (the comment bot's and the release cut's share the rules)."""

    attempts: int
    cap_s: float
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    calls: ApiCalls
    later: str = "re-run the comment workflow later"  # when GitHub asks for a longer wait


def send_with_retry(
    policy: Retry,
    write: bool,
    what: str,
    request: Callable[[], T],
    *,
    repeat: bool = True,
    refusal: Callable[[str, GithubException], str] | None = None,
    gave_up: Callable[[str, int, BaseException | None], str] | None = None,
) -> T:
    """One request under the retry rules. 4xx (but rate limits) is a refusal at once; a rate
    limit is waited out up to the cap (refused unprocessed: safe to send again, even a POST);
    5xx and dropped connections back off and retry, except with repeat=False, where a write may
    have happened and `_Unanswered` lets the caller look before sending again."""
    failure: Exception | None = None
    for attempt in range(1, policy.attempts + 1):
        if write:
            policy.calls.writes += 1
        else:
            policy.calls.reads += 1
        wait: float | None = None
        try:
            return request()
        except GithubException as exc:
            wait = rate_limit_wait(exc.status, exc.headers or {}, exc.data, policy.clock())
            if wait is None and exc.status < 500:
                refuse = refusal or functools.partial(_refusal, "comment")
                raise GitHubError(refuse(what, exc)) from exc
            failure = exc
        except requests.RequestException as exc:  # refused, reset, timed out
            failure = exc
        if wait is None and not repeat:
            raise _Unanswered(what) from failure
        if attempt == policy.attempts:
            break
        if wait is not None:
            if wait > policy.cap_s:
                raise RateLimitWaitTooLong(
                    f"GitHub's rate limit asks us to wait {wait:.0f}s before {what}, more than "
                    f"the {policy.cap_s:.0f}s we allow; {policy.later}"
                )
            policy.sleep(wait)
        else:
            policy.sleep(float(min(2 ** (attempt - 1), policy.cap_s)))
    raise GitHubError((gave_up or _gave_up)(what, policy.attempts, failure)) from failure


def rate_limit_wait(status: int, headers: dict[str, Any], data: Any, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None when this is not a rate limit."""
    if status not in (403, 429):
        return None
    headers = {str(k).lower(): str(v) for k, v in headers.items()}
    if headers.get("retry-after", "").strip().isdigit():
        return float(headers["retry-after"])
    if (
        headers.get("x-ratelimit-remaining") == "0"
        and headers.get("x-ratelimit-reset", "").isdigit()
    ):
        return max(0.0, float(headers["x-ratelimit-reset"]) - now) + 1  # +1: reset's second
    message = data.get("message", "") if isinstance(data, dict) else ""
    return SECONDARY_WAIT_S if "secondary rate limit" in str(message).lower() else None


def _same_comment(posted: str, sent: str) -> bool:
    """Our marker and run line identify the comment a run posted; without them, the body does."""
    run = _run_line(sent)
    return posted == sent if run is None else MARKER in posted and _run_line(posted) == run


def _run_line(body: str) -> str | None:
    return next((x.rstrip() for x in body.splitlines()[:5] if x.startswith(RUN_PREFIX)), None)


def _gave_up(what: str, attempts: int, failure: BaseException | None) -> str:
    if isinstance(failure, GithubException):
        said = f"{failure.status} {_message(failure)}".rstrip()
    else:
        said = type(failure).__name__
    return (
        f"GitHub did not answer {what} after {attempts} tries (last: {said}); "
        "re-run the comment workflow later"
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _pull_head(data: Any) -> PullHead:
    head, base = data.get("head") or {}, data.get("base") or {}
    head_repo = head.get("repo")
    return PullHead(
        number=int(data["number"]),
        state=str(data.get("state")),
        merged=bool(data.get("merged") or data.get("merged_at")),
        head_sha=str(head.get("sha")),
        head_repo=str(head_repo["full_name"]) if isinstance(head_repo, dict) else None,
        head_ref=str(head.get("ref") or ""),
        base_repo=str((base.get("repo") or {}).get("full_name") or ""),
        changed_files=int(data.get("changed_files") or 0),
    )


def _check_run(data: dict[str, Any]) -> CheckRunState:
    app = data.get("app") if isinstance(data.get("app"), dict) else {}
    return CheckRunState(
        id=int(data["id"]),
        name=str(data.get("name")),
        status=str(data.get("status")),
        conclusion=data.get("conclusion") if isinstance(data.get("conclusion"), str) else None,
        external_id=str(data.get("external_id") or ""),
        app_slug=str((app or {}).get("slug") or ""),
    )


def _output(request: CheckRunRequest, annotations: tuple[Annotation, ...]) -> dict[str, Any]:
    return {
        "title": request.title,
        "summary": request.summary,
        "annotations": [_annotation(a) for a in annotations],
    }


def _annotation(a: Annotation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": a.path,
        "start_line": a.start_line,
        "end_line": a.end_line,
        "annotation_level": a.level,
        "title": a.title,
        "message": a.message,
    }
    if a.start_column is not None and a.start_line == a.end_line:
        body["start_column"] = a.start_column
        body["end_column"] = a.end_column if a.end_column is not None else a.start_column
    return body


def _message(exc: BaseException | None) -> str:
    data = getattr(exc, "data", None)
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def _refusal(needs: str, what: str, exc: GithubException) -> str:
    """GitHub's refusal in words, with the permission that call needs (NEEDS)."""
    message = _message(exc)
    # GitHub's 403 for a missing grant says "Resource not accessible by integration"; other
    # 403s ("This workflow run is not completed") are not about permissions.
    permission = not message or "not accessible" in message.lower()
    hint = {
        401: "; the token is missing or expired",
        403: f"; the workflow's `permissions:` need {NEEDS.get(needs, needs)}"
        if permission
        else "",
        404: "; check the repository and pull request exist and the token can see them",
        422: "; GitHub found the request invalid (this is a taxonbot bug: please report it)",
    }.get(exc.status, "")
    return f"GitHub refused {what}: {exc.status} {message}".rstrip() + hint
