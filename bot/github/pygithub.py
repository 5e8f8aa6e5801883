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

import functools
import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException
from github.IssueComment import IssueComment
from github.Repository import Repository

from bot.comment.plan import Comment, PrState
from bot.comment.render import MARKER, RUN_PREFIX
from bot.github.port import GitHubError, RateLimitWaitTooLong

T = TypeVar("T")
ACTIONS_LOGIN = "github-actions[bot]"  # who GITHUB_TOKEN's comments are by
PER_PAGE = 100  # GitHub's maximum: one request lists a PR's first 100 comments
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


Unanswered = _Unanswered  # the release adapter shares the retry rules (bot/github/releases.py)


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

    def latest_run(self, repo: str, workflow_file: str, head_sha: str) -> int | None:
        """The newest pull_request run of the workflow for this head: one request."""
        runs = (
            self._repo(repo)
            .get_workflow(workflow_file)
            .get_runs(head_sha=head_sha, event="pull_request")
        )
        what = f"finding the {workflow_file} run for {head_sha[:12]} in {repo}"
        page = self._send(False, what, functools.partial(runs.get_page, 0))
        return max((run.id for run in page), default=None)  # ids grow: the largest is newest

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
        """Only ever one of our own duplicates (bot/comment/plan.py); already gone is fine."""
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
        self._send(True, what, lambda: issue.add_to_labels(*names))

    def remove_label(self, repo: str, number: int, label: str) -> None:
        issue = self._repo(repo).get_issue(number)
        try:
            what = f"removing label {label} from {repo}#{number}"
            self._send(True, what, lambda: issue.remove_from_labels(label))
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
            self._send(True, what, request, repeat=False)
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

    def _find_posted(self, repo: str, number: int, body: str) -> int | None:
        login = self.viewer_login().casefold()
        for comment in self._comments(repo, number):
            if comment.author.casefold() == login and _same_comment(comment.body, body):
                return comment.id
        return None

    # ---- one request, with the retry policy --------------------------------------------
    def _send(self, write: bool, what: str, request: Callable[[], T], *, repeat: bool = True) -> T:
        policy = Retry(self.attempts, self.retry_cap_s, self._sleep, self._clock, self.api_calls)
        return send_with_retry(policy, write, what, request, repeat=repeat)

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
                raise GitHubError((refusal or _refusal)(what, exc)) from exc
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


def _message(exc: BaseException | None) -> str:
    data = getattr(exc, "data", None)
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def _refusal(what: str, exc: GithubException) -> str:
    message = _message(exc)
    hint = {
        401: "; the token is missing or expired",
        403: "; the workflow needs `pull-requests: write`",
        404: "; check the repository and pull request exist and the token can see them",
    }.get(exc.status, "")
    return f"GitHub refused {what}: {exc.status} {message}".rstrip() + hint
