"""The PR check and the document fetch give one verdict on every repo, commit and pattern.

Both call taxonbot/documents/rules.py, so a value the check passes is one the fetch accepts
and a value the fetch would refuse fails the check first (before, `./docs/a.md`, `docs//a.md`
or a trailing-slash repo passed the check and then failed the preview and the build).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from taxonbot.check.rules.context import CheckOptions
from taxonbot.check.run import check_file
from taxonbot.documents.rules import DocumentError, DocumentRef, validate_ref

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "tests/data/check/valid/knowledge_jupiter/knowledge/astronomy/planets/jupiter"
GOOD_REPO = "https://github.com/jdoe/jupiter-docs"
GOOD_COMMIT = "a" * 40

REPOS = [
    GOOD_REPO, "https://github.com/jdoe/jupiter-docs.git", "https://github.com/o-w-n/re_po.v2",
    "https://github.com/org/.github", "https://github.com/a/-b", "https://github.com/a/.b",
    "https://github.com/-a/b", "git@github.com:jdoe/jupiter-docs.git", "ssh://git@github.com/a/b",
    "file:///etc", "http://github.com/a/b", "--upload-pack=x", "https://github.com/a/b/",
    "https://github.com/a/b\t", "https://github.com/a/b ", "https://github.com:443/a/b",
    "https://user@github.com/a/b", "https://192.168.0.1/a/b", "https://github.com.evil.example/a/b",
    "https://github.com/a/b?x=1", "https://github.com/a/b#f", "https://github.com/a",
    "https://github.com/a/..", "https://github.com/a/%2e%2e", "https://g\u00edthub.com/a/b", "",
]  # fmt: skip
COMMITS = [GOOD_COMMIT, "main", "a" * 7, "A" * 40, "a" * 41, "--upload-pack=x", ""]
PATTERNS = [
    "jupiter.md", "docs/*.md", "docs/**/*.md", "./docs/a.md", "docs//a.md", "docs/\u00e9.md",
    "../x.md", "/etc/x.md", "/**", "~/a.md", "-a.md", "a\\b.md", "x.txt", "docs/*", "",
    "a" * 300 + ".md", "docs/a\n.md", "**/docs/**/*.md", "**/**/**/*.md",
    "/".join(["**"] * 84) + "/*.md", "docs/a**/**/b**/**/*.md",
]  # fmt: skip


def check_verdict(tmp_path: Path, repo: str, commit: str, pattern: str) -> set[str]:
    """The document rules the PR check reports for a jupiter leaf holding these values."""
    folder = tmp_path / "knowledge/astronomy/planets/jupiter"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "attribution.txt").write_bytes((KNOWLEDGE / "attribution.txt").read_bytes())
    text = (KNOWLEDGE / "qna.yaml").read_text("utf-8")
    text = text.replace(GOOD_REPO, json.dumps(repo), 1)
    old_commit = text.split("\n  commit: ", 1)[1].split("\n", 1)[0]
    text = text.replace(old_commit, json.dumps(commit), 1)
    text = text.replace("    - jupiter.md\n", f"    - {json.dumps(pattern)}\n")
    (folder / "qna.yaml").write_text(text, "utf-8")
    found = check_file(str(folder / "qna.yaml"), CheckOptions())
    return {f.rule for f in found if f.rule.startswith("document.")}


def fetch_accepts(repo: str, commit: str, pattern: str) -> bool:
    try:
        validate_ref(DocumentRef(repo=repo, commit=commit, patterns=(pattern,)))
    except DocumentError:
        return False
    return True


@pytest.mark.parametrize(
    ("repo", "commit", "pattern"),
    [(r, GOOD_COMMIT, "jupiter.md") for r in REPOS]
    + [(GOOD_REPO, c, "jupiter.md") for c in COMMITS]
    + [(GOOD_REPO, GOOD_COMMIT, p) for p in PATTERNS],
)
def test_the_check_passes_exactly_what_the_fetch_accepts(
    tmp_path: Path, repo: str, commit: str, pattern: str
) -> None:
    found = check_verdict(tmp_path, repo, commit, pattern)
    assert (not found) == fetch_accepts(repo, commit, pattern), found


def test_the_agreement_is_not_vacuous(tmp_path: Path) -> None:
    """Both verdicts occur: the good leaf passes, and values each side once missed now fail."""
    assert check_verdict(tmp_path, GOOD_REPO, GOOD_COMMIT, "jupiter.md") == set()
    assert check_verdict(tmp_path, "https://github.com/a/b/", GOOD_COMMIT, "x.md") == {
        "document.repo"
    }  # the check once passed it (urlsplit), the fetch refused
    assert check_verdict(tmp_path, GOOD_REPO, GOOD_COMMIT, "~/a.md") == {"document.pattern"}
    assert not fetch_accepts(GOOD_REPO, GOOD_COMMIT, "~/a.md")  # the fetch once accepted it
    assert check_verdict(tmp_path, GOOD_REPO, "main", "x.md") == {"document.commit"}
