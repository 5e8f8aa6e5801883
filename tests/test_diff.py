"""`taxonbot diff`: which leaves a pull request added, changed, renamed or deleted.

Every test builds a real git repository in a temp folder, with pinned names, e-mails and dates.
The base branch `main` holds six leaves; a contributor's branch `contribution` is made from it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git.cmd as gitcmd
import pytest

from taxonbot.cli.main import main
from taxonbot.taxonomy.diff import FETCH_HINT, ChangedLeaves, DiffError, LeafChange, changed_leaves
from tests.support.git import commit, git, pin

JUPITER = "knowledge/astronomy/planets/jupiter"
LIMERICK = "compositional_skills/writing/freeform/limerick"
HAIKU = "compositional_skills/writing/freeform/haiku"
SONNET = "compositional_skills/writing/freeform/sonnet"
ROME = "knowledge/history/rome"
OLD = "compositional_skills/writing/old"
ODE = "compositional_skills/writing/freeform/ode"
SATURN = "knowledge/astronomy/planets/saturn"


def write_leaf(folder: str, topic: str, attribution: bool = True) -> None:
    """A small qna.yaml: the diff never parses it, so its content only needs to differ."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    lines = [f"version: 3\ncreated_by: jdoe\ntask_description: {topic}\nseed_examples:\n"]
    lines += [
        f"  - question: What is {topic} number {n}?\n    answer: It is {n}.\n" for n in range(5)
    ]
    Path(folder, "qna.yaml").write_text("".join(lines), encoding="utf-8")
    if attribution:
        Path(folder, "attribution.txt").write_text(f"Title of work: {topic}\n", encoding="utf-8")


def blob(path: str, rev: str = "HEAD") -> str:
    return git("rev-parse", f"{rev}:{path}")


def summary(leaves: ChangedLeaves) -> list[tuple[str, str, str | None]]:
    return [(c.status, c.path, c.old_path) for c in leaves.changes]


@pytest.fixture
def pinned_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pin(monkeypatch, tmp_path)
    return tmp_path


