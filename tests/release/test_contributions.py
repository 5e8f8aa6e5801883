"""Who gets credited: the contributions merged to main between two refs, on real git histories.

Stories: a fork's PR merged with a merge commit credits the contributor, not the maintainer who
pressed the button; a squash merge credits its author and co-authors; a direct push counts with
no PR; renames, deletions and attribution-only changes are leaf changes; a PR that changed no
leaf is left out unless asked for; no e-mail address ever comes out.
"""

from __future__ import annotations

import json

import pytest

from taxonbot.taxonomy.contributions import (
    Contribution,
    ContributionError,
    Person,
    contributions_between,
)
from taxonbot.taxonomy.diff import LeafChange
from tests.release import BOB, JANE, MAINTAINER, History

HAIKU = "compositional_skills/writing/haiku"
JUPITER = "knowledge/astronomy/jupiter"
ROME = "knowledge/history/rome"


def summary(found: list[Contribution]) -> list[tuple[int | None, str, str, list[str]]]:
    return [(c.number, c.kind, c.title, [f"{x.status} {x.path}" for x in c.leaves]) for c in found]


def base_history(history: History) -> str:
    history.leaf(JUPITER, "Jupiter")
    history.write("README.md", "# Community taxonomy\n")
    return history.commit("Initial tree", author=MAINTAINER)


def test_a_forks_pr_merged_with_a_merge_commit_credits_its_author_not_the_maintainer(
    history: History,
) -> None:
    base = base_history(history)
    history.branch("haiku")
    history.leaf(HAIKU, "Haiku")
    history.commit("Add a haiku skill", author=BOB)
    history.leaf(HAIKU, "Haiku, five more examples")
    history.commit("More haiku examples", author=JANE)
    merge = history.merge_pr(12, "bobstone", "haiku", "Add haiku writing")

    (found,) = contributions_between(str(history.tree), base, "main")

    assert (found.number, found.kind, found.title, found.sha) == (
        12,
        "merge",
        "Add haiku writing",
        merge,
    )
    assert found.authors == (Person("Bob Stone", "bobstone"), Person("Jane Doe", None))
    blob = history.head(f"main:taxonomy/{HAIKU}/qna.yaml")
    assert found.leaves == (LeafChange("added", f"{HAIKU}/qna.yaml", None, blob),)
    assert MAINTAINER[0] not in json.dumps(found.to_json())


def test_a_single_author_gets_the_forks_login_when_the_upstream_owner_is_known(
    history: History,
) -> None:
    base = base_history(history)
    history.branch("rome")
    history.leaf(ROME, "Rome")
    history.commit("Add Rome", author=JANE)
    history.merge_pr(3, "jdoe", "rome", "Knowledge: Rome")
    history.branch("fix")
    history.leaf(ROME, "Rome, fixed")
    history.commit("Fix Rome", author=JANE)
    history.merge_pr(4, "community", "fix", "Same-repository branch")

    found = contributions_between(str(history.tree), base, "main", upstream_owner="community")

    assert [c.authors for c in found] == [(Person("Jane Doe", "jdoe"),), (Person("Jane Doe"),)]
    unknown = contributions_between(str(history.tree), base, "main")
    assert [c.authors for c in unknown] == [(Person("Jane Doe"),), (Person("Jane Doe"),)]


def test_squash_merges_and_direct_pushes_are_contributions_too(history: History) -> None:
    base = base_history(history)
    history.leaf(HAIKU, "Haiku")
    trailer = "\n\nCo-authored-by: Bob Stone <4242+bobstone@users.noreply.github.com>"
    history.commit(f"Add haiku writing (#7){trailer}", author=JANE)
    history.leaf(JUPITER, "Jupiter, moons")
    history.commit("Fix a typo in Jupiter", author=MAINTAINER)
    history.leaf(ROME, "Rome")
    history.commit("Rome (draft) (#8) (#9)", author=JANE)

    found = contributions_between(str(history.tree), base, "HEAD")

    assert summary(found) == [
        (7, "squash", "Add haiku writing", [f"added {HAIKU}/qna.yaml"]),
        (None, "direct", "Fix a typo in Jupiter", [f"changed {JUPITER}/qna.yaml"]),
        (9, "squash", "Rome (draft) (#8)", [f"added {ROME}/qna.yaml"]),
    ]
    assert found[0].authors == (Person("Jane Doe"), Person("Bob Stone", "bobstone"))
    assert found[1].authors == (Person("Mia Maintainer"),)


