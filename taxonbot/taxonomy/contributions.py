"""Who contributed what: the changes merged to main between two refs, with their leaves.

One `Contribution` per commit on main's first-parent line: a GitHub merge commit ("Merge pull
request #N from owner/branch"), a squash merge ("Title (#N)"), or a commit pushed directly (and
each commit of a rebase merge, which GitHub leaves without a PR number). Release notes and the
build's model card both credit contributions through `contributions_between`.

Cost: three git processes through GitPython, whatever the number of commits (plus one per
leaf whose attribution.txt alone changed):
1. `git rev-parse` resolves both refs and where repo_dir sits in the repository;
2. `git log` lists every commit in the range with its parents, author and message, so a merge
   is credited to the authors of the commits it brought in, not to whoever pressed the button;
3. `git log --first-parent --diff-merges=first-parent --raw` gives each main-line commit's
   changes to qna.yaml and attribution.txt files, compared with the previous commit on main.

Authors are names (`.mailmap` applied) and, where the history tells it, GitHub logins: from a
GitHub no-reply address, or from the fork named in a merge message when there is one author.
E-mail addresses never leave this module.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from taxonbot.errors import CannotRun
from taxonbot.taxonomy.diff import (
    DIFF_OPTIONS,
    STATUSES,
    Comparison,
    DiffError,
    FileChange,
    LeafChange,
    leaves_of,
    run_git,
)
from taxonbot.taxonomy.leaf import ATTRIBUTION_NAME, QNA_NAME

GIT_TIMEOUT_S = 300
# Relative to repo_dir: only leaves below it count (this repository keeps its tree in taxonomy/).
PATHSPECS = (f":(glob)**/{QNA_NAME}", f":(glob)**/{ATTRIBUTION_NAME}")
META_FORMAT = "%H%x00%P%x00%aN%x00%aE%x00%cI%x00%B"  # -z ends each commit with a NUL
# A user's log.showSignature would print gpg's verdict into the output we parse.
LOG_OPTIONS = ("--no-show-signature", "--no-color")
META_FIELDS = 6
DIFF_HEADER = "commit "
_MERGE = re.compile(r"^Merge pull request #(\d+) from ([A-Za-z0-9][A-Za-z0-9-]*)/(\S+)")
_SQUASH = re.compile(r"^(.*?)\s*\(#(\d+)\)\s*$")
_NOREPLY = re.compile(
    r"^(?:\d+\+)?([A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?)@users\.noreply\.github\.com$",
    re.IGNORECASE,
)
_COAUTHOR = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>]*)>\s*$", re.IGNORECASE | re.MULTILINE)


class ContributionError(CannotRun):
    """git could not answer; the message names the ref and what to do."""


@dataclass(frozen=True)
class Person:
    name: str
    login: str | None = None  # GitHub login, only when the history names it


@dataclass(frozen=True)
class Contribution:
    number: int | None  # the pull request; None for a direct push or a rebase-merged commit
    title: str
    sha: str  # the commit on main: the merge, the squash or the pushed commit
    merged_at: str  # its committer date, ISO 8601
    kind: str  # "merge" | "squash" | "direct"
    authors: tuple[Person, ...]
    leaves: tuple[LeafChange, ...]  # paths relative to repo_dir, sorted

    @property
    def changes_taxonomy(self) -> bool:
        return bool(self.leaves)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "sha": self.sha,
            "merged_at": self.merged_at,
            "kind": self.kind,
            "authors": [{"name": p.name, "login": p.login} for p in self.authors],
            "leaves": [
                {"status": c.status, "path": c.path, "old_path": c.old_path, "blob": c.blob}
                for c in self.leaves
            ],
        }


class Commit(NamedTuple):
    sha: str
    parents: tuple[str, ...]
    author: Person
    date: str
    message: str


# ---- pure core: parse git's output, group commits into contributions ------------------------


def parse_log(raw: bytes) -> dict[str, Commit]:
    """`git log -z --format=META_FORMAT`, newest first, keyed by sha (insertion order kept)."""
    fields = raw.decode("utf-8", "replace").split("\0")
    commits: dict[str, Commit] = {}
    for start in range(0, len(fields) - META_FIELDS + 1, META_FIELDS):
        sha, parents, name, email, date, message = fields[start : start + META_FIELDS]
        sha = sha.lstrip("\n")
        commits[sha] = Commit(sha, tuple(parents.split()), person(name, email), date, message)
    return commits


def parse_diffs(raw: bytes) -> dict[str, list[FileChange]]:
    """`git log --raw -z --format='commit %H'`: each commit's file changes, by sha."""
    tokens = raw.decode("utf-8", "surrogateescape").split("\0")
    found: dict[str, list[FileChange]] = {}
    current: list[FileChange] = []
    index = 0
    while index < len(tokens):
        token = tokens[index].lstrip("\n")
        if token.startswith(":"):
            meta = token.split(" ")
            letter, blob = meta[4][:1], meta[3]
            status = STATUSES.get(letter, "changed")
            paired = letter in ("R", "C")
            old, path = (
                (tokens[index + 1], tokens[index + 2]) if paired else (None, tokens[index + 1])
            )
            index += 3 if paired else 2
            known = status != "deleted" and blob.strip("0") != ""
            renamed = old if status == "renamed" else None
            current.append(FileChange(status, path, renamed, blob if known else None))
            continue
        if token.startswith(DIFF_HEADER):
            current = found.setdefault(token[len(DIFF_HEADER) :].strip(), [])
        index += 1
    return found


