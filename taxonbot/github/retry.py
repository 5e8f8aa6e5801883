"""How every GitHub adapter here sends a request: one set of retry and refusal rules.

PyGithub's default `GithubRetry` adds POST to urllib3's retried methods and retries every 5xx,
so a comment POST that GitHub stored but answered 502 would be posted twice. Here urllib3 never
retries (`retry=None`) and `RetryingClient` decides, call by call:
- 4xx (rate limits aside) is a refusal at once, in words, with the hint the adapter gives for it
  (`_refusal`: the permission the call needs, the token, ...);
- rate limits (403/429 with Retry-After, or no requests left until X-RateLimit-Reset, or the
  secondary-limit message alone: wait a minute, as GitHub's docs say) are waited out up to
  `retry_cap_s` (refused unprocessed: safe to send again, even a POST); a longer wait stops with
  `RateLimitWaitTooLong`;
- 5xx and dropped connections back off (1, 2, 4 s ... up to the cap) and retry, unless the call
  is a write that may have been stored (`repeat=False`): then `Unanswered`, and `_write_once`
  looks for what GitHub may have kept before it sends again, so a 502 never leaves two of
  anything.
Every HTTP request, retries included, is counted in `api_calls`. The PR bot's adapter
(pygithub.py), the release cut's (taxonbot/release/github.py) and the announcement's
(taxonbot/release/announce_github.py) differ only in their calls and in what they tell a person
to do next (`LATER`).

PyGithub and requests are imported when a client is made or a request sent, not with this
module: `release cut` and `announce` import their adapters at start-up, and their offline dry
runs never talk to GitHub (PyGithub alone takes about 0.2 s to import).
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypedDict, TypeVar

from taxonbot.github.port import GitHubError, RateLimitWaitTooLong

if TYPE_CHECKING:
    from github import Github

T = TypeVar("T")
API_URL = "https://api.github.com"
PER_PAGE = 100  # GitHub's maximum: one request lists 100 comments, releases or assets
SECONDARY_WAIT_S = 60.0  # "wait at least one minute" when GitHub names no time


@dataclass
class ApiCalls:
    """HTTP requests made so far (each retry is one more)."""

    reads: int = 0
    writes: int = 0

    def __str__(self) -> str:
        return f"{self.reads} reads, {self.writes} writes"


class ClientOptions(TypedDict, total=False):
    """`RetryingClient`'s keyword settings, for an adapter that adds settings of its own."""

    attempts: int
    sleep: Callable[[float], None] | None
    clock: Callable[[], float]
    timeout_s: int | None
    seconds_between_requests: float | None
    seconds_between_writes: float | None


class Unanswered(Exception):
    """A write may or may not have happened: 5xx or the connection dropped."""


