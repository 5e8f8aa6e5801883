"""`GitHubPort` over the REST API through PyGithub, under the retry rules of retry.py.

PyGithub is imported when the adapter is made, not with this module (retry.py says why).

Which calls may be sent again when GitHub does not answer:
- reads, comment edits (PATCH of a whole body), label adds (POST of a set), label removals and
  reactions are idempotent: 5xx and dropped connections are retried a bounded number of times;
- a comment POST is not: when it goes unanswered we list the comments again and look for ours
  (our login, marker and run line) before posting once more; a check run is looked for by its
  external_id, an annotation PATCH by the run's annotation count; a re-run is sent once.
A refusal names the permission the call needs in the workflow's `permissions:` (NEEDS).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Unpack
from urllib.parse import quote

from taxonbot.github import rest
from taxonbot.github.identity import BOT_LOGIN
from taxonbot.github.markers import MARKER, RUN_PREFIX
from taxonbot.github.port import GitHubError
from taxonbot.github.records import (
    Annotation,
    CheckRunRequest,
    CheckRunState,
    GitTree,
    PullFile,
    PullHead,
    RepoFile,
    WorkflowRun,
)
from taxonbot.github.retry import (
    API_URL,
    PER_PAGE,
    ClientOptions,
    RetryingClient,
    Unanswered,
    message,
    refused,
    status_of,
)
from taxonbot.github.values import Comment, PrState

if TYPE_CHECKING:
    from github.IssueComment import IssueComment
    from github.Repository import Repository

ACTIONS_LOGIN = BOT_LOGIN  # who GITHUB_TOKEN's comments are by
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


class PyGithubAdapter(RetryingClient):
    LATER = "re-run the comment workflow later"

    def __init__(
        self,
        token: str,
        base_url: str = API_URL,
        retry_cap_s: float = 60,
        *,
        login: str | None = None,
        **options: Unpack[ClientOptions],
    ) -> None:
        # lazy: get_repo/get_issue build URLs without a request; each call below is one request.
        super().__init__(token, base_url, retry_cap_s, **options)
        self._login = login
        if login is None and token.startswith("ghs_"):
            # An installation token (GITHUB_TOKEN is one) cannot read GET /user; asking costs
            # a request to learn what the 403 fallback below says anyway.
            self._login = ACTIONS_LOGIN

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
        url = f"/repos/{repo}/pulls/{number}"
        data = self._missing_as_none(what, self._json("GET", url), needs="read")
        return None if data is None else rest.pull_head(data)

    def open_pulls(self, repo: str, head_label: str | None) -> list[PullHead]:
        """`GET /pulls?state=open&head=owner:branch`: how a fork's PR is found (the commit ->
        pulls endpoint answers [] for a commit that lives only in a fork)."""
        query: dict[str, Any] = {"state": "open", "per_page": PER_PAGE}
        if head_label is not None:
            query["head"] = head_label
        what = f"listing the open pull requests of {repo}"
        found: list[PullHead] = []
        for page in range(1, MAX_OPEN_PAGES + 1):
            request = self._json("GET", f"/repos/{repo}/pulls", {**query, "page": page})
            data = rest.as_list(self._send(False, what, request, needs="read"))
            found.extend(rest.pull_head(item) for item in data)
            if len(data) < PER_PAGE:
                break
        return found

    def pull_files(self, repo: str, number: int) -> list[PullFile]:
        what = f"listing the files of {repo}#{number}"
        url = f"/repos/{repo}/pulls/{number}/files"
        found: list[PullFile] = []
        for page in range(1, MAX_FILES // PER_PAGE + 1):
            request = self._json("GET", url, {"per_page": PER_PAGE, "page": page})
            data = rest.as_list(self._send(False, what, request, needs="read"))
            found.extend(rest.pull_files(data))
            if len(data) < PER_PAGE:
                break
        return found

    def file_at(self, repo: str, path: str, ref: str) -> RepoFile | None:
        """The file at `ref`, read through the base repository (a PR's head commits are there
        under refs/pull/N/head, a deleted fork's too); None when it is not a file there."""
        what = f"reading {path} at {ref[:12]}"
        url = f"/repos/{repo}/contents/{quote(path, safe='/')}"
        try:
            data = self._send(False, what, self._json("GET", url, {"ref": ref}), needs="contents")
        except GitHubError as exc:
            status = status_of(exc)
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

    def git_tree(self, repo: str, tree_sha: str, recursive: bool) -> GitTree | None:
        """`GET /git/trees/{sha}` (a commit's sha names its tree): one request; the only
        answer that shows an entry's git mode (a symbolic link, a submodule)."""
        what = f"listing the tree {tree_sha[:12]} of {repo}"
        query = {"recursive": "1"} if recursive else None  # any value turns it on (docs)
        request = self._json("GET", f"/repos/{repo}/git/trees/{quote(tree_sha)}", query)
        data = self._missing_as_none(what, request, needs="contents")
        return None if data is None else rest.git_tree(data)

    def check_runs(self, repo: str, head_sha: str, name: str) -> list[CheckRunState]:
        what = f"listing the {name} check runs of {head_sha[:12]}"
        query = {"check_name": name, "filter": "all", "per_page": PER_PAGE}
        url = f"/repos/{repo}/commits/{head_sha}/check-runs"
        data = self._send(False, what, self._json("GET", url, query), needs="checks")
        runs = data.get("check_runs") if isinstance(data, dict) else None
        return [rest.check_run(item) for item in rest.as_list(runs) if isinstance(item, dict)]

    def viewer_login(self) -> str:
        if self._login is None:
            try:
                self._login = self._send(False, "asking who we are", self._whoami)
            except GitHubError as exc:
                # An Actions GITHUB_TOKEN may not read /user ("Resource not accessible by
                # integration"); its comments are by github-actions[bot]. Another GitHub App's
                # token posts as "<app-slug>[bot]": pass that as `login`.
                if "not accessible by integration" not in message(exc.__cause__).lower():
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

    def _whoami(self) -> str:
        return self._gh.get_user().login

    def _comments(self, repo: str, number: int) -> tuple[Comment, ...]:
        pages = self._repo(repo).get_issue(number).get_comments()
        what = f"listing the comments on {repo}#{number}"
        return tuple(
            Comment(c.id, c.user.login if c.user is not None else "", c.body or "")
            for c in self._pages(what, pages.get_page)
        )

    # ---- writes --------------------------------------------------------------------------
    def create_comment(self, repo: str, number: int, body: str) -> int:
        """GitHub may store a comment and still answer 502: before posting again, look for
        ours (login, marker and run line) in the list."""
        issue = self._repo(repo).get_issue(number)
        what = f"posting the comment on {repo}#{number}"
        return self._write_once(
            what,
            lambda: issue.create_comment(body).id,
            functools.partial(self._find_posted, repo, number, body),
        )

    def edit_comment(self, repo: str, comment_id: int, body: str) -> None:
        comment = self._comment(repo, comment_id)
        self._send(True, f"editing comment {comment_id} in {repo}", lambda: comment.edit(body))

    def delete_comment(self, repo: str, comment_id: int) -> None:
        """Only ever one of our own duplicates (taxonbot/comment/plan.py); already gone is fine."""
        comment = self._comment(repo, comment_id)
        what = f"deleting comment {comment_id} in {repo}"
        self._missing_as_none(what, comment.delete, write=True)

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
            if "label does not exist" not in message(exc.__cause__).lower():
                raise  # "does not exist" is what we wanted; anything else is not

    def rerun(self, repo: str, run_id: int) -> None:
        """POST .../actions/runs/{id}/rerun once. Not retried when unanswered: it may have
        started, and a second request for a running run is refused anyway. (PyGithub's
        `WorkflowRun.rerun()` returns False instead of raising, and would first GET the run.)"""
        what = f"re-running workflow run {run_id} in {repo}"
        url = f"/repos/{repo}/actions/runs/{run_id}/rerun"
        try:
            self._send(True, what, self._json("POST", url), repeat=False, needs="actions")
        except Unanswered as exc:
            raise GitHubError(
                f"GitHub did not answer {what}; it may have started: check the Actions tab"
            ) from exc.__cause__

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        """A reaction on a comment: idempotent on GitHub's side (the same one twice is one)."""
        comment = self._comment(repo, comment_id)
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
            "output": rest.check_run_output(request, request.annotations[:ANNOTATIONS_PER_REQUEST]),
        }
        create = self._json("POST", f"/repos/{repo}/check-runs", None, body)

        def find() -> int | None:
            runs = self.check_runs(repo, request.head_sha, request.name)
            return next((run.id for run in runs if run.external_id == request.external_id), None)

        return self._write_once(what, lambda: int(create()["id"]), find, needs="checks")

    def update_check_run(
        self, repo: str, check_run_id: int, request: CheckRunRequest, annotations: list[Annotation]
    ) -> None:
        """PATCH appends annotations (GitHub adds them to those the run has), so a PATCH that
        went unanswered is checked against the run's annotation count before it is sent again."""
        what = f"adding annotations to check run {check_run_id}"
        url = f"/repos/{repo}/check-runs/{check_run_id}"
        output = rest.check_run_output(request, tuple(annotations))
        update = self._json("PATCH", url, None, {"output": output})
        before = self._annotation_count(repo, check_run_id)

        def patch() -> bool:
            update()
            return True

        def find() -> bool | None:
            done = self._annotation_count(repo, check_run_id) >= before + len(annotations)
            return True if done else None

        self._write_once(what, patch, find, needs="checks")

    def _annotation_count(self, repo: str, check_run_id: int) -> int:
        what = f"reading check run {check_run_id}"
        url = f"/repos/{repo}/check-runs/{check_run_id}"
        return rest.annotation_count(
            self._send(False, what, self._json("GET", url), needs="checks")
        )

    def _find_posted(self, repo: str, number: int, body: str) -> int | None:
        login = self.viewer_login().casefold()
        for comment in self._comments(repo, number):
            if comment.author.casefold() == login and _same_comment(comment.body, body):
                return comment.id
        return None

    # ---- plumbing ------------------------------------------------------------------------
    def _json(
        self,
        verb: str,
        url: str,
        query: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Callable[[], Any]:
        """One REST request, not yet sent (`_send` sends it); its JSON answer."""
        requester = self._gh.requester

        def request() -> Any:
            return requester.requestJsonAndCheck(verb, url, parameters=query, input=body)[1]

        return request

    def _refusal(self, what: str, exc: Any, needs: str | None) -> str:
        """GitHub's refusal in words, with the permission that call needs (NEEDS)."""
        needs = needs or "comment"
        said = message(exc)
        # GitHub's 403 for a missing grant says "Resource not accessible by integration"; other
        # 403s ("This workflow run is not completed") are not about permissions.
        permission = not said or "not accessible" in said.lower()
        hint = {
            401: "; the token is missing or expired",
            403: f"; the workflow's `permissions:` need {NEEDS.get(needs, needs)}"
            if permission
            else "",
            404: "; check the repository and pull request exist and the token can see them",
            422: "; GitHub found the request invalid (this is a taxonbot bug: please report it)",
        }.get(exc.status, "")
        return refused(what, exc, hint)

    def _repo(self, repo: str) -> Repository:
        return self._gh.get_repo(repo)  # lazy: no request

    def _comment(self, repo: str, comment_id: int) -> IssueComment:
        from github.IssueComment import IssueComment

        url = f"/repos/{repo}/issues/comments/{comment_id}"
        return IssueComment(self._gh.requester, url=url)  # lazy: no request until used


def _same_comment(posted: str, sent: str) -> bool:
    """Our marker and run line identify the comment a run posted; without them, the body does."""
    run = _run_line(sent)
    return posted == sent if run is None else MARKER in posted and _run_line(posted) == run


def _run_line(body: str) -> str | None:
    return next((x.rstrip() for x in body.splitlines()[:5] if x.startswith(RUN_PREFIX)), None)