def person(name: str, email: str) -> Person:
    """The login comes from a GitHub no-reply address; the address itself is dropped."""
    match = _NOREPLY.match(email.strip())
    return Person(" ".join(name.split()) or "unknown", match[1] if match else None)


def first_parents(commits: dict[str, Commit], head: str) -> list[str]:
    """Main's own line through the range, newest first: what `--first-parent` walks."""
    line: list[str] = []
    while head in commits:
        line.append(head)
        parents = commits[head].parents
        head = parents[0] if parents else ""
    return line


def contributions(
    commits: dict[str, Commit],
    main_line: Sequence[str],
    leaves_of_commit: Callable[[str], tuple[LeafChange, ...]],
    upstream_owner: str | None = None,
) -> list[Contribution]:
    """Oldest first. `main_line` is the first-parent chain, newest first, as git lists it."""
    seen: set[str] = set()  # every in-range commit reachable from the main line so far
    found: list[Contribution] = []
    age = {sha: -index for index, sha in enumerate(commits)}  # git lists newest first
    for sha in reversed(main_line):
        commit = commits[sha]
        brought = _brought_in(commit, commits, seen) if len(commit.parents) > 1 else [commit]
        brought.sort(key=lambda c: age[c.sha])
        seen.update(c.sha for c in brought)
        seen.add(sha)
        found.append(_contribution(commit, brought, leaves_of_commit(sha), upstream_owner))
    return found


def _brought_in(merge: Commit, commits: dict[str, Commit], seen: set[str]) -> list[Commit]:
    """Commits a merge added to main: reachable from its other parents, new to the main line."""
    stack, found = list(merge.parents[1:]), {}
    while stack:
        sha = stack.pop()
        if sha in seen or sha in found or sha not in commits:
            continue
        found[sha] = commits[sha]
        stack.extend(commits[sha].parents)
    return list(found.values())


def _contribution(
    commit: Commit, brought: list[Commit], leaves: tuple[LeafChange, ...], owner: str | None
) -> Contribution:
    subject, _, body = commit.message.strip().partition("\n")
    merge, squash = _MERGE.match(subject), _SQUASH.match(subject)
    authors = _authors(brought or [commit])
    if merge:
        number, title = int(merge[1]), body.strip().partition("\n")[0].strip() or merge[3]
        if owner and merge[2].casefold() != owner.casefold() and len(authors) == 1:
            # A fork's owner opened the PR; with one author, that author is the same person.
            authors = (Person(authors[0].name, authors[0].login or merge[2]),)
        kind = "merge"
    elif squash and len(commit.parents) == 1:
        number, title, kind = int(squash[2]), squash[1], "squash"
    else:
        number, title = None, subject.strip()
        kind = "merge" if len(commit.parents) > 1 else "direct"
    return Contribution(number, title, commit.sha, commit.date, kind, authors, leaves)


def _authors(commits: Iterable[Commit]) -> tuple[Person, ...]:
    """Distinct people in order of appearance, co-authors (trailers) included."""
    people: dict[str, Person] = {}
    for commit in commits:
        found = [commit.author] + [person(n, e) for n, e in _COAUTHOR.findall(commit.message)]
        for who in found:
            key = who.name.casefold()
            known = people.get(key)
            if known is None or (known.login is None and who.login is not None):
                people[key] = who
    return tuple(people.values())


# ---- adapter: git through GitPython ----------------------------------------------------------


