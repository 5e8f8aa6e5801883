"""Stories of a knowledge contributor whose documents taxonbot fetches with real git."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from taxonbot.documents.fetch import FetchedDocument, fetch_document_set, fetch_documents
from taxonbot.documents.rules import DocumentError, FetchLimits

from .gitrepos import A_MD, B_MD, REPO_URL, DocRepo, Served, make_repo


def fetch(
    doc_repo: DocRepo, *patterns: str, limits: FetchLimits | None = None, **kw: str
) -> list[FetchedDocument]:
    return fetch_documents(
        doc_repo.ref(*patterns, **kw),
        doc_repo.served.cache,
        limits or FetchLimits(),
        git_env=doc_repo.served.git_env,
        allow_file_protocol=True,
    )


def test_docs_star_md_returns_the_two_documents_sorted_with_hashes(doc_repo: DocRepo) -> None:
    documents = fetch(doc_repo, "docs/*.md")

    assert [d.path for d in documents] == ["docs/a.md", "docs/b.md"]
    assert documents[0].text == A_MD.decode()
    assert documents[1].text == B_MD.decode()  # b.md is executable (100755): still a document
    assert documents[1].sha256 == hashlib.sha256(B_MD).hexdigest()


def test_a_symlink_to_etc_passwd_is_skipped_with_the_reason(doc_repo: DocRepo) -> None:
    result = fetch_document_set(
        doc_repo.ref("docs/*.md", "mods/*.md"),
        doc_repo.served.cache,
        git_env=doc_repo.served.git_env,
        allow_file_protocol=True,
    )

    assert [d.path for d in result.documents] == ["docs/a.md", "docs/b.md"]
    assert "root:" not in "".join(d.text for d in result.documents)
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons.keys() == {"docs/link.md", "mods/sub.md"}
    assert reasons["docs/link.md"].startswith("symbolic link")
    assert reasons["mods/sub.md"].startswith("submodule")


def test_only_a_symlink_matching_is_no_document_and_says_why(doc_repo: DocRepo) -> None:
    with pytest.raises(DocumentError, match=r"docs/link\.md: symbolic link"):
        fetch(doc_repo, "docs/link.md")


def test_a_3_mb_markdown_file_is_refused_before_it_is_read(doc_repo: DocRepo) -> None:
    with pytest.raises(DocumentError) as caught:
        fetch(doc_repo, "*.md")

    message = str(caught.value)
    assert "big.md" in message
    assert "3,145,728 bytes" in message
    assert "2,097,152 bytes per file" in message


def test_the_total_size_cap_counts_every_matched_document(doc_repo: DocRepo) -> None:
    with pytest.raises(DocumentError, match=r"the limit is 20\. Narrow document\.patterns"):
        fetch(doc_repo, "docs/*.md", limits=FetchLimits(max_total_bytes=20))


def test_a_document_that_is_not_utf8_is_named(doc_repo: DocRepo) -> None:
    with pytest.raises(DocumentError, match=r"latin1/old\.md .* is not valid UTF-8 \(byte 3\)"):
        fetch(doc_repo, "latin1/*.md")


def test_patterns_matching_nothing_name_the_patterns(doc_repo: DocRepo) -> None:
    with pytest.raises(DocumentError, match=r"matches document.patterns \['guide/\*\*/\*.md'\]"):
        fetch(doc_repo, "guide/**/*.md")


def test_a_commit_that_does_not_exist_says_check_the_hash(doc_repo: DocRepo) -> None:
    missing = "0" * 40
    with pytest.raises(DocumentError) as caught:
        fetch(doc_repo, "docs/*.md", commit=missing)

    assert str(caught.value).startswith(
        f"commit {missing} not found in repo {REPO_URL}; check the 40-character commit hash"
    )
    assert list(doc_repo.served.cache.iterdir()) == []  # no half-fetched repo left to trust


def test_a_repository_that_does_not_exist_is_named(doc_repo: DocRepo) -> None:
    with pytest.raises(
        DocumentError, match=r"could not read repository https://github\.com/o/nope"
    ):
        fetch(doc_repo, "docs/*.md", repo="https://github.com/o/nope")


def test_a_fetched_commit_is_reused_without_the_network(doc_repo: DocRepo) -> None:
    first = fetch(doc_repo, "docs/*.md")
    shutil.rmtree(doc_repo.bare)

    # No rewrite and no file protocol: had git gone out, it would fail on the closed proxy.
    again = fetch_documents(doc_repo.ref("docs/*.md"), doc_repo.served.cache)

    assert again == first


def test_without_the_rewrite_git_would_go_out_and_meets_the_closed_proxy(
    doc_repo: DocRepo,
) -> None:
    # The guard every test relies on: https from git lands on 127.0.0.1:9 and fails at once.
    with pytest.raises(DocumentError, match=r"could not read repository .* port 9"):
        fetch_documents(doc_repo.ref("docs/*.md"), doc_repo.served.cache)


def test_production_settings_refuse_a_rewrite_to_file(doc_repo: DocRepo) -> None:
    with pytest.raises(DocumentError, match="transport 'file' not allowed"):
        fetch_documents(
            doc_repo.ref("docs/*.md"), doc_repo.served.cache, git_env=doc_repo.served.git_env
        )


def test_git_env_cannot_switch_the_file_protocol_back_on(doc_repo: DocRepo) -> None:
    sneaky = {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": f"url.file://{doc_repo.served.root}/.insteadOf",
        "GIT_CONFIG_VALUE_0": "https://github.com/",
        "GIT_CONFIG_KEY_1": "protocol.file.allow",
        "GIT_CONFIG_VALUE_1": "always",
        "GIT_CONFIG_GLOBAL": "/tmp/elsewhere",  # ours wins: hardening is applied last
    }
    with pytest.raises(DocumentError, match="transport 'file' not allowed"):
        fetch_documents(doc_repo.ref("docs/*.md"), doc_repo.served.cache, git_env=sneaky)


def test_a_huge_repository_exceeds_the_file_count_cap(tmp_path: Path, served: Served) -> None:
    work = tmp_path / "huge"
    work.mkdir()
    commit = make_repo(work, {f"docs/page{n:03}.md": b"# page\n" for n in range(201)})
    served.publish(work, "owner/huge")
    ref = DocRepo(served, commit, served.root).ref(
        "docs/*.md", repo="https://github.com/owner/huge"
    )

    with pytest.raises(DocumentError, match=r"match 201 files .* the limit is 200"):
        fetch_documents(ref, served.cache, git_env=served.git_env, allow_file_protocol=True)
