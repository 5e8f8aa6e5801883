"""`workflow_run` `completed` events as GitHub writes them to $GITHUB_EVENT_PATH (the webhook
payload), for the stories the comment job meets: a same-repository PR, a fork's PR, a deleted
fork's PR, a merge-queue run and a push.

The shape is the real one from `tests/fixtures/github-payloads/workflow_run/completed.payload.json`
(octokit/webhooks, MIT licence), re-pointed at our repositories; a built-in copy of its keys
where that file is missing. What GitHub puts in the fields that matter:
- `pull_requests` names same-repository PRs only, in a minimal shape ({url, id, number,
  head{ref, sha, repo{id, url, name}}, base{...}}: no full_name). For a fork's PR it is []
  (actions/runner#3444, github/docs#22501); the real with-pull-requests example even names a PR
  of another repository than the run's (`extra_pulls` builds that).
- `head_repository` is the repository the head branch lives in (the fork for a fork's PR) and
  null once the fork is deleted (the schema allows null; github/rest-api-description#161 for
  the same on a pull request's head.repo).
- A merge queue's run has event `merge_group` and head branch `gh-readonly-queue/<base>/pr-<n>-
  <sha>` (docs.github.com/repositories/configuring-branches-and-merges-in-your-repository/
  configuring-pull-request-merges/managing-a-merge-queue); it belongs to no pull request.
"""

from __future__ import annotations

import copy
import json
import zlib
from collections.abc import Sequence
from typing import Any

from tests.doubles.fake_github import PAYLOADS, FakeGitHub, minimal_pull

API = "https://api.github.com"  # an event carries GitHub's own addresses
TEMPLATE_REPO, TEMPLATE_OWNER = "octo-org/octo-repo", "octo-org"
RUN_KEYS = (
    "name artifacts_url cancel_url check_suite_url check_suite_id check_suite_node_id "
    "conclusion created_at event head_branch head_commit head_repository head_sha path "
    "display_title html_url id jobs_url logs_url node_id pull_requests repository rerun_url "
    "run_number run_attempt run_started_at previous_attempt_url status updated_at url "
    "workflow_id workflow_url actor triggering_actor"
).split()


def pull_entry(
    repo: str,
    number: int,
    *,
    head_sha: str,
    head_ref: str = "topic",
    head_repo: str | None = None,
    base_ref: str = "main",
    base_sha: str = "0" * 40,
) -> dict[str, Any]:
    """One `pull_requests` item, as GitHub writes it into the event."""
    head = (head_ref, head_sha, head_repo or repo)
    return minimal_pull(API, repo, number, head, (base_ref, base_sha))


def workflow_run_event(
    repo: str,
    *,
    head_sha: str,
    head_branch: str,
    head_repo: str | None,
    event: str = "pull_request",
    pull_requests: Sequence[dict[str, Any]] = (),
    run_id: int = 9001,
    run_attempt: int = 1,
    conclusion: str = "success",
    workflow: str = ".github/workflows/pr.yml",
    actor: str = "contributor",
) -> dict[str, Any]:
    """The whole `completed` event for a run in `repo`; `head_repo` None: the fork is gone."""
    template = _template()
    run = template["workflow_run"]
    base = _repository(template["repository"], repo, fork=False)
    run.update(
        id=run_id,
        name=workflow.rsplit("/", 1)[-1].removesuffix(".yml"),
        node_id=f"WFR_{run_id}",
        event=event,
        status="completed",
        conclusion=conclusion,
        head_sha=head_sha,
        head_branch=head_branch,
        path=workflow,
        run_attempt=run_attempt,
        run_number=run_id % 1000,
        pull_requests=[copy.deepcopy(p) for p in pull_requests],
        repository=_repository(run["repository"], repo, fork=False),
        head_repository=(
            _repository(run["head_repository"], head_repo, fork=head_repo != repo)
            if head_repo is not None
            else None
        ),
        actor=_user(run["actor"], actor),
        triggering_actor=_user(run["triggering_actor"], actor),
    )
    api = f"{API}/repos/{repo}/actions/runs/{run_id}"
    for key, tail in (("url", ""), ("rerun_url", "/rerun"), ("jobs_url", "/jobs")):
        run[key] = api + tail
    run["artifacts_url"], run["logs_url"] = f"{api}/artifacts", f"{api}/logs"
    run["html_url"] = f"https://github.com/{repo}/actions/runs/{run_id}"
    run["previous_attempt_url"] = f"{api}/attempts/{run_attempt - 1}" if run_attempt > 1 else None
    run["head_commit"] = {**run["head_commit"], "id": head_sha}
    template["repository"], template["sender"] = base, _user(template["sender"], actor)
    if "organization" in template:  # the repository's owner, as an organization
        template["organization"] = _user(template["organization"], repo.split("/")[0])
    template["workflow"] = {**template["workflow"], "path": workflow}
    return template