def contributions_between(
    repo_dir: str,
    base_ref: str | None,
    head_ref: str,
    *,
    everything: bool = False,
    upstream_owner: str | None = None,
) -> list[Contribution]:
    """Contributions merged after `base_ref` up to `head_ref` (None: from the first commit).

    Only those that added, changed, renamed or removed a leaf below `repo_dir`, unless
    `everything`: then the others come too, with no leaves. `upstream_owner` (the repository's
    owner) lets a fork named in a merge message give its single author a login.
    """
    git = open_git(repo_dir)
    top, prefix, head, base = _resolve(git, repo_dir, base_ref, head_ref)
    span = [head] if base is None else [head, f"^{base}"]
    meta = _run(git, "log", *LOG_OPTIONS, "-z", f"--format={META_FORMAT}", *span, "--")
    commits = parse_log(meta)
    main_line = first_parents(commits, head)
    first_parent = ("--first-parent", "--diff-merges=first-parent", "--root")
    diff_format = f"--format={DIFF_HEADER}%H"
    raw = _run(
        git, "log", *LOG_OPTIONS, *first_parent, diff_format, *DIFF_OPTIONS, *span, "--", *PATHSPECS
    )
    diffs = parse_diffs(raw)

    def leaves_of_commit(sha: str) -> tuple[LeafChange, ...]:
        files = tuple(diffs.get(sha, ()))
        comparison = Comparison(base or "", sha, sha, top, prefix, files)
        return leaves_of(comparison, _tree_blobs(git, sha)).changes

    found = contributions(commits, main_line, leaves_of_commit, upstream_owner)
    return found if everything else [c for c in found if c.changes_taxonomy]


def _tree_blobs(git: Any, sha: str) -> Callable[[str], str | None]:
    """The blob of a file at `sha`: only asked for a leaf whose attribution.txt alone changed."""

    def blob_of(path: str) -> str | None:
        out = _run(git, "ls-tree", "-z", "--full-tree", sha, "--", path)
        meta = out.decode("utf-8", "surrogateescape").split("\t", 1)[0].split()
        return meta[2] if len(meta) == 3 and meta[1] == "blob" else None

    return blob_of


def _resolve(
    git: Any, repo_dir: str, base_ref: str | None, head_ref: str
) -> tuple[str, str, str, str | None]:
    refs = [head_ref] if base_ref is None else [head_ref, base_ref]
    for ref in refs:
        if not ref or ref.startswith("-") or ".." in ref:
            raise ContributionError(f"`{ref}` is not a git ref; pass one tag, branch or commit.")
    status, out, err = execute(
        git, "rev-parse", "--show-toplevel", "--show-prefix", *(f"{r}^{{commit}}" for r in refs)
    )
    if status != 0:
        raise _diagnose(git, repo_dir, refs, err)
    top, prefix, head, *base = out.decode("utf-8", "surrogateescape").rstrip("\n").split("\n")
    return top, prefix, head, (base[0] if base else None)


def _diagnose(git: Any, repo_dir: str, refs: list[str], stderr: str) -> ContributionError:
    if "not a git repository" in stderr:
        return ContributionError(
            f"{os.path.abspath(repo_dir)} is not inside a git repository; run taxonbot in a "
            "clone of the taxonomy."
        )
    for ref in refs:
        if execute(git, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")[0] != 0:
            return ContributionError(
                f"git does not know `{ref}` here; fetch the history and tags first "
                "(`git fetch --tags origin`, or actions/checkout with fetch-depth: 0) or pass "
                "a tag, branch or commit that exists here."
            )
    return ContributionError(f"git could not resolve {', '.join(refs)} ({_last_line(stderr)}).")


def open_git(repo_dir: str) -> Any:
    if not os.path.isdir(repo_dir):
        raise ContributionError(f"no such folder: {repo_dir}; pass a clone of the taxonomy.")
    try:
        import git  # lazy: GitPython runs `git version` on import
    except ImportError as exc:
        raise ContributionError(f"cannot run git ({exc}); install git, put it on PATH.") from exc
    return git.Git(repo_dir)


def _run(git: Any, command: str, *args: str) -> bytes:
    status, out, err = execute(git, command, *args)
    if status != 0:
        raise ContributionError(f"git {command} failed ({_last_line(err)}); see `git status`.")
    return out


def execute(git: Any, command: str, *args: str) -> tuple[int, bytes, str]:
    """taxonbot.taxonomy.diff's git runner, with this module's longer timeout and error type."""
    try:
        return run_git(git, command, *args, timeout_s=GIT_TIMEOUT_S)
    except DiffError as exc:
        raise ContributionError(str(exc)) from exc


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no detail"
