"""A contributor's `document:` block is checked before git ever sees it."""

from __future__ import annotations

import pytest

from taxonbot.documents.rules import (
    DocumentError,
    DocumentRef,
    FetchLimits,
    ref_from_qna,
    validate_ref,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def ref(
    repo: str = "https://github.com/owner/docs", commit: str = COMMIT, *patterns: str
) -> DocumentRef:
    return DocumentRef(repo=repo, commit=commit, patterns=patterns or ("docs/*.md",))


@pytest.mark.parametrize(
    "repo",
    [
        "https://github.com/owner/docs",
        "https://github.com/owner/docs.git",
        "https://github.com/instructlab/taxonomy-knowledge-docs",
        "https://github.com/o-w-n/re_po.v2",
    ],
)
def test_a_plain_github_repository_is_accepted(repo: str) -> None:
    validate_ref(ref(repo))


@pytest.mark.parametrize(
    ("repo", "says"),
    [
        ("file:///etc", "must use https://"),
        ("--upload-pack=x", "read as an option"),
        ("-https://github.com/a/b", "read as an option"),
        ("http://github.com/a/b", "must use https://"),
        ("ssh://git@github.com/a/b", "must use https://"),
        ("git@github.com:a/b", "must use https://"),
        ("ext::sh -c touch% /tmp/pwned", "spaces, control or non-ASCII"),
        ("https://127.0.0.1/a/b", "host '127.0.0.1' is not allowed"),
        ("https://[::1]/a/b", "is not allowed"),
        ("https://github.com.evil.org/a/b", "host 'github.com.evil.org' is not allowed"),
        ("https://evilgithub.com/a/b", "is not allowed"),
        ("https://GitHub.com/a/b", "is not allowed"),
        ("https://g\u00edthub.com/a/b", "g\\xedthub"),
        ("https://user@github.com/a/b", "host 'user@github.com' is not allowed"),
        ("https://user:pw@github.com/a/b", "is not allowed"),
        ("https://github.com:8443/a/b", "host 'github.com:8443' is not allowed"),
        ("https://github.com:443/a/b", "is not allowed"),
        ("https://github.com/a/b\n", "control"),
        ("https://github.com/a/b\t", "control"),
        ("https://github.com/a/b ", "spaces"),
        ("https://github.com/a/b/", "trailing slash"),
        ("https://github.com/a/b?x=1", "query"),
        ("https://github.com/a/b#frag", "must be exactly"),
        ("https://github.com/a", "must be exactly"),
        ("https://github.com/a/b/c", "must be exactly"),
        ("https://github.com/../b", "must be exactly"),
        ("https://github.com/a/..", "must be exactly"),
        ("https://github.com/a/%2e%2e", "must be exactly"),
        ("https://github.com/-a/b", "must be exactly"),
        ("https:///github.com/a/b", "is not allowed"),
        ("", "empty"),
    ],
)
def test_a_repo_outside_the_allowlist_is_refused_with_the_fix(repo: str, says: str) -> None:
    with pytest.raises(DocumentError, match=r"document\.repo") as caught:
        validate_ref(ref(repo))
    assert says in str(caught.value)


def test_another_allowed_host_comes_from_the_limits_not_the_contributor() -> None:
    limits = FetchLimits(allowed_hosts=("github.com", "gitlab.com"))
    validate_ref(ref("https://gitlab.com/owner/docs"), limits)
    with pytest.raises(DocumentError, match="not allowed"):
        validate_ref(ref("https://gitlab.com/owner/docs"))


@pytest.mark.parametrize(
    "commit",
    [
        "main",
        "v1.0",
        COMMIT[:7],
        COMMIT.upper(),
        COMMIT + "0",
        COMMIT[:-1] + "g",
        COMMIT + "\n",
        "--upload-pack=x",
        "",
    ],
)
def test_a_commit_must_be_the_full_lowercase_hash(commit: str) -> None:
    with pytest.raises(DocumentError, match="40-character lowercase commit hash"):
        validate_ref(ref(commit=commit))


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("../x.md", "'..'"),
        ("docs/../../x.md", "'..'"),
        ("/**", "leading '/'"),
        ("/etc/x.md", "leading '/'"),
        ("a\\b.md", "backslash"),
        ("x.txt", "must end with .md"),
        ("docs/*", "must end with .md"),
        ("docs/a.md\0", "NUL"),
        ("./docs/a.md", "'.'"),
        ("docs//a.md", "empty path segments"),
        ("docs/a\n.md", "printable ASCII"),
        ("d\u00f6cs/a.md", "printable ASCII"),
        ("", "is empty"),
        ("a" * 300 + ".md", "at most 256"),
    ],
)
def test_an_unsafe_pattern_is_refused_and_named(pattern: str, says: str) -> None:
    with pytest.raises(DocumentError, match=r"document\.patterns entry") as caught:
        validate_ref(ref("https://github.com/owner/docs", COMMIT, pattern))
    assert says in str(caught.value)
    assert "https://github.com/owner/docs@" + COMMIT in str(caught.value)


def test_patterns_cannot_be_empty() -> None:
    with pytest.raises(DocumentError, match="needs 1 to 32 entries; it has 0"):
        validate_ref(DocumentRef("https://github.com/owner/docs", COMMIT, ()))


def test_patterns_given_as_one_string_is_refused() -> None:
    bad = DocumentRef("https://github.com/owner/docs", COMMIT, "docs/*.md")  # type: ignore[arg-type]
    with pytest.raises(DocumentError, match="must be a list"):
        validate_ref(bad)


def test_a_skill_qna_has_no_document() -> None:
    assert ref_from_qna({"version": "3", "task_description": "x"}) is None
    assert ref_from_qna({"document": None}) is None


def test_a_knowledge_qna_document_block_becomes_a_ref() -> None:
    data = {
        "version": "3",
        "document": {
            "repo": "https://github.com/owner/docs",
            "commit": COMMIT,
            "patterns": ["docs/*.md", "README.md"],
        },
    }
    assert ref_from_qna(data) == DocumentRef(
        "https://github.com/owner/docs", COMMIT, ("docs/*.md", "README.md")
    )


@pytest.mark.parametrize(
    "block",
    [
        "https://github.com/owner/docs",
        {"repo": "https://github.com/owner/docs", "patterns": ["a.md"]},
        {"repo": ["x"], "commit": COMMIT, "patterns": ["a.md"]},
        {"repo": "https://github.com/owner/docs", "commit": COMMIT, "patterns": "a.md"},
        {"repo": "https://github.com/owner/docs", "commit": COMMIT, "patterns": [{"a": 1}]},
    ],
)
def test_a_malformed_document_block_is_an_error_not_a_crash(block: object) -> None:
    with pytest.raises(DocumentError, match="document"):
        ref_from_qna({"document": block})