class RetryingClient:
    """A PyGithub client under the retry rules; each adapter adds its calls and its words."""

    LATER: ClassVar[str] = "re-run the workflow later"  # what to do when GitHub will not answer
    TIMEOUT_S: ClassVar[int] = 30

    def __init__(
        self,
        token: str,
        base_url: str = API_URL,
        retry_cap_s: float = 60,
        *,
        attempts: int = 4,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: int | None = None,
        seconds_between_requests: float | None = 0.25,
        seconds_between_writes: float | None = 1.0,
    ) -> None:
        timeout = self.TIMEOUT_S if timeout_s is None else timeout_s
        self._gh = client(
            token, base_url, timeout, seconds_between_requests, seconds_between_writes
        )
        self.retry_cap_s, self.attempts = retry_cap_s, attempts
        self._sleep = sleep or time.sleep  # looked up now: a test's monkeypatch applies
        self._clock = clock
        self.api_calls = ApiCalls()

    def close(self) -> None:
        self._gh.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _refusal(self, what: str, exc: Any, needs: str | None) -> str:
        """GitHub's refusal in words; adapters add the hint that fits the call (`needs`)."""
        return refused(what, exc, "")

    # ---- one request, with the retry rules -------------------------------------------------
    def _send(
        self,
        write: bool,
        what: str,
        request: Callable[[], T],
        *,
        repeat: bool = True,
        needs: str | None = None,
    ) -> T:
        """One request under the retry rules; `Unanswered` only with repeat=False."""
        from github import GithubException
        from requests import RequestException

        failure: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            self._count(write)
            wait: float | None = None
            try:
                return request()
            except GithubException as exc:
                wait = rate_limit_wait(exc.status, exc.headers or {}, exc.data, self._clock())
                if wait is None and exc.status < 500:
                    raise GitHubError(self._refusal(what, exc, needs)) from exc
                failure = exc
            except RequestException as exc:  # refused, reset, timed out
                failure = exc
            if wait is None and not repeat:
                raise Unanswered(what) from failure
            if attempt < self.attempts:
                self._sleep(self._wait(what, wait, attempt))
        raise GitHubError(self._gave_up(what, failure)) from failure

    def _write_once(
        self,
        what: str,
        request: Callable[[], T],
        find: Callable[[], T | None],
        *,
        needs: str | None = None,
    ) -> T:
        """A write that may be stored although unanswered: after each unanswered try, give
        GitHub a moment to list it, then `find` it (None: not there) before sending again."""
        failure: BaseException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                return self._send(True, what, request, repeat=False, needs=needs)
            except Unanswered as exc:
                failure = exc.__cause__
            self._sleep(self._backoff(attempt))
            found = find()
            if found is not None:
                return found
        raise GitHubError(self._gave_up(what, failure))

    def _missing_as_none(
        self,
        what: str,
        request: Callable[[], T],
        *,
        write: bool = False,
        needs: str | None = None,
    ) -> T | None:
        """The answer, or None where GitHub says 404 (not there, or already gone)."""
        try:
            return self._send(write, what, request, needs=needs)
        except GitHubError as exc:
            if status_of(exc) == 404:
                return None
            raise

    def _pages(
        self, what: str, get_page: Callable[[int], list[T]], *, needs: str | None = None
    ) -> list[T]:
        """Page by page, each retried on its own; a short page is the last one."""
        found: list[T] = []
        for index in itertools.count():
            page = self._send(False, what, functools.partial(get_page, index), needs=needs)
            found.extend(page)
            if len(page) < PER_PAGE:
                break
        return found

    def _count(self, write: bool) -> None:
        if write:
            self.api_calls.writes += 1
        else:
            self.api_calls.reads += 1

    def _wait(self, what: str, rate_limit: float | None, attempt: int) -> float:
        if rate_limit is None:
            return self._backoff(attempt)
        if rate_limit > self.retry_cap_s:
            raise RateLimitWaitTooLong(
                f"GitHub's rate limit asks us to wait {rate_limit:.0f}s before {what}, more than "
                f"the {self.retry_cap_s:.0f}s we allow; {self.LATER}"
            )
        return rate_limit

    def _backoff(self, attempt: int) -> float:
        return float(min(2 ** (attempt - 1), self.retry_cap_s))

    def _gave_up(self, what: str, failure: BaseException | None) -> str:
        status = getattr(failure, "status", None)  # GitHub answered (5xx), or nothing came
        said = f"{status} {message(failure)}".rstrip() if status else type(failure).__name__
        return (
            f"GitHub did not answer {what} after {self.attempts} tries (last: {said}); {self.LATER}"
        )


def client(
    token: str,
    base_url: str,
    timeout_s: int,
    seconds_between_requests: float | None,
    seconds_between_writes: float | None,
) -> Github:
    """PyGithub as every adapter uses it: lazy objects, and no retries of its own (a retried
    POST would duplicate a comment or an asset; `RetryingClient._send` decides instead)."""
    from github import Auth, Github

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
    said = data.get("message", "") if isinstance(data, dict) else ""
    return SECONDARY_WAIT_S if "secondary rate limit" in str(said).lower() else None


def refused(what: str, exc: Any, hint: str) -> str:
    """`GitHub refused <what>: <status> <GitHub's message>`, then the adapter's hint."""
    return f"GitHub refused {what}: {exc.status} {message(exc)}".rstrip() + hint


def message(exc: BaseException | None) -> str:
    """GitHub's own message in a refusal (its JSON `message`), or ""."""
    data = getattr(exc, "data", None)
    return str(data.get("message") or "") if isinstance(data, dict) else ""


def status_of(error: GitHubError) -> int | None:
    """The HTTP status behind a GitHubError, when GitHub answered one."""
    status = getattr(error.__cause__, "status", None)
    return status if isinstance(status, int) else None