@pytest.fixture
def taxonomy(pinned_git: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`main` with six leaves and a README; HEAD on a new branch `contribution`."""
    repo = pinned_git / "taxonomy"
    repo.mkdir()
    monkeypatch.chdir(repo)
    git("init", "--quiet", "-b", "main")
    for folder in (JUPITER, LIMERICK, HAIKU, SONNET, ROME, OLD):
        write_leaf(folder, folder.rsplit("/", 1)[-1])
    Path("README.md").write_text("# Community taxonomy\n", encoding="utf-8")
    commit("six leaves")
    git("switch", "--quiet", "-c", "contribution")
    return repo


def contribute() -> None:
    """One commit per kind of change a pull request can make."""
    write_leaf(ODE, "ode")
    write_leaf(SATURN, "saturn", attribution=False)
    commit("add an ode and a knowledge leaf")
    qna = Path(LIMERICK, "qna.yaml")
    qna.write_text(qna.read_text("utf-8").replace("number 4", "number four"), encoding="utf-8")
    commit("edit the limerick")
    Path(HAIKU, "attribution.txt").write_text("Title of work: haiku, 2nd ed.\n", encoding="utf-8")
    commit("only the haiku's attribution")
    git("rm", "--quiet", "-r", OLD)
    commit("drop an old skill")
    Path("compositional_skills/poetry").mkdir()
    git("mv", SONNET, "compositional_skills/poetry/sonnet")
    commit("move the sonnet (same root)")
    Path("compositional_skills/history").mkdir()
    git("mv", ROME, "compositional_skills/history/rome")
    commit("Rome is a skill now (another root)")
    Path("README.md").write_text("# Community taxonomy, edited\n", encoding="utf-8")
    Path("docs").mkdir()
    Path("docs/notes.yaml").write_text("a: 1\n", encoding="utf-8")
    commit("README and notes: not leaves")


EXPECTED = [  # sorted by path
    ("renamed", "compositional_skills/history/rome/qna.yaml", f"{ROME}/qna.yaml"),
    ("renamed", "compositional_skills/poetry/sonnet/qna.yaml", f"{SONNET}/qna.yaml"),
    ("changed", f"{HAIKU}/qna.yaml", None),
    ("changed", f"{LIMERICK}/qna.yaml", None),
    ("added", f"{ODE}/qna.yaml", None),
    ("deleted", f"{OLD}/qna.yaml", None),
    ("added", f"{SATURN}/qna.yaml", None),
]


def test_a_pull_request_lists_every_kind_of_leaf_change(taxonomy: Path) -> None:
    """Added, edited, attribution-only, deleted, renamed within and across roots; the README and
    a YAML file outside the roots are not leaves."""
    base = git("rev-parse", "main")
    contribute()
    leaves = changed_leaves("main")
    assert summary(leaves) == EXPECTED
    assert (leaves.base, leaves.merge_base, leaves.head) == (base, base, git("rev-parse", "HEAD"))
    assert leaves.paths() == sorted(p for s, p, _ in EXPECTED if s != "deleted")


def test_each_change_carries_the_blob_id_of_its_qna_yaml_now(taxonomy: Path) -> None:
    """The overlap index is cached by blob id: it must be git's id of the file at HEAD, also for
    an attribution-only change (whose qna.yaml git did not diff), and None for a deletion."""
    contribute()
    blobs = {c.path: c.blob for c in changed_leaves("main").changes}
    assert blobs == {p: (None if s == "deleted" else blob(p)) for s, p, _ in EXPECTED}
    assert blobs[f"{HAIKU}/qna.yaml"] == blob(f"{HAIKU}/qna.yaml", "main")


def test_each_change_names_its_taxonomy_root(taxonomy: Path) -> None:
    """Rome moved from knowledge/ to compositional_skills/: its root is where it is now."""
    contribute()
    roots = {c.path: c.root for c in changed_leaves("main").changes}
    assert roots["compositional_skills/history/rome/qna.yaml"] == "compositional_skills"
    assert roots[f"{SATURN}/qna.yaml"] == "knowledge"
    assert roots[f"{OLD}/qna.yaml"] == "compositional_skills"


def test_changes_that_came_from_main_through_a_merge_are_not_listed(taxonomy: Path) -> None:
    """main moves on (a new leaf, an edited one); the contributor merges main into the branch.
    Only the contributor's own change is listed: the comparison is with the merge base."""
    write_leaf(ODE, "ode")
    commit("the contributor's ode")
    git("switch", "--quiet", "main")
    write_leaf("knowledge/astronomy/planets/saturn", "saturn")
    write_leaf(JUPITER, "jupiter, revised")
    main_tip = commit("main moves on")
    git("switch", "--quiet", "contribution")
    git("merge", "--quiet", "--no-edit", "main")

    leaves = changed_leaves("main")
    assert summary(leaves) == [("added", f"{ODE}/qna.yaml", None)]
    assert leaves.merge_base == leaves.base == main_tip


def test_a_detached_head_compares_its_commit_with_the_base(taxonomy: Path) -> None:
    """CI checks out a merge commit with a detached HEAD; that must just work."""
    contribute()
    git("checkout", "--quiet", "--detach", "contribution")
    leaves = changed_leaves("main")
    assert summary(leaves) == EXPECTED
    assert leaves.head == git("rev-parse", "contribution")


def test_a_qna_yaml_that_does_not_parse_is_still_listed(taxonomy: Path) -> None:
    """The diff never reads YAML: the checker reports the broken file, so it must be listed."""
    Path(ODE).mkdir(parents=True)
    Path(ODE, "qna.yaml").write_text("seed_examples: [unclosed\n  - {\n", encoding="utf-8")
    commit("a broken leaf")
    assert summary(changed_leaves("main")) == [("added", f"{ODE}/qna.yaml", None)]


def test_odd_folder_names_come_through_intact(
    taxonomy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spaces, non-ASCII and even a newline in a folder name: -z output, no quoting; the text
    format quotes a name with a control character so it stays on one line."""
    for folder in ("knowledge/café au lait", "knowledge/two\nlines"):
        write_leaf(folder, "odd")
    commit("odd names")
    assert [c.path for c in changed_leaves("main").changes] == [
        "knowledge/café au lait/qna.yaml",
        "knowledge/two\nlines/qna.yaml",
    ]
    assert main(["diff", "--base", "main"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "added     knowledge/café au lait/qna.yaml",
        'added     "knowledge/two\\nlines/qna.yaml"',
    ]


def test_uncommitted_changes_to_tracked_files_count(taxonomy: Path) -> None:
    """Locally (pre-commit) the working tree is what is about to be committed: an unstaged edit
    is listed, with the id `git hash-object` gives it; an untracked file is not."""
    qna = Path(JUPITER, "qna.yaml")
    qna.write_text(qna.read_text("utf-8") + "# more\n", encoding="utf-8")
    write_leaf(ODE, "ode")  # untracked
    leaves = changed_leaves("main")
    assert summary(leaves) == [("changed", f"{JUPITER}/qna.yaml", None)]
    assert leaves.changes[0].blob == git("hash-object", str(qna))


def test_paths_are_relative_to_the_folder_it_runs_in(taxonomy: Path) -> None:
    """Run from `compositional_skills/`: paths open from there, roots are still known, and changes
    outside the folder are left out (like `git diff --relative`): Rome, moved in from
    knowledge/, is new here."""
    contribute()
    leaves = changed_leaves("main", "compositional_skills")
    sonnet = ("poetry/sonnet/qna.yaml", "writing/freeform/sonnet/qna.yaml")
    assert [(c.status, c.path, c.old_path, c.root) for c in leaves.changes] == [
        ("added", "history/rome/qna.yaml", None, "compositional_skills"),  # came from outside
        ("renamed", *sonnet, "compositional_skills"),
        ("changed", "writing/freeform/haiku/qna.yaml", None, "compositional_skills"),
        ("changed", "writing/freeform/limerick/qna.yaml", None, "compositional_skills"),
        ("added", "writing/freeform/ode/qna.yaml", None, "compositional_skills"),
        ("deleted", "writing/old/qna.yaml", None, "compositional_skills"),
    ]
    assert all(Path("compositional_skills", p).is_file() for p in leaves.paths())


def test_a_branch_without_leaves_gives_an_empty_result(
    pinned_git: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Empty trees on both sides: nothing to list, and that is a success (exit 0)."""
    monkeypatch.chdir(pinned_git)
    git("init", "--quiet", "-b", "main")
    commit("empty")
    git("switch", "--quiet", "-c", "contribution")
    commit("still empty")
    assert changed_leaves("main").changes == ()
    assert main(["diff", "--base", "main"]) == 0
    assert "no taxonomy leaves changed since the merge base" in capsys.readouterr().out


def test_the_diff_is_two_git_processes_however_long_the_branch(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rev-parse (HEAD, the base and their merge base) and diff: 1 commit or 41, the same."""
    commands: list[str] = []
    real_execute = gitcmd.Git.execute

    def counting(self: gitcmd.Git, command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append(str(command[1]))
        return real_execute(self, command, *args, **kwargs)

    monkeypatch.setattr(gitcmd.Git, "execute", counting)
    write_leaf(ODE, "ode")
    commit("one commit")
    changed_leaves("main")
    assert commands == ["rev-parse", "diff"]
    for number in range(40):
        Path("README.md").write_text(f"take {number}\n", encoding="utf-8")
        commit(f"take {number}")
    commands.clear()
    assert summary(changed_leaves("main")) == [("added", f"{ODE}/qna.yaml", None)]
    assert commands == ["rev-parse", "diff"]


# ---- when git cannot answer: a DiffError that says what to do -------------------------------


def shallow_clone(origin: Path, into: Path) -> None:
    git(
        "clone",
        "--quiet",
        "--depth",
        "1",
        "--branch",
        "contribution",
        f"file://{origin}",
        str(into),
    )


def test_a_shallow_clone_without_the_base_says_to_fetch_more_history(
    taxonomy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """actions/checkout's default depth 1: neither `main` nor the merge base is there. After
    fetching the base tip at depth 1 there is still no merge base; unshallowing fixes it."""
    contribute()
    clone = taxonomy.parent / "clone"
    shallow_clone(taxonomy, clone)
    monkeypatch.chdir(clone)
    with pytest.raises(DiffError, match="not in this shallow clone") as missing:
        changed_leaves("main")
    assert "fetch-depth: 0" in str(missing.value) and "git fetch --unshallow" in str(missing.value)

    git("fetch", "--quiet", "--depth", "1", "origin", "main:refs/remotes/origin/main")
    with pytest.raises(DiffError) as no_base:
        changed_leaves("origin/main")
    assert FETCH_HINT in str(no_base.value) and "no merge base" in str(no_base.value)

    git("fetch", "--quiet", "--unshallow", "origin", "main:refs/remotes/origin/main")
    assert summary(changed_leaves("origin/main")) == EXPECTED


def test_a_ref_git_does_not_know_says_how_to_fetch_it(taxonomy: Path) -> None:
    with pytest.raises(DiffError, match="git does not know `mian`") as bad:
        changed_leaves("mian")
    assert "git fetch origin main" in str(bad.value)
    assert "shallow" not in str(bad.value)


@pytest.mark.parametrize("ref", ["main..HEAD", "--output=x", ""])
def test_a_range_or_an_option_is_not_a_ref(taxonomy: Path, ref: str) -> None:
    with pytest.raises(DiffError, match="is not a git ref"):
        changed_leaves(ref)


def test_a_branch_with_no_shared_history_has_no_merge_base(taxonomy: Path) -> None:
    git("switch", "--quiet", "--orphan", "unrelated")
    write_leaf(ODE, "ode")
    commit("a fresh start")
    with pytest.raises(DiffError, match=r"no merge base .*made from"):
        changed_leaves("main")


def test_a_repository_without_commits_says_so(
    pinned_git: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pinned_git)
    git("init", "--quiet", "-b", "main")
    with pytest.raises(DiffError, match="HEAD has no commit yet"):
        changed_leaves("main")


def test_outside_a_git_repository_names_what_to_do(pinned_git: Path) -> None:
    plain = pinned_git / "plain"
    plain.mkdir()
    with pytest.raises(DiffError, match="is not inside a git repository; run taxonbot in a clone"):
        changed_leaves("main", str(plain))
    with pytest.raises(DiffError, match="no such folder"):
        changed_leaves("main", str(pinned_git / "missing"))


# ---- the command line ----------------------------------------------------------------------


def test_the_text_format_is_one_line_per_leaf_and_a_summary(
    taxonomy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contribute()
    merge_base = git("rev-parse", "main")
    assert main(["diff", "--base", "main"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"renamed   compositional_skills/history/rome/qna.yaml <- {ROME}/qna.yaml",
        f"renamed   compositional_skills/poetry/sonnet/qna.yaml <- {SONNET}/qna.yaml",
        f"changed   {HAIKU}/qna.yaml",
        f"changed   {LIMERICK}/qna.yaml",
        f"added     {ODE}/qna.yaml",
        f"deleted   {OLD}/qna.yaml",
        f"added     {SATURN}/qna.yaml",
        f"7 leaves since the merge base {merge_base[:12]} of `main` and HEAD: "
        "2 added, 2 changed, 2 renamed, 1 deleted",
    ]
    assert err == ""


def test_the_json_format_has_a_stable_documented_shape(
    taxonomy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contribute()
    assert main(["diff", "--base", "main", "--format", "json"]) == 0
    body: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert list(body) == ["format", "base", "merge_base", "head", "leaves"]
    assert body["format"] == "taxonbot-diff/1"
    assert body["base"] == body["merge_base"] == git("rev-parse", "main")
    assert body["head"] == git("rev-parse", "HEAD")
    rome = body["leaves"][0]
    assert rome == {
        "status": "renamed",
        "path": "compositional_skills/history/rome/qna.yaml",
        "old_path": f"{ROME}/qna.yaml",
        "blob": blob("compositional_skills/history/rome/qna.yaml"),
        "root": "compositional_skills",
    }
    assert [(e["status"], e["path"], e["old_path"]) for e in body["leaves"]] == EXPECTED


def test_git_errors_exit_2_with_the_message_and_no_traceback(
    taxonomy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "--base", "mian", "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("taxonbot diff: git does not know `mian`") and "Traceback" not in err


def test_outside_a_repository_the_command_exits_2(
    pinned_git: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(pinned_git)
    assert main(["diff", "--base", "main"]) == 2
    assert "is not inside a git repository" in capsys.readouterr().err


def test_an_unknown_format_is_a_usage_error(
    taxonomy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "--format", "yaml"]) == 2
    assert "invalid choice: 'yaml'" in capsys.readouterr().err


def test_the_default_base_is_origin_main(
    taxonomy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No remote here, so the default names what is missing."""
    assert main(["diff"]) == 2
    assert "`origin/main`" in capsys.readouterr().err


def test_a_leaf_change_compares_by_path_status_and_blob() -> None:
    """The root is derived data: a caller's expected value need not spell it."""
    assert LeafChange("added", "a/qna.yaml", None, "1" * 40, "knowledge") == LeafChange(
        "added", "a/qna.yaml", None, "1" * 40
    )


# ---- a file name a terminal would act on -----------------------------------------------------

# U+202E reorders the rest of the line, U+0085 is a C1 line break, U+2028 a line separator, DEL
# a control: each is legal in a Linux file name and git stores it as it is.
HOSTILE = "knowledge/a\u202eb\x85c\u2028d\x7fe caf\u00e9 \u732b"
HOSTILE_ESCAPED = "knowledge/a\\u202eb\\u0085c\\u2028d\\u007fe café 猫"
HOSTILE_RAW = ("\u202e", "\x85", "\u2028", "\x7f")


@pytest.fixture
def hostile_leaf(taxonomy: Path) -> str:
    write_leaf(HOSTILE, "hostile")
    commit("a leaf whose folder name holds bidi, C1, U+2028 and DEL")
    path = f"{HOSTILE}/qna.yaml"
    assert [c.path for c in changed_leaves("main").changes] == [path]  # git kept the name
    return path


def test_the_json_format_escapes_what_a_terminal_would_act_on(
    hostile_leaf: str, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Each such character is a `\\u` escape in the bytes written (readable non-ASCII stays),
    and the JSON loads back the exact path."""
    assert main(["diff", "--base", "main", "--format", "json"]) == 0
    out = capfdbinary.readouterr().out
    assert f'"path": "{HOSTILE_ESCAPED}/qna.yaml"'.encode() in out
    assert not [raw for raw in HOSTILE_RAW if raw.encode() in out]
    assert json.loads(out)["leaves"][0]["path"] == hostile_leaf


def test_the_text_format_quotes_such_a_path_with_the_same_escapes(
    hostile_leaf: str, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Quoted as a JSON string, the way a name with a newline already was; a bidi override
    alone is enough to quote a name."""
    write_leaf("knowledge/only\u202ebidi", "bidi")
    commit("a leaf whose folder name holds only a bidi override")
    assert main(["diff", "--base", "main"]) == 0
    out = capfdbinary.readouterr().out
    lines = out.decode().split("\n")
    assert lines[:2] == [
        f'added     "{HOSTILE_ESCAPED}/qna.yaml"',
        'added     "knowledge/only\\u202ebidi/qna.yaml"',
    ]
    assert json.loads(lines[0].split(maxsplit=1)[1]) == hostile_leaf
    assert not [raw for raw in HOSTILE_RAW if raw.encode() in out]
