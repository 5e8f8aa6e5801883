"""Bundle one pull-request run's outputs into result.json (format `taxonbot-result/1`).

pr.yml runs check, diff, gaps and preview with a read-only token, then `taxonbot collect`
writes their JSON into one file, the only thing the privileged comment job ever reads
(docs/bot-design.md). Everything here is plain data in, data out: the command reads the files.

Refusing bad input here, where the contributor's own run shows the message, is kinder than
letting the comment job refuse it later; the comment job still validates again, because an
artifact is whatever the pull request's code wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from taxonbot.errors import Refused
from taxonbot.jsonfile import over_limit
from taxonbot.schemas import BASE_URI, validator

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

FORMAT_ID = "taxonbot-result/1"
SCHEMA_URI = BASE_URI + "result.json"
# Input name (also its command-line flag) -> the `format` its JSON must declare.
INPUT_FORMATS: dict[str, str] = {
    "check": "taxonbot-check/1",
    "diff": "taxonbot-diff/1",
    "gaps": "taxonbot-gaps/1",
    "preview": "taxonbot-preview/1",
}
# A pull request's outputs are tens of kilobytes; the caps only stop a runaway or hostile file.
# The total is below four times the per-input cap so that it means something on its own.
MiB = 1024 * 1024
MAX_INPUT_BYTES = 5 * MiB
MAX_TOTAL_BYTES = 12 * MiB
# What the comment job may cap result.json at: re-encoding can lengthen numbers (1e5 ->
# 100000.0), so the output has headroom over the inputs' total.
MAX_RESULT_BYTES = 16 * MiB
# Our outputs nest about 6 deep; a cap far above that keeps every recursive reader downstream
# (jsonschema, json.dumps, the comment renderer) away from Python's recursion limit.
MAX_DEPTH = 32
_HEAD_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class RunIdentity:
    """Which run made the result: the comment job orders results by (run_id, run_attempt)."""

    head_sha: str
    run_id: int
    run_attempt: int
    pull_request: int | None = None  # a hint for the comment job, which confirms it


@dataclass(frozen=True)
class Problem:
    source: str | None  # an input name, or None for the run identity and the whole result
    message: str


class CollectError(Refused):
    """Every reason the inputs were refused, all at once."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = tuple(problems)


def collect(
    inputs: Mapping[str, bytes | None], run: RunIdentity, sizes: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The result.json document for these raw inputs (None: that step made no output).

    `sizes`: each input file's size on disk, where the caller read only one byte past the cap.
    """
    identity = list(identity_problems(run))
    problems = identity + list(input_set_problems(inputs))
    result: dict[str, Any] = {
        "format": FORMAT_ID,
        "head_sha": run.head_sha,
        "run_id": run.run_id,
        "run_attempt": run.run_attempt,
    }
    if run.pull_request:
        result["pull_request"] = run.pull_request
    for name in INPUT_FORMATS:
        try:
            result[name] = parse_input(name, inputs.get(name), (sizes or {}).get(name))
        except CollectError as exc:
            problems += exc.problems
            result[name] = None  # keeps the schema's verdict on the other inputs readable
    # Our own words for the run identity beat the schema's, which says the same thing.
    problems += [p for p in schema_problems(result) if p.source or not identity]
    if problems:
        raise CollectError(problems)
    size = len(encode(result))
    if size > MAX_RESULT_BYTES:
        _refuse(None, f"result.json would be {over_limit(size, MAX_RESULT_BYTES)}")
    return result


def encode(result: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the artifact's size is what the comment job caps."""
    return json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def identity_problems(run: RunIdentity) -> Iterator[Problem]:
    if not _HEAD_SHA.fullmatch(run.head_sha):
        yield Problem(
            None,
            f"--head-sha must be a full 40-character lowercase hex commit id; "
            f"got {run.head_sha[:60]!r}",
        )
    for flag, value in (("--run-id", run.run_id), ("--run-attempt", run.run_attempt)):
        if value < 1:
            yield Problem(None, f"{flag} must be a positive integer; got {value}")


def input_set_problems(inputs: Mapping[str, bytes | None]) -> Iterator[Problem]:
    for name in inputs:
        if name not in INPUT_FORMATS:
            yield Problem(
                None, f"unknown input {name!r}; the inputs are {', '.join(INPUT_FORMATS)}"
            )
    total = sum(len(raw) for raw in inputs.values() if raw is not None)
    if total > MAX_TOTAL_BYTES:
        yield Problem(
            None, f"the inputs hold {_mib(total)} together; the cap is {_mib(MAX_TOTAL_BYTES)}"
        )


def parse_input(name: str, raw: bytes | None, size: int | None = None) -> dict[str, Any] | None:
    """One input's JSON object, or None when absent; CollectError says why it was refused.

    `size`: the file's size on disk, when `raw` is only its first bytes (one past the cap).
    """
    if raw is None:
        return None
    if len(raw) > MAX_INPUT_BYTES:
        _refuse(name, f"is {over_limit(size or len(raw), MAX_INPUT_BYTES)} for one input")
    try:
        document = json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constant,
        )
    except UnicodeDecodeError as exc:
        _refuse(name, f"is not UTF-8 (byte {exc.start})")
    except RecursionError:
        _refuse(name, "is nested too deeply to be one of taxonbot's outputs")
    except ValueError as exc:  # json.JSONDecodeError, and our hooks' refusals
        _refuse(name, f"is not valid JSON: {exc}")
    if not isinstance(document, dict):
        _refuse(name, f"must hold a JSON object; it holds a {type(document).__name__}")
    if _depth(document) > MAX_DEPTH:
        _refuse(name, f"nests deeper than {MAX_DEPTH} levels; taxonbot's outputs never do")
    _check_format(name, document.get("format"))
    return document