def same_repo_pull_event(
    repo: str, number: int, *, head_sha: str, head_ref: str = "topic", **run: Any
) -> dict[str, Any]:
    """A PR from a branch of `repo` itself: the event names it."""
    entry = pull_entry(repo, number, head_sha=head_sha, head_ref=head_ref)
    return workflow_run_event(
        repo, head_sha=head_sha, head_branch=head_ref, head_repo=repo, pull_requests=[entry], **run
    )


def fork_pull_event(
    repo: str,
    fork: str,
    *,
    head_sha: str,
    head_ref: str = "topic",
    extra_pulls: Sequence[dict[str, Any]] = (),
    **run: Any,
) -> dict[str, Any]:
    """A fork's PR: `pull_requests` is [] (but for any `extra_pulls`, PRs of other
    repositories such as the fork's own, as the real with-pull-requests example shows)."""
    return workflow_run_event(
        repo,
        head_sha=head_sha,
        head_branch=head_ref,
        head_repo=fork,
        pull_requests=extra_pulls,
        **run,
    )


def deleted_fork_event(
    repo: str, *, head_sha: str, head_ref: str = "topic", **run: Any
) -> dict[str, Any]:
    return workflow_run_event(repo, head_sha=head_sha, head_branch=head_ref, head_repo=None, **run)


def merge_group_event(
    repo: str, number: int, *, head_sha: str, base_sha: str, base_ref: str = "main", **run: Any
) -> dict[str, Any]:
    branch = f"gh-readonly-queue/{base_ref}/pr-{number}-{base_sha}"
    return workflow_run_event(
        repo, head_sha=head_sha, head_branch=branch, head_repo=repo, event="merge_group", **run
    )


def push_event(repo: str, *, head_sha: str, branch: str = "main", **run: Any) -> dict[str, Any]:
    run.setdefault("event", "push")
    return workflow_run_event(repo, head_sha=head_sha, head_branch=branch, head_repo=repo, **run)


def event_for_pull(fake: FakeGitHub, repo: str, number: int, **run: Any) -> dict[str, Any]:
    """The event the PR's pull_request run writes, from what the fake knows of the PR."""
    pull = fake.pulls[(repo, number)]
    story = {"head_sha": pull.head_sha, "head_ref": pull.head_ref, **run}
    if pull.head_repo is None:
        return deleted_fork_event(repo, **story)
    if pull.head_repo.casefold() == repo.casefold():
        return same_repo_pull_event(repo, number, **story)
    return fork_pull_event(repo, pull.head_repo, **story)


def _template() -> dict[str, Any]:
    source = PAYLOADS / "workflow_run" / "completed.payload.json"
    if source.is_file():
        return dict(json.loads(source.read_text("utf-8")))
    return _built_in()


def _repository(shape: dict[str, Any], full_name: str, *, fork: bool) -> dict[str, Any]:
    """The template's repository object, re-pointed at `full_name`."""
    owner = full_name.split("/")[0]
    text = json.dumps(shape).replace(TEMPLATE_REPO, full_name)
    repository = dict(json.loads(text))
    repository.update(
        id=zlib.crc32(full_name.encode()),
        node_id=f"R_{full_name}",
        name=full_name.split("/")[1],
        full_name=full_name,
        fork=fork,
        private=False,
        owner=_user(repository["owner"], owner),
    )
    return repository


def _user(shape: dict[str, Any], login: str) -> dict[str, Any]:
    old, text = str(shape.get("login", TEMPLATE_OWNER)), json.dumps(shape)
    for prefix in ("/users/", "/orgs/", "github.com/"):
        text = text.replace(f"{prefix}{old}", f"{prefix}{login}")
    user = dict(json.loads(text))
    user.update(login=login, id=zlib.crc32(login.encode()), node_id=f"U_{login}")
    return user


def _built_in() -> dict[str, Any]:
    """The real payload's keys, where the fixture is missing."""

    def user(login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": 1,
            "node_id": "U_1",
            "url": f"{API}/users/{login}",
            "html_url": f"https://github.com/{login}",
            "type": "User",
            "site_admin": False,
        }

    repository = {
        "id": 1,
        "node_id": "R_1",
        "name": "octo-repo",
        "full_name": TEMPLATE_REPO,
        "private": False,
        "owner": user(TEMPLATE_OWNER),
        "html_url": f"https://github.com/{TEMPLATE_REPO}",
        "url": f"{API}/repos/{TEMPLATE_REPO}",
        "fork": False,
    }
    run: dict[str, Any] = dict.fromkeys(RUN_KEYS)
    run.update(
        head_commit={"id": "", "message": "", "tree_id": ""},
        repository=repository,
        head_repository=repository,
        actor=user(TEMPLATE_OWNER),
        triggering_actor=user(TEMPLATE_OWNER),
        pull_requests=[],
    )
    return {
        "action": "completed",
        "repository": repository,
        "sender": user(TEMPLATE_OWNER),
        "workflow": {"id": 1, "name": "pr", "path": ".github/workflows/pr.yml"},
        "workflow_run": run,
    }
