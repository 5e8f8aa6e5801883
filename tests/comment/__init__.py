"""Shared by the comment tests: the demo PR's real outputs (data/*.json) as one result.json.

data/check.json   `taxonbot check --format json examples/pull_request`
data/diff.json    `taxonbot diff --format json`, the two leaves of examples/pull_request
data/gaps.json    out/demo/gaps/gaps.json (coverage, overlap and novelty on SmolLM2)
data/preview.json out/demo/preview/preview.json (10 pairs, all rejected by the judge)
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import cmarkgfm
from cmarkgfm.cmark import Options

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
