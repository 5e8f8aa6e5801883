"""The merge gate and the PR it belongs to, on the in-memory port (taxonbot/check/gate.py,
locate.py).

Stories: a fork's PR is found from the run's head repository and branch although commit ->
pulls answers []; a hint naming another PR is ignored; a deleted fork's PR is found by its head;
the gate reads the PR's files as data and finds what `taxonbot check` finds; a PR of 6,000 files
or 400 taxonomy files fails as too large to analyse; a 300 KiB or binary qna.yaml is a finding,
not a crash; 120 findings become 120 annotations in batches of 50.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from taxonbot.check.gate import MAX_TAXONOMY_FILES, trusted_check, unrecognised_group
from taxonbot.check.rules.context import CheckOptions
from taxonbot.comment.checkrun import GATE_NAME, batches, check_run_request, publish_check_run
from taxonbot.github.locate import RunFacts, find_pulls
from taxonbot.github.memory import InMemoryGitHub

REPO, FORK, SHA = "community/taxonomy", "contributor/taxonomy", "c" * 40
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pull_request"
GOOD = EXAMPLES / "compositional_skills/writing/freeform/email/reschedule_meeting/qna.yaml"
BAD = EXAMPLES / "compositional_skills/writing/freeform/Thank_You_Notes"
LEAF = "taxonomy/compositional_skills/writing/freeform/email/reschedule_meeting/qna.yaml"
OPTIONS = CheckOptions(changed=True)
ATTRIBUTION = LEAF.replace("qna.yaml", "attribution.txt")


def with_attribution(gh: InMemoryGitHub) -> InMemoryGitHub:
    gh.contents[(REPO, SHA, ATTRIBUTION)] = (GOOD.parent / "attribution.txt").read_bytes()
    return gh


def with_trailing_spaces(lines: int) -> bytes:
    """The good leaf with `lines` of its lines ending in a space: one error per line."""
    text = GOOD.read_text("utf-8").splitlines()
    assert len(text) >= lines
    return ("\n".join(f"{t} " if i < lines else t for i, t in enumerate(text)) + "\n").encode()


def facts(**change: object) -> RunFacts:
    base = {"repo": REPO, "head_sha": SHA, "head_repo": FORK, "head_branch": "topic"}
    return RunFacts(**{**base, **change})  # type: ignore[arg-type]


def test_a_fork_pr_is_found_by_its_head_branch_though_commit_to_pulls_says_nothing() -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, head_ref="topic")
    assert gh.pulls_for_head(REPO, SHA, FORK) == []  # GitHub's answer for a fork's commit
    assert [p.number for p in find_pulls(gh, facts())] == [12]
    assert ("open_pulls", (REPO, "contributor:topic")) in [(c.name, c.args) for c in gh.calls]


def test_a_hint_is_used_only_when_the_api_confirms_it() -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK)
    gh.add_pull(REPO, 2, "d" * 40, head_repo=FORK, head_ref="other")  # what a lying hint names
    assert [p.number for p in find_pulls(gh, facts(hints=(2,)))] == [12]
    assert [p.number for p in find_pulls(gh, facts(hints=(12,)))] == [12]
    calls = [c.name for c in gh.calls]
    assert calls[-1] == "pull_head"  # a confirmed hint needs no search


@pytest.mark.parametrize("change", ["closed", "pushed", "other-fork", "other-base"])
def test_nothing_is_found_when_the_pr_moved_on_or_is_not_this_runs(change: str) -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK)
    if change == "closed":
        gh.close(REPO, 12)
    elif change == "pushed":
        gh.push(REPO, 12, "e" * 40)
    run = {
        "other-fork": facts(head_repo="someone/taxonomy"),
        "other-base": facts(repo="someone/else", hints=(12,)),
    }.get(change, facts(hints=(12,)))
    assert find_pulls(gh, run) == []


def test_a_deleted_forks_pr_is_found_among_the_open_prs_by_its_head() -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK)
    gh.pulls[(REPO, 12)].head_repo = None  # the fork was deleted: GitHub says "repo": null
    gh.add_pull(REPO, 13, "d" * 40, head_repo=FORK)
    found = find_pulls(gh, facts(head_repo=None, head_branch="topic"))
    assert [p.number for p in found] == [12]


def test_the_same_head_in_two_open_prs_finds_both() -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK)
    gh.add_pull(REPO, 14, SHA, head_repo=FORK)
    assert [p.number for p in find_pulls(gh, facts())] == [12, 14]


def gate_for(gh: InMemoryGitHub, tmp_path: Path, number: int = 12) -> object:
    pull = gh.pull_head(REPO, number)
    assert pull is not None
    return trusted_check(gh, REPO, pull, str(tmp_path), OPTIONS)


def test_the_gate_reads_the_prs_files_as_data_and_finds_what_check_finds(tmp_path: Path) -> None:
    bad = "taxonomy/compositional_skills/writing/freeform/Thank_You_Notes"
    gh = InMemoryGitHub()
    gh.add_pull(
        REPO,
        12,
        SHA,
        head_repo=FORK,
        files={
            f"{bad}/qna.yaml": (BAD / "qna.yaml").read_bytes(),
            f"{bad}/attribution.txt": (BAD / "attribution.txt").read_bytes(),
            LEAF: GOOD.read_bytes(),
            "README.md": b"not taxonomy",
        },
    )
    gate = gate_for(with_attribution(gh), tmp_path)
    rules = sorted(f.rule for f in gate.report.findings)  # type: ignore[attr-defined]
    assert gate.report.files == (f"{bad}/qna.yaml", LEAF)  # type: ignore[attr-defined]
    assert gate.report.errors == 8 and not gate.too_large  # type: ignore[attr-defined]
    assert "attribution.license" in rules and "content.duplicate-question" in rules
    # Only the taxonomy files and the leaves' attribution.txt were read, at the head commit.
    reads = [c.args for c in gh.calls if c.name == "file_at"]
    assert all(ref == SHA for _, _, ref in reads)
    assert not any(path == "README.md" for _, path, _ in reads)


def test_an_attribution_only_change_checks_its_leaf(tmp_path: Path) -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, files={ATTRIBUTION: b"Title of work: x\n"})
    gh.contents[(REPO, SHA, LEAF)] = GOOD.read_bytes()
    gate = gate_for(gh, tmp_path)
    assert gate.report.files == (LEAF,)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "rule"),
    [(b"version: 3\n" + b"#" * (300 * 1024) + b"\n", "file.too-large"), (b"\xff\xfe\x00bin", "")],
)
def test_a_huge_or_binary_qna_yaml_is_a_finding_not_a_crash(
    tmp_path: Path, data: bytes, rule: str
) -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, files={LEAF: data})
    gate = gate_for(gh, tmp_path)
    assert gate.report.failed  # type: ignore[attr-defined]
    if rule:
        assert rule in {f.rule for f in gate.report.findings}  # type: ignore[attr-defined]


def test_a_pr_of_6000_files_fails_as_too_large_without_reading_them(tmp_path: Path) -> None:
    gh = InMemoryGitHub()
    files: dict[str, bytes | None] = {f"docs/f{i}.md": b"x" for i in range(6000)}
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, files=files)
    gate = gate_for(gh, tmp_path)
    (finding,) = gate.report.findings  # type: ignore[attr-defined]
    assert gate.too_large and finding.rule == "gate.too-large"  # type: ignore[attr-defined]
    assert "6,000 changed files" in finding.message
    assert not [c for c in gh.calls if c.name in ("pull_files", "file_at")]
    request = check_run_request(SHA, gate.report, gate.too_large)  # type: ignore[attr-defined]
    assert request.conclusion == "failure" and request.annotations == ()


def test_more_taxonomy_files_than_the_gate_reads_fail_as_too_large(tmp_path: Path) -> None:
    gh = InMemoryGitHub()
    count = MAX_TAXONOMY_FILES + 1
    files: dict[str, bytes | None] = {
        f"taxonomy/knowledge/t{i}/qna.yaml": b"version: 3\n" for i in range(count)
    }
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, files=files)
    gate = gate_for(gh, tmp_path)
    assert gate.too_large  # type: ignore[attr-defined]


def test_every_finding_is_an_annotation_50_per_request(tmp_path: Path) -> None:
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, files={LEAF: with_trailing_spaces(12)})
    gate = gate_for(with_attribution(gh), tmp_path)
    assert gate.report.errors == 12  # type: ignore[attr-defined]
    request = check_run_request(SHA, gate.report)  # type: ignore[attr-defined]
    assert len(request.annotations) == 12 and request.conclusion == "failure"
    many = request.__class__(**{**request.__dict__, "annotations": request.annotations * 10})
    assert [len(b) for b in batches(many.annotations)] == [50, 20]
    lines = publish_check_run(gh, REPO, many, [])
    (check_id,) = gh.check_run_log
    assert len(gh.check_run_log[check_id][2]) == 120 and len(lines) == 3
    # The same verdict again: nothing is written.
    again = publish_check_run(gh, REPO, many, gh.check_runs(REPO, SHA, GATE_NAME))
    assert again == [f"{GATE_NAME} on {SHA[:12]}: already failure, unchanged"]
    assert len(gh.check_run_log) == 1


def test_a_listed_qna_yaml_the_api_does_not_return_as_a_file_fails_the_gate(
    tmp_path: Path,
) -> None:
    """A symlink or submodule at a leaf's path: the contents API answers no file there."""
    gh = InMemoryGitHub()
    gh.add_pull(REPO, 12, SHA, head_repo=FORK, files={LEAF: b"version: 3\n"})
    del gh.contents[(REPO, SHA, LEAF)]
    gate = gate_for(gh, tmp_path)
    (finding,) = gate.report.findings  # type: ignore[attr-defined]
    assert (finding.rule, finding.path) == ("gate.unreadable", LEAF)


def test_a_merge_group_the_gate_cannot_tie_to_a_pull_request_fails_closed() -> None:
    gate = unrecognised_group("gh-readonly-queue/main/not-a-pr")
    (finding,) = gate.report.findings
    assert finding.rule == "gate.merge-group" and gate.too_large
    assert check_run_request(SHA, gate.report, gate.too_large).conclusion == "failure"
