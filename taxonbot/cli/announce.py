"""`taxonbot announce`: a finished build tells each merged pull request it trained on.

    taxonbot announce --build DIR [--repo OWNER/NAME] [--run-url URL] [--taxonomy DIR] [--post]

Reads DIR/manifest.json (`taxonbot build`'s record, or the build-record artifact retrain.yml
uploads) and plans one comment per merged pull request with a leaf the build trained: the
build's version, each leaf's score before → after from the branch evaluation, and a link to the
build's GitHub release (`build-VERSION`, once it is published) or else to --run-url, the
workflow run that made the build. The pull requests are the contributions the manifest records
(contributions since the previous build's commit); with --taxonomy DIR they are listed again
from that git clone instead (it needs the full history).

Dry run by default: prints each comment, and with GITHUB_TOKEN set, what GitHub would get.
--post writes: one comment per pull request per build, found again by our login and a hidden
marker, edited in place when it changed, never posted twice; a re-run writes nothing. Token
from GITHUB_TOKEN, API from GITHUB_API_URL, repository from --repo or GITHUB_REPOSITORY.

Exit 0 planned or posted, 1 a pull request or GitHub failed (one line each; the others are
still done), 2 usage (a missing build record, nothing to link to).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from taxonbot.cli.githubenv import write_target
from taxonbot.errors import UsageError
from taxonbot.exits import Exit
from taxonbot.github.port import GitHubError
from taxonbot.jsonfile import UnreadableJson, read_capped_json
from taxonbot.release.announce import (
    AnnounceError,
    Announcement,
    BuildNews,
    Credit,
    Link,
    check_url,
    choose_link,
    credits_of,
    plan_announcements,
    publish,
    read_news,
)
from taxonbot.release.announce_github import AnnouncePort, DryRunAnnounce, PyGithubAnnounce
from taxonbot.release.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    ReleaseError,
    ReleaseUsageError,
    read_manifest,
)
from taxonbot.taxonomy.contributions import ContributionError, contributions_between

EXITS = {
    Exit.OK: "planned or posted",
    Exit.NO: "a pull request or GitHub failed (one line each; the others are still done)",
    Exit.CANNOT: "usage: a missing build record, nothing to link to",
}
PROG = "taxonbot announce"


@dataclass(frozen=True)
class AnnounceOptions:
    build: str
    repo: str | None  # None: $GITHUB_REPOSITORY
    run_url: str | None
    taxonomy: str | None  # None: the manifest's record of the pull requests
    post: bool


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build", required=True, metavar="DIR", help="a build or its record")
    parser.add_argument("--repo", metavar="OWNER/NAME", help="default: $GITHUB_REPOSITORY")
    parser.add_argument(
        "--run-url",
        metavar="URL",
        help="the workflow run that made the build (the link "
        "until the build's release is published)",
    )
    parser.add_argument(
        "--taxonomy",
        metavar="DIR",
        help="list the pull requests from this git clone instead "
        "of the manifest's record (needs the full history)",
    )
    parser.add_argument("--post", action="store_true", help="comment; without it, show")


def options(args: argparse.Namespace) -> AnnounceOptions:
    return AnnounceOptions(args.build, args.repo, args.run_url, args.taxonomy, args.post)


def run(args: argparse.Namespace) -> Exit:
    return announce(options(args), os.environ)


def announce(request: AnnounceOptions, env: Mapping[str, str]) -> Exit:
    try:
        repo, token = write_target(request.repo, request.post, env, "nothing was posted")
    except UsageError as exc:
        return _fail(exc.exit, str(exc))
    try:
        run_url = check_url(request.run_url) if request.run_url else None
    except AnnounceError as exc:
        return _fail(Exit.CANNOT, str(exc))
    try:
        news = load(request.build)
        credits = pull_requests(request, news, repo)
        if not (repo and token):
            return offline(news, credits, run_url)
        api = env.get("GITHUB_API_URL", "https://api.github.com")
        with PyGithubAnnounce(token, api) as github:
            port: AnnouncePort = github if request.post else DryRunAnnounce(github)
            code = online(request.post, news, credits, run_url, repo, port)
            print(f"{PROG}: {github.api_calls}")
            return code
    except (ReleaseUsageError, ContributionError) as exc:
        return _fail(Exit.CANNOT, str(exc))
    except (AnnounceError, ReleaseError, GitHubError) as exc:
        return _fail(Exit.NO, " ".join(str(exc).split()))


def load(build_dir: str) -> BuildNews:
    manifest = read_manifest(build_dir)  # checks version, commit and verdict
    changed = AnnounceError(f"{build_dir}/{MANIFEST_NAME} changed while it was read; run again.")
    try:
        raw = read_capped_json(os.path.join(build_dir, MANIFEST_NAME), MAX_MANIFEST_BYTES)
    except UnreadableJson as exc:
        raise changed from exc
    if not isinstance(raw, dict):
        raise changed
    return read_news(manifest, raw)


def pull_requests(request: AnnounceOptions, news: BuildNews, repo: str | None) -> list[Credit]:
    if request.taxonomy is None:
        if news.credits is None:
            raise ReleaseUsageError(
                f"{request.build}/{MANIFEST_NAME} records no contributions; pass --taxonomy with a "
                "clone of the repository (full history) to list them from git."
            )
        return list(news.credits)
    found = contributions_between(
        request.taxonomy,
        news.previous_commit,
        news.taxonomy_commit,
        upstream_owner=repo.split("/")[0] if repo else None,
    )
    return list(credits_of(found))


def offline(news: BuildNews, credits: list[Credit], run_url: str | None) -> Exit:
    """No token: the comments as they would be, not compared with what the PRs have."""
    link = choose_link(news, None, run_url)
    plan = plan_announcements(news, credits, link)
    show(news, credits, plan, link, "dry run, offline: set GITHUB_TOKEN and --repo to compare")
    for item in plan:
        print(f"\n--- PR {item.number} ---\n{item.body}", end="")
    return Exit.OK


def online(
    post: bool,
    news: BuildNews,
    credits: list[Credit],
    run_url: str | None,
    repo: str,
    port: AnnouncePort,
) -> Exit:
    link = choose_link(news, port.release_url(repo, news.tag), run_url)
    plan = plan_announcements(news, credits, link)
    mode = "posting" if post else "dry run; --post to comment"
    show(news, credits, plan, link, mode)
    if link is None and plan:
        return _fail(
            Exit.CANNOT,
            f"release {news.tag} is not published and no --run-url was given: there is nothing "
            "to link the comments to; pass --run-url (the workflow run that made the build). "
            "Nothing was posted.",
        )
    lines: list[str] = []
    outcome = publish(plan, news, repo, port, lines.append)
    if lines and not post:
        print(f"  GitHub {repo} would get:")
    for line in lines:
        print(f"  {line}" if post else f"    {line}")
    print(f"{PROG}: {repo}: {outcome}")
    return Exit.NO if outcome.failed else Exit.OK


def show(
    news: BuildNews, credits: list[Credit], plan: list[Announcement], link: Link | None, mode: str
) -> None:
    print(f"{PROG}: community build {news.version} ({mode})")
    print(f"  pull requests credited: {len(credits)}; with a leaf this build trained: {len(plan)}")
    print(f"  link: {f'{link.label}: {link.url}' if link else 'none'}")
    for item in plan:
        print(f"  PR {item.number} (merged as {item.sha[:12]}): {', '.join(item.leaves)}")


def _fail(code: Exit, message: str) -> Exit:
    print(f"{PROG}: {message}", file=sys.stderr)
    return code
