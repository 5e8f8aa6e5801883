"""Choosing documents from a tree listing is pure: crafted listings, no git needed."""

from __future__ import annotations

import pytest

from taxonbot.documents.rules import DocumentError, DocumentRef, FetchLimits
from taxonbot.documents.tree import TreeEntry, parse_ls_tree, select_entries

COMMIT = "0123456789abcdef0123456789abcdef01234567"
OID = "45b983be36b73c0788dc9cbcb76cbb80fc7bb057"


def ref(*patterns: str) -> DocumentRef:
    return DocumentRef("https://github.com/owner/docs", COMMIT, patterns)


def blob(path: str, size: int = 3, mode: str = "100644") -> TreeEntry:
    return TreeEntry(mode, "blob", OID, size, path)


def test_ls_tree_records_are_parsed_with_raw_names() -> None:
    output = (
        f"100644 blob {OID}       3\tdocs/a b.md\0".encode()
        + f"160000 commit {COMMIT}       -\tmods/sub\0".encode()
        + f"100644 blob {OID}       3\tdocs/caf\xe9.md\0".encode("latin-1")
    )
    entries = parse_ls_tree(output)

    assert entries[0] == TreeEntry("100644", "blob", OID, 3, "docs/a b.md")
    assert entries[1].size is None
    assert entries[2].path == "docs/caf\udce9.md"  # not UTF-8: kept, never mistaken for é


@pytest.mark.parametrize(
    ("path", "pattern", "reason"),
    [
        ("docs/../x.md", "docs/.*/x.md", "'..'"),
        ("docs/./x.md", "docs/.*/x.md", "'..'"),
        ("docs/evil\n.md", "docs/*.md", "control characters"),
        ("docs/caf\udce9.md", "docs/*.md", "not valid UTF-8"),
        ("docs/fifo.md", "docs/*.md", "mode 040000"),
    ],
)
def test_a_crafted_tree_entry_is_skipped_not_returned(path: str, pattern: str, reason: str) -> None:
    entries = [blob("docs/ok.md"), blob(path, mode="040000" if "fifo" in path else "100644")]
    selection = select_entries(entries, ref(pattern, "docs/ok.md"), FetchLimits())

    assert [e.path for e in selection.chosen] == ["docs/ok.md"]
    assert len(selection.skipped) == 1
    assert reason in selection.skipped[0].reason
    assert selection.skipped[0].path.isprintable()


def test_sizes_from_the_listing_are_enforced_before_reading() -> None:
    entries = [blob("docs/a.md", size=10), blob("docs/huge.md", size=100 * 1024 * 1024)]
    with pytest.raises(DocumentError, match=r"docs/huge\.md .* 104,857,600 bytes"):
        select_entries(entries, ref("docs/*.md"), FetchLimits())


def test_the_file_cap_applies_to_matches_not_to_the_whole_tree() -> None:
    entries = [blob(f"other/{n}.md") for n in range(1000)] + [blob("docs/a.md")]
    selection = select_entries(entries, ref("docs/*.md"), FetchLimits(max_files=5))
    assert [e.path for e in selection.chosen] == ["docs/a.md"]
