"""Which pull request a finished pr.yml run was for, from trusted facts only.

GitHub does not hand the privileged job the pull request of a fork: `workflow_run.pull_requests`
is empty for a fork's run, and `GET /commits/{sha}/pulls` answers `[]` for a commit that exists
only in the fork (tests/doubles/fake_github.py cites where both are documented). What the event does
carry, and PR code cannot change, is the run's head SHA, head repository and head branch. So:

1. numbers the event lists (same-repository PRs; the list can even name a PR of another
   repository) and the number the artifact carries are only hints;
2. then the open PRs whose head is `owner:branch` (`GET /pulls?head=`), which finds a fork's PR;
3. then commit -> pulls (a same-repository PR whose branch was renamed meanwhile);
4. a deleted fork (no head repository) is looked for among the open PRs by head SHA.
Every candidate is confirmed through the API: open, its head SHA is the run's, its head
repository is the run's, and its base is this repository. Nothing else is ever posted to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from taxonbot.github.port import GitHubPort
from taxonbot.github.records import PullHead


@dataclass(frozen=True)
class RunFacts:
    """What the workflow_run event (written by GitHub, not by PR code) says about the run."""

    repo: str  # the base repository: owner/name
    head_sha: str
    head_repo: str | None  # None: the fork was deleted
    head_branch: str
    hints: tuple[int, ...] = ()  # PR numbers to try first; each is confirmed


def confirmed(pull: PullHead, facts: RunFacts) -> bool:
    same_head = (
        pull.head_repo is None
        if facts.head_repo is None
        else pull.head_repo is not None and pull.head_repo.casefold() == facts.head_repo.casefold()
    )
    return (
        pull.state == "open"
        and not pull.merged
        and pull.head_sha == facts.head_sha
        and same_head
        and pull.base_repo.casefold() == facts.repo.casefold()
    )


def find_pulls(port: GitHubPort, facts: RunFacts) -> list[PullHead]:
    """The open PRs this run was for (usually one; the same head can be in two), by number."""
    found = _confirm(_hinted(port, facts), facts)
    if found:
        return found
    if facts.head_repo is not None and facts.head_branch:
        owner = facts.head_repo.split("/")[0]
        found = _confirm(port.open_pulls(facts.repo, f"{owner}:{facts.head_branch}"), facts)
        if found:
            return found
    if facts.head_repo is not None and facts.head_repo.casefold() == facts.repo.casefold():
        numbers = port.pulls_for_head(facts.repo, facts.head_sha, facts.head_repo)
        found = _confirm(_heads(port, facts.repo, numbers), facts)
        if found:
            return found
    if facts.head_repo is None:
        return _confirm(port.open_pulls(facts.repo, None), facts)
    return []


def _hinted(port: GitHubPort, facts: RunFacts) -> list[PullHead]:
    return _heads(port, facts.repo, dict.fromkeys(n for n in facts.hints if n > 0))


def _heads(port: GitHubPort, repo: str, numbers: Iterable[int]) -> list[PullHead]:
    heads = (port.pull_head(repo, number) for number in numbers)
    return [head for head in heads if head is not None]


def _confirm(pulls: Iterable[PullHead], facts: RunFacts) -> list[PullHead]:
    found = {pull.number: pull for pull in pulls if confirmed(pull, facts)}
    return [found[number] for number in sorted(found)]
