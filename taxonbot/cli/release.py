"""`taxonbot release cut`: a finished build becomes a tagged GitHub release crediting its
contributors.

    taxonbot release cut --build DIR [--repo OWNER/NAME] [--since TAG] [--tag NAME]
                         [--taxonomy DIR] [--force] [--post]

Reads DIR/manifest.json (`taxonbot build`'s record), finds the previous build tag (the nearest
annotated `build-*` tag behind the build's taxonomy commit, unless --since), collects the
contributions merged since, and writes DIR/RELEASE_NOTES.md. A build its own evaluation marks
not publishable is refused unless --force (the notes then say so).

Dry run by default: prints the plan (tag and commit, title, assets and sizes, and what GitHub
would get; with GITHUB_TOKEN set, compared with the release already there). --post creates the
annotated tag here and on GitHub, a draft release, uploads the assets and publishes it; a re-run
after a failure completes what is missing. Token from GITHUB_TOKEN, API from GITHUB_API_URL,
repository from --repo or GITHUB_REPOSITORY.

Exit 0 planned or released, 1 refused or failed (the message says what to do), 2 usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from taxonbot.cli.githubenv import write_target
from taxonbot.errors import UsageError
from taxonbot.exits import Exit
from taxonbot.github.port import GitHubError
from taxonbot.release.cut import publish
from taxonbot.release.github import PyGithubReleases
from taxonbot.release.manifest import (
    ReleaseError,
    ReleaseUsageError,
    build_assets,
    read_manifest,
)
from taxonbot.release.memory import InMemoryReleases
from taxonbot.release.notes import (
    NOTES_NAME,
    ReleasePlan,
    check_publishable,
    plan_release,
    tag_message,
)
from taxonbot.release.port import DryRunReleases, ReleasesPort
from taxonbot.release.tags import (
    check_build_commit,
    check_tag_name,
    ensure_local_tag,
    previous_build_tag,
)
from taxonbot.taxonomy.contributions import Contribution, ContributionError, contributions_between

EXITS = {
    Exit.OK: "planned or released",
    Exit.NO: "refused or failed (the message says what to do)",
    Exit.CANNOT: "usage: a missing --repo or token, no such build folder, git trouble",
}
PROG = "taxonbot release cut"
NO_REPO = "OWNER/NAME"  # shown in an offline plan


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    cut = actions.add_parser(
        "cut",
        help="release a finished build (dry run unless --post)",
        description="Release notes crediting the contributions since the last build tag, "
        "the tag, and the GitHub release with the build's assets. Dry run unless --post.",
    )
    cut.add_argument("--build", required=True, metavar="DIR", help="the folder of one build")
    cut.add_argument("--repo", metavar="OWNER/NAME", help="default: $GITHUB_REPOSITORY")
    cut.add_argument("--since", metavar="TAG", help="credit contributions after TAG")
    cut.add_argument("--tag", metavar="NAME", help="default: build-<the manifest's version>")
    cut.add_argument(
        "--taxonomy",
        default="taxonomy",
        metavar="DIR",
        help="the tree's folder in this git clone (`.` in a taxonomy repository)",
    )
    cut.add_argument("--force", action="store_true", help="release a build marked not publishable")
    cut.add_argument("--post", action="store_true", help="tag and release; without it, show")


@dataclass(frozen=True)
class CutOptions:
    build: str
    repo: str | None  # None: $GITHUB_REPOSITORY
    since: str | None
    tag: str | None
    taxonomy: str
    force: bool
    post: bool


def options(args: argparse.Namespace) -> CutOptions:
    return CutOptions(
        args.build, args.repo, args.since, args.tag, args.taxonomy, args.force, args.post
    )


def run(args: argparse.Namespace) -> Exit:
    return cut(options(args), os.environ)


def cut(request: CutOptions, env: Mapping[str, str]) -> Exit:
    try:
        nothing = "nothing was tagged or released"
        repo, token = write_target(request.repo, request.post, env, nothing)
    except UsageError as exc:
        return _fail(exc.exit, str(exc))
    try:
        plan = prepare(request, repo)
        if request.post:
            return post(request, plan, repo or "", token, env)
        return dry_run(request, plan, repo, token, env)
    except ReleaseUsageError as exc:
        return _fail(Exit.CANNOT, str(exc))
    except ContributionError as exc:
        return _fail(Exit.CANNOT, str(exc))
    except (ReleaseError, GitHubError) as exc:
        return _fail(Exit.NO, str(exc))


def prepare(request: CutOptions, repo: str | None) -> ReleasePlan:
    """Everything local: the build, the history since the previous tag, the notes file."""
    manifest = read_manifest(request.build)
    check_publishable(manifest, force=request.force)
    assets = build_assets(request.build)
    tag = request.tag or manifest.default_tag
    check_tag_name(tag)
    check_build_commit(request.taxonomy, manifest.taxonomy_commit)
    previous = request.since or previous_build_tag(request.taxonomy, manifest.taxonomy_commit, tag)
    contributions = contributions_between(
        request.taxonomy,
        previous,
        manifest.taxonomy_commit,
        everything=True,
        upstream_owner=repo.split("/")[0] if repo else None,
    )
    plan = plan_release(manifest, contributions, assets, previous, tag, force=request.force)
    with open(os.path.join(request.build, NOTES_NAME), "w", encoding="utf-8") as handle:
        handle.write(plan.notes)
    show(request, plan, contributions_count(contributions))
    return plan


def contributions_count(contributions: Sequence[Contribution]) -> str:
    credited = [c for c in contributions if c.changes_taxonomy]
    pulls = sum(c.number is not None for c in credited)
    other = len(contributions) - len(credited)
    return (
        f"{len(credited)} changing the taxonomy ({pulls} pull requests, "
        f"{len(credited) - pulls} direct commits); {other} other"
    )


def show(request: CutOptions, plan: ReleasePlan, counted: str) -> None:
    mode = "posting" if request.post else "dry run; --post to tag and release"
    print(f"{PROG}: {plan.title} ({mode})")
    print(f"  tag:           {plan.tag} at {plan.commit} (annotated)")
    print(f"  since:         {plan.previous_tag or 'the first commit (no earlier build tag)'}")
    print(f"  contributions: {counted}")
    if plan.forced:
        print("  forced:        not publishable by its evaluation; released with --force")
    print(f"  notes:         {os.path.join(request.build, NOTES_NAME)}")
    width = max(len(a.name) for a in plan.assets)
    for index, asset in enumerate(plan.assets):
        label = "assets:" if index == 0 else ""
        print(f"  {label:<14} {asset.name:<{width}}  {asset.size:>14,} bytes")


def post(
    request: CutOptions, plan: ReleasePlan, repo: str, token: str, env: Mapping[str, str]
) -> Exit:
    if ensure_local_tag(request.taxonomy, plan.tag, plan.commit, tag_message(plan)):
        print(f"  created local tag {plan.tag}")
    api = env.get("GITHUB_API_URL", "https://api.github.com")
    with PyGithubReleases(token, api) as github:
        publish(plan, repo, github, lambda line: print(f"  {line}", flush=True))
        print(f"{PROG}: {repo} has release {plan.tag} ({github.api_calls})")
    return Exit.OK


def dry_run(
    request: CutOptions,
    plan: ReleasePlan,
    repo: str | None,
    token: str,
    env: Mapping[str, str],
) -> Exit:
    if ensure_local_tag(request.taxonomy, plan.tag, plan.commit, "", dry_run=True):
        print(f"  would create local tag {plan.tag}")
    if repo and token:
        api = env.get("GITHUB_API_URL", "https://api.github.com")
        with PyGithubReleases(token, api) as github:
            return _plan_against(plan, repo, DryRunReleases(github), f"GitHub {repo}")
    where = "a repository with no release yet (set GITHUB_TOKEN and --repo to compare)"
    return _plan_against(plan, repo or NO_REPO, DryRunReleases(InMemoryReleases()), where)


def _plan_against(plan: ReleasePlan, repo: str, port: ReleasesPort, where: str) -> Exit:
    lines: list[str] = []
    publish(plan, repo, port, lines.append)
    print(f"  {where} would get:" if lines else f"  {where}: already released, nothing to do")
    for line in lines:
        print(f"    {line}")
    return Exit.OK


def _fail(code: Exit, message: str) -> Exit:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code
