"""A finished build tells each merged pull request it trained on: one short comment per build.

The core decides, with no network, git or clock inside: which pull requests a build credits and
trained (`read_news`, `credits_of`, `plan_announcements`), the comment each gets
(`comment_body`: the build, its leaves' scores before → after, one link), and the writes that
bring a PR's comments to it (`reconcile`: found again by our login and a hidden marker per build,
so a re-run writes nothing and never posts twice). `publish` applies the plan through an
`AnnouncePort` (taxonbot/release/announce_github.py) one PR at a time: a PR GitHub refuses, or one
that is
gone, is one log line and the others still get theirs.

Which pull requests: the contributions between the previous build's taxonomy commit and this
one (taxonbot/taxonomy/contributions.py, recorded by `taxonbot build` in the manifest as the model
card credits
them), with a PR number, merged as the commit the history says (the API confirms it), and at
least one leaf the build trained. A direct push, a PR whose leaves all failed generation or
were deleted gets nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from taxonbot.errors import Refused
from taxonbot.github.port import GitHubError
from taxonbot.github.values import Comment
from taxonbot.markdown import code, inline
from taxonbot.release.announce_github import AnnouncePort
from taxonbot.release.manifest import TAG_PREFIX, BuildManifest
from taxonbot.taxonomy.contributions import Contribution
from taxonbot.taxonomy.leaf import leaf_path

MARKER_PREFIX = "<!-- taxonbot:build "
LEAVES_SHOWN = 20
PAST = {"create": "posted", "edit": "edited", "delete": "deleted (duplicates)"}
BASELINES = {"previous_build": "the previous build", "base_model": "the base model"}
_SAFE_URL = re.compile(r"^https://[A-Za-z0-9.-]+(?::\d+)?/[A-Za-z0-9._~/%+=&?-]*$")


class AnnounceError(Refused):
    """The build record cannot be announced; the message says what to do. The CLI exits 1."""


@dataclass(frozen=True)
class LeafScore:
    before: float
    after: float


@dataclass(frozen=True)
class Credit:
    """A merged pull request as the history tells it: its number, its commit on main, and
    the leaves it added, changed or renamed (as contributors write them)."""

    number: int
    sha: str
    leaves: tuple[str, ...]


@dataclass(frozen=True)
class BuildNews:
    """What an announcement needs from the build record (manifest.json)."""

    version: str
    taxonomy_commit: str
    previous_commit: str | None
    publishable: bool
    baseline: str  # what "before" was: the previous build or the base model
    trained: frozenset[str]  # leaves with training data in this build
    scores: Mapping[str, LeafScore]  # leaves the branch evaluation scored
    credits: tuple[Credit, ...] | None  # None: the manifest does not record them

    @property
    def tag(self) -> str:
        return TAG_PREFIX + self.version  # `taxonbot release cut`'s default tag for it


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Announcement:
    number: int
    sha: str  # the merge commit the API must confirm
    leaves: tuple[str, ...]
    body: str


@dataclass(frozen=True)
class Write:
    kind: str  # "create" | "edit" | "delete"
    comment_id: int | None
    body: str = ""


@dataclass
class Outcome:
    written: dict[str, int] = field(default_factory=lambda: {"create": 0, "edit": 0, "delete": 0})
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0

    def __str__(self) -> str:
        done = ", ".join(f"{n} {PAST[kind]}" for kind, n in self.written.items() if n)
        parts = [done or "nothing written", f"{self.unchanged} already right"]
        parts += [f"{self.skipped} skipped"] * bool(self.skipped)
        return ", ".join(parts + [f"{self.failed} failed"] * bool(self.failed))


# ---- the build record ------------------------------------------------------------------------


def read_news(manifest: BuildManifest, raw: Mapping[str, Any]) -> BuildNews:
    """`manifest` is `read_manifest`'s checked view of `raw` (version, commit, verdict)."""
    previous = raw.get("previous")
    previous_commit = previous.get("taxonomy_commit") if isinstance(previous, dict) else None
    data = raw.get("data")
    leaves = data.get("leaves") if isinstance(data, dict) else None
    if not isinstance(leaves, list):
        raise AnnounceError(
            "manifest.json has no `data.leaves`: it is not a record of `taxonbot build`; "
            "pass --build the folder (or downloaded build record) a build wrote."
        )
    trained = frozenset(
        _leaf(leaf.get("path"))
        for leaf in leaves
        if isinstance(leaf, dict) and leaf.get("status") != "failed"
    )
    evaluation = manifest.evaluation
    baseline = str(evaluation.get("baseline") or "previous_build")
    return BuildNews(
        manifest.version,
        manifest.taxonomy_commit,
        previous_commit if isinstance(previous_commit, str) else None,
        manifest.publishable,
        BASELINES.get(baseline, BASELINES["previous_build"]),
        trained - {""},
        _scores(evaluation.get("leaves")),
        _recorded_credits(raw.get("contributions")),
    )