def test_renames_deletions_and_attribution_only_changes_are_leaf_changes(
    history: History,
) -> None:
    history.leaf(ROME, "Rome")
    base = base_history(history)
    history.git("mv", "taxonomy/knowledge/history/rome", "taxonomy/knowledge/history/roma")
    history.commit("Rename Rome (#20)")
    history.git("rm", "-r", "--quiet", f"taxonomy/{JUPITER}")
    history.commit("Remove Jupiter (#21)")
    history.write("taxonomy/knowledge/history/roma/attribution.txt", "Title of work: Roma\n")
    history.commit("Credit the source of Roma (#22)")

    found = contributions_between(str(history.tree), base, "HEAD")

    assert summary(found) == [
        (20, "squash", "Rename Rome", ["renamed knowledge/history/roma/qna.yaml"]),
        (21, "squash", "Remove Jupiter", [f"deleted {JUPITER}/qna.yaml"]),
        (22, "squash", "Credit the source of Roma", ["changed knowledge/history/roma/qna.yaml"]),
    ]
    assert found[0].leaves[0].old_path == f"{ROME}/qna.yaml"
    assert found[2].leaves[0].blob == history.head("HEAD:taxonomy/knowledge/history/roma/qna.yaml")
    assert found[1].leaves[0].blob is None


def test_a_pr_that_changed_no_leaf_is_left_out_unless_everything_is_asked_for(
    history: History,
) -> None:
    base = base_history(history)
    history.branch("ci")
    history.write("README.md", "# Community taxonomy\n\nHow to contribute.\n")
    history.write("taxonomy/CONTRIBUTING.md", "Be kind.\n")
    history.write("tests/data/knowledge/x/qna.yaml", "not in the tree\n")
    history.commit("Docs", author=BOB)
    history.merge_pr(30, "bobstone", "ci", "Contributor docs")
    history.leaf(HAIKU, "Haiku")
    history.commit("Add haiku (#31)")

    assert [c.number for c in contributions_between(str(history.tree), base, "HEAD")] == [31]
    everything = contributions_between(str(history.tree), base, "HEAD", everything=True)
    assert [(c.number, c.changes_taxonomy) for c in everything] == [(30, False), (31, True)]


def test_from_the_first_commit_when_there_is_no_base(history: History) -> None:
    base_history(history)
    history.leaf(HAIKU, "Haiku")
    history.commit("Add haiku (#2)")

    found = contributions_between(str(history.tree), None, "HEAD")

    assert summary(found) == [
        (None, "direct", "Initial tree", [f"added {JUPITER}/qna.yaml"]),
        (2, "squash", "Add haiku", [f"added {HAIKU}/qna.yaml"]),
    ]


def test_the_json_names_people_by_name_and_login_never_by_address(history: History) -> None:
    base = base_history(history)
    history.leaf(HAIKU, "Haiku")
    history.commit("Add haiku (#5)\n\nCo-authored-by: Jane Doe <jdoe@example.invalid>", author=BOB)

    (found,) = contributions_between(str(history.tree), base, "HEAD")

    data, blob = found.to_json(), found.leaves[0].blob
    assert "@" not in json.dumps(data)
    assert data == {
        "number": 5,
        "title": "Add haiku",
        "sha": found.sha,
        "merged_at": "2026-11-01T12:00:00+00:00",
        "kind": "squash",
        "authors": [
            {"name": "Bob Stone", "login": "bobstone"},
            {"name": "Jane Doe", "login": None},
        ],
        "leaves": [
            {"status": "added", "path": f"{HAIKU}/qna.yaml", "old_path": None, "blob": blob}
        ],
    }


@pytest.mark.parametrize(
    ("base", "head", "named"),
    [("build-0.9", "HEAD", "build-0.9"), (None, "no-such-branch", "no-such-branch")],
)
def test_an_unknown_ref_is_named_with_what_to_fetch(
    history: History, base: str | None, head: str, named: str
) -> None:
    base_history(history)
    with pytest.raises(ContributionError, match=rf"`{named}`.*git fetch --tags"):
        contributions_between(str(history.tree), base, head)


def test_a_range_is_refused_and_a_missing_folder_is_named(history: History) -> None:
    base_history(history)
    with pytest.raises(ContributionError, match="not a git ref"):
        contributions_between(str(history.tree), "main..HEAD", "HEAD")
    with pytest.raises(ContributionError, match="no such folder"):
        contributions_between(str(history.root / "nowhere"), None, "HEAD")
