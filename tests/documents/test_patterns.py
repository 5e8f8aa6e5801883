"""document.patterns select paths like glob.glob(recursive=True) in a checkout would."""

from __future__ import annotations

import time

import pytest

from taxonbot.documents.patterns import matches


@pytest.mark.parametrize(
    ("pattern", "path", "selected"),
    [
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/sub/a.md", False),  # * never crosses "/"
        ("docs/*.md", "docs/a.mdx", False),
        ("*.md", "README.md", True),
        ("*.md", "docs/a.md", False),  # a bare *.md is the root only, as with glob
        ("docs/**/*.md", "docs/a.md", True),  # ** may match zero segments
        ("docs/**/*.md", "docs/x/y/z.md", True),
        ("**/*.md", "docs/x/y/z.md", True),
        ("**/*.md", "README.md", True),
        ("docs/a?.md", "docs/ab.md", True),
        ("docs/a?.md", "docs/a/.md", False),
        ("docs/[ab].md", "docs/b.md", True),
        ("docs/[!ab].md", "docs/b.md", False),
        ("Docs/*.md", "docs/a.md", False),  # case-sensitive, like git paths
        ("docs/*.md", "docs/.hidden.md", False),  # wildcards skip dot names, as glob does
        ("docs/**/*.md", "docs/.git/x.md", False),
        ("docs/.hidden.md", "docs/.hidden.md", True),
        (".github/*.md", ".github/a.md", True),
        ("docs/a**.md", "docs/a/b.md", False),  # ** inside a segment is just *
        ("docs/a.md", "docs/a.md", True),
    ],
)
def test_pattern_semantics(pattern: str, path: str, selected: bool) -> None:
    assert matches(pattern, path) is selected


def test_a_path_thousands_of_segments_deep_is_matched_without_recursion() -> None:
    deep = "/".join(["d"] * 5000) + "/x.md"
    assert matches("**/**/**/*.md", deep)
    assert not matches("**/**/**/*.txt", deep)


def test_matching_is_linear_in_depth_whatever_the_pattern() -> None:
    """Before issue 20, 84 '**' against a 1,000-deep path took minutes (a set of positions
    expanded per '**'); rules.py now refuses more than two, and the matcher is one sweep a
    segment anyway."""
    deep = "/".join(["d"] * 1000) + "/x.md"
    started = time.monotonic()
    assert matches("/".join(["**"] * 84) + "/*.md", deep)
    assert not matches("/".join(["**"] * 84) + "/*.txt", deep)
    assert time.monotonic() - started < 1