def _scores(leaves: object) -> dict[str, LeafScore]:
    found: dict[str, LeafScore] = {}
    for leaf in leaves if isinstance(leaves, list) else []:
        if not isinstance(leaf, dict) or not isinstance(leaf.get("name"), str):
            continue
        before, after = _finite(leaf.get("before")), _finite(leaf.get("after"))
        if before is not None and after is not None:
            found[leaf["name"]] = LeafScore(before, after)
    return found


def _finite(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _recorded_credits(record: object) -> tuple[Credit, ...] | None:
    if not isinstance(record, list):
        return None
    found = []
    for item in record:
        if not isinstance(item, dict):
            continue
        number, sha = item.get("number"), item.get("sha")
        if isinstance(number, int) and not isinstance(number, bool) and isinstance(sha, str):
            changes = item.get("leaves")
            listed = (
                [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []
            )
            found.append(Credit(number, sha, _changed(listed)))
    return tuple(found)


def credits_of(contributions: Iterable[Contribution]) -> tuple[Credit, ...]:
    """The same from git (taxonbot.taxonomy.contributions.contributions_between): PRs only."""
    return tuple(
        Credit(c.number, c.sha, _changed([{"status": x.status, "path": x.path} for x in c.leaves]))
        for c in contributions
        if c.number is not None
    )


def _changed(changes: list[dict[str, Any]]) -> tuple[str, ...]:
    """Leaves a PR left in the tree: a deleted leaf is not trained on."""
    names = (_leaf(c.get("path")) for c in changes if c.get("status") != "deleted")
    return tuple(sorted({n for n in names if n}))


def _leaf(path: object) -> str:
    """`taxonomy/knowledge/x/qna.yaml` and `knowledge/x/qna.yaml` both name `knowledge/x`."""
    return leaf_path(path).leaf if isinstance(path, str) and path else ""


# ---- the plan --------------------------------------------------------------------------------


def marker(version: str) -> str:
    return f"{MARKER_PREFIX}{version} -->"


def choose_link(news: BuildNews, release_url: str | None, run_url: str | None) -> Link | None:
    """The build's release when it is published; else the workflow run that made the build."""
    if release_url is not None and _SAFE_URL.match(release_url):
        return Link(f"Release {news.tag}", release_url)
    if run_url is not None and _SAFE_URL.match(run_url):
        return Link("The workflow run that made the build (its record: manifest, plots)", run_url)
    return None


def check_url(url: str) -> str:
    if not _SAFE_URL.match(url):
        raise AnnounceError(f"`{url}` is not an https address of a web page; pass the run's URL.")
    return url


def plan_announcements(
    news: BuildNews, credits: Sequence[Credit], link: Link | None
) -> list[Announcement]:
    """One per credited PR with a leaf the build trained, oldest first, one per number."""
    planned: dict[int, Announcement] = {}
    for credit in credits:
        leaves = tuple(leaf for leaf in credit.leaves if leaf in news.trained)
        earlier = planned.get(credit.number)
        if earlier is not None:  # one PR, twice in the history (a revert, a re-merge)
            leaves = tuple(sorted({*earlier.leaves, *leaves}))
        if leaves:
            planned[credit.number] = Announcement(
                credit.number, credit.sha, leaves, comment_body(news, leaves, link)
            )
    return list(planned.values())


def comment_body(news: BuildNews, leaves: Sequence[str], link: Link | None) -> str:
    """Short, and inert: leaf names are escaped (taxonbot/comment/render.py), no mention, no PR
    reference, no HTML but our marker."""
    count = "leaf" if len(leaves) == 1 else f"{len(leaves)} leaves"
    lines = [
        marker(news.version),
        f"Community build {code(news.version)} trained on this pull request's {count}:",
        "",
    ]
    lines += [_score_line(news, leaf) for leaf in leaves[:LEAVES_SHOWN]]
    if len(leaves) > LEAVES_SHOWN:
        lines.append(f"- and {len(leaves) - LEAVES_SHOWN} more (see the build's manifest.json)")
    verdict = "publishable" if news.publishable else "not publishable"
    lines += [
        "",
        "Score: how close the model's answers to the leaf's seed questions come to their "
        f"answers, 0 to 1, before ({news.baseline}) and after. By its own evaluation the build "
        f"is {verdict}.",
    ]
    if link is not None:
        lines += ["", f"[{inline(link.label)}]({link.url})"]
    return "\n".join(lines) + "\n"


def _score_line(news: BuildNews, leaf: str) -> str:
    score = news.scores.get(leaf)
    if score is None:
        return f"- {code(leaf)}: trained, not scored (the evaluation did not ask it)"
    delta = score.after - score.before
    return f"- {code(leaf)}: score {score.before:.3f} → {score.after:.3f} ({delta:+.3f})"


def reconcile(comments: Sequence[Comment], login: str, version: str, body: str) -> list[Write]:
    """Writes that leave exactly one comment of ours for this build, saying `body`."""
    ours = sorted(
        (c for c in comments if owned(c, login) and c.body.startswith(marker(version))),
        key=lambda c: c.id,
    )
    if not ours:
        return [Write("create", None, body)]
    keep, *extra = ours
    writes = [Write("edit", keep.id, body)] if keep.body != body else []
    return writes + [Write("delete", c.id) for c in extra]


def owned(comment: Comment, login: str) -> bool:
    return comment.author.casefold() == login.casefold()


# ---- GitHub: one PR at a time, each failure one line -----------------------------------------


def publish(
    plan: Sequence[Announcement],
    news: BuildNews,
    repo: str,
    port: AnnouncePort,
    say: Callable[[str], None],
) -> Outcome:
    outcome = Outcome()
    login = port.viewer_login()
    for item in plan:
        try:
            _publish_one(item, news, repo, port, login, say, outcome)
        except GitHubError as exc:
            say(f"PR {item.number}: {_one_line(str(exc))}; nothing more written there")
            outcome.failed += 1
        except Exception as exc:  # an adapter surprise must not stop the other PRs
            say(f"PR {item.number}: failed ({type(exc).__name__}: {_one_line(str(exc))})")
            outcome.failed += 1
    return outcome


def _publish_one(
    item: Announcement,
    news: BuildNews,
    repo: str,
    port: AnnouncePort,
    login: str,
    say: Callable[[str], None],
    outcome: Outcome,
) -> None:
    pull = port.merged_pull(repo, item.number)
    if not pull.merged or pull.merge_commit != item.sha:
        merged = f"merged as {pull.merge_commit}" if pull.merged else "not merged"
        say(f"PR {item.number}: GitHub says it is {merged}, not as {item.sha}; skipped")
        outcome.skipped += 1
        return
    writes = reconcile(pull.comments, login, news.version, item.body)
    if not writes:
        outcome.unchanged += 1
    for write in writes:
        if write.kind == "create":
            say(f"PR {item.number}: post the comment")
            port.create_comment(repo, item.number, write.body)
        elif write.kind == "edit":
            say(f"PR {item.number}: update comment {write.comment_id}")
            port.edit_comment(repo, write.comment_id or 0, write.body)
        else:
            say(f"PR {item.number}: delete our duplicate comment {write.comment_id}")
            port.delete_comment(repo, write.comment_id or 0)
        outcome.written[write.kind] += 1


def _one_line(message: str) -> str:
    return " ".join(message.split())[:500]