def schema_problems(result: dict[str, Any]) -> list[Problem]:
    """The best-matching schema error per input first, with a count of the rest."""
    by_source: dict[str | None, list[ValidationError]] = {}
    for error in validator(SCHEMA_URI).iter_errors(result):
        source = error.absolute_path[0] if error.absolute_path else None
        by_source.setdefault(source if source in INPUT_FORMATS else None, []).append(error)
    problems = []
    for source, errors in by_source.items():
        leaves = [leaf for error in errors for leaf in _object_branch(error)]
        best = _best(leaves)
        where = _json_path(list(best.absolute_path)[1 if source else 0 :])
        more = f" (and {len(leaves) - 1} more)" if len(leaves) > 1 else ""
        problems.append(Problem(source, f"{where}: {_short(best.message)}{more}"))
    return problems


def _object_branch(error: ValidationError) -> list[ValidationError]:
    """`anyOf: [object, null]` for an input that is not null: only the object branch speaks."""
    if error.validator == "anyOf" and len(error.absolute_path) == 1:
        return [e for e in error.context or () if e.relative_schema_path[0] == 0] or [error]
    return [error]


def _best(errors: list[ValidationError]) -> ValidationError:
    from jsonschema.exceptions import best_match

    found = best_match(errors)
    assert found is not None  # errors is never empty
    return found


def _check_format(name: str, found: object) -> None:
    expected = INPUT_FORMATS[name]
    if found == expected:
        return
    shown = json.dumps(found)[:80] if found is not None else "missing"
    other = next((n for n, f in INPUT_FORMATS.items() if f == found), None)
    hint = f"; that is the {other} output: pass it with --{other}" if other else ""
    _refuse(name, f"has format {shown}; --{name} takes {expected!r}{hint}")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Python keeps the last of two equal keys; a reader elsewhere may keep the first."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise ValueError(f"duplicate key {key!r}")
        document[key] = value
    return document


def _depth(document: object) -> int:
    """How deep objects and arrays nest, without recursion."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _refuse(source: str | None, message: str) -> NoReturn:
    raise CollectError([Problem(source, message)])


def _json_path(parts: list[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _short(message: str, limit: int = 300) -> str:
    """jsonschema quotes whole instances; a 5 MB object is no help in a log."""
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _mib(size: int) -> str:
    return f"{size / MiB:.1f} MiB" if size % MiB else f"{size // MiB} MiB"
