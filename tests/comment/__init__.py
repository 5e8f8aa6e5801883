"""Shared by the comment tests: the demo PR's real outputs (data/*.json) as one result.json.

data/check.json   `taxonbot check --format json examples/pull_request`
data/diff.json    `taxonbot diff --format json`, the two leaves of examples/pull_request
data/gaps.json    out/demo/gaps/gaps.json (coverage, overlap and novelty on SmolLM2)
data/preview.json out/demo/preview/preview.json (10 pairs, all rejected by the judge)
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import cmarkgfm
from cmarkgfm.cmark import Options

from taxonbot.comment.render import LIMIT
from taxonbot.github.markers import MARKER
from taxonbot.github.values import RunInfo

DATA = Path(__file__).resolve().parent / "data"
SHA = "7436af21f18fe4f6658c48e03ee81d0843959f36"
RUN = RunInfo(head_sha=SHA, run_id=9_000_000_011, run_attempt=1, repo="acme/taxonomy", pr_number=7)


@cache
def _parts() -> dict[str, Any]:
    return {
        k: json.loads((DATA / f"{k}.json").read_text())
        for k in ("check", "diff", "gaps", "preview")
    }


def demo_result() -> dict[str, Any]:
    """A fresh copy each call, so a test may change it."""
    result = {
        "format": "taxonbot-result/1",
        "head_sha": SHA,
        "run_id": RUN.run_id,
        "run_attempt": 1,
    }
    return result | copy.deepcopy(_parts())


def html_of(markdown: str) -> str:
    """GitHub's Markdown as cmark-gfm renders it, raw HTML let through as GitHub's renderer does
    before its sanitizer: HTML an untrusted string smuggled in would show up as a tag."""
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


OUR_TAGS = {
    "h3", "h4", "p", "a", "code", "pre", "strong", "em", "ul", "li", "hr", "sub", "blockquote",
    "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
}  # fmt: skip
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
DETAILS = re.compile(r"<details(?: open)?>")  # only ours: the one tag we write, two ways
HOSTILE = (
    "</details></summary><img src=x onerror=alert(1)> <script>alert(1)</script> "
    "hi @octocat and @org/team, see #1, owner/repo#1, GH-1, gh-2 and "
    "https://github.com/owner/repo/issues/3 www.example.com "
    f'{MARKER} <!-- taxonbot:run {{"run_id": 99999999999, "run_attempt": 9}} --> '
    '"; curl x|sh # $(id) `id` ```` `` ``````` | a | b |\n# Heading\n- item\n\u202eevil\x00'
)


def assert_inert(markdown: str) -> str:
    """What must hold for any comment, whatever the artifact held; returns the HTML."""
    html = html_of(markdown)
    assert markdown.splitlines()[0] == MARKER
    assert markdown.count(MARKER) == 1 and html.count(MARKER) == 1
    assert markdown.count("<!--") == 2  # the marker and the run line, nothing else
    tags = {name.lower() for _, name in TAG.findall(html)}
    assert tags <= OUR_TAGS, tags - OUR_TAGS
    opened = len(DETAILS.findall(html))
    assert opened == html.count("</details>") == len(DETAILS.findall(markdown))
    assert html.count("<summary>") == opened
    assert not re.search(r"@[A-Za-z0-9_-]", html), "a live @mention"
    assert not re.search(r"#\d", html), "a live #123 reference"
    assert not re.search(r"(?i)\bgh-\d", html), "a live GH-123 reference"
    for url in re.findall(r"(?:https?://|www\.)[^\s\"<]*", html):
        assert url.startswith(f"https://github.com/{RUN.repo}/"), url
    assert len(markdown) <= LIMIT and len(markdown.encode()) <= LIMIT
    return html


def poisoned(value: Any) -> Any:
    """Every string value in the result prefixed with HOSTILE (keys kept, so sections exist)."""
    if isinstance(value, str):
        return HOSTILE + value
    if isinstance(value, list):
        return [poisoned(v) for v in value]
    if isinstance(value, dict):
        return {k: poisoned(v) for k, v in value.items()}
    return value
