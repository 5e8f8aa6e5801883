"""The `taxonbot / check` check run: the merge gate, planned from the trusted check's report.

Pure. `check_run_request` turns the report into what GitHub's "Create a check run" takes; every
finding becomes an annotation (the API takes 50 per request, so `batches` splits them, and
there is no cap of 10 as for workflow-command annotations). `check_run_writes` compares with the
check runs the commit already has: a run of ours with the same `external_id` (a digest of
everything we would send) means the gate already says this, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict

from taxonbot.check.reporters.report import CheckReport
from taxonbot.github.port import GitHubPort
from taxonbot.github.records import Annotation, CheckRunRequest, CheckRunState
from taxonbot.markdown import code, plural, prose
from taxonbot.taxonomy.findings import Finding, Severity

GATE_NAME = "taxonbot / check"
EXTERNAL_PREFIX = "taxonbot:"
PER_REQUEST = 50  # annotations per create or update request (the Checks API's limit)
MAX_ANNOTATIONS = 1000  # beyond that, the summary says how many more there are
SUMMARY_LIMIT = 60_000  # GitHub: 65,535 characters
MESSAGE_LIMIT = 4_000  # an annotation's message (GitHub: 64 KB)
SUMMARY_ROWS = 50
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning"}


def check_run_request(
    head_sha: str, report: CheckReport, too_large: bool = False
) -> CheckRunRequest:
    failed = report.failed or too_large
    # A finding about the whole pull request (path ".") has no file to sit on: summary only.
    on_files = [f for f in report.findings if f.path not in ("", ".")]
    annotations = tuple(_annotation(f) for f in on_files[:MAX_ANNOTATIONS])
    title = _title(report, failed)
    summary = _summary(report, title)
    digest = hashlib.sha256(
        json.dumps([failed, title, summary, [asdict(a) for a in annotations]]).encode()
    ).hexdigest()[:40]
    return CheckRunRequest(
        name=GATE_NAME,
        head_sha=head_sha,
        conclusion="failure" if failed else "success",
        title=title,
        summary=summary,
        external_id=EXTERNAL_PREFIX + digest,
        annotations=annotations,
    )


def batches(annotations: Sequence[Annotation]) -> Iterator[list[Annotation]]:
    """The annotations after the first 50 (which go with the create), 50 per update."""
    for start in range(PER_REQUEST, len(annotations), PER_REQUEST):
        yield list(annotations[start : start + PER_REQUEST])


def already_published(existing: Sequence[CheckRunState], request: CheckRunRequest) -> bool:
    """The newest of our check runs on this commit already says exactly this."""
    ours = [run for run in existing if run.external_id.startswith(EXTERNAL_PREFIX)]
    return bool(ours) and ours[0].external_id == request.external_id


def impostors(existing: Sequence[CheckRunState]) -> int:
    """Check runs with the gate's name that taxonbot did not publish (a PR can name a workflow
    job `taxonbot / check`); the comment warns maintainers about them."""
    return sum(not run.external_id.startswith(EXTERNAL_PREFIX) for run in existing)


def _title(report: CheckReport, failed: bool) -> str:
    counts = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
    files = plural(len(report.files), "file")
    return f"{counts} in {files}" if failed else f"Passed: {counts} in {files}"


def _summary(report: CheckReport, title: str) -> str:
    lines = [
        f"**{title}.** taxonbot checked this pull request's changed taxonomy files as data, "
        "with the default branch's code (the pull request's own workflow cannot change this "
        "result). Each finding is an annotation on its line under *Files changed*.",
        "",
    ]
    if report.findings:
        lines += ["| | Where | Problem | What to do |", "|---|---|---|---|"]
        for f in report.findings[:SUMMARY_ROWS]:
            icon = "❌" if f.severity is Severity.ERROR else "⚠️"
            where = f"{code(f.path, 200)} line {f.pos.line}"
            lines.append(
                f"| {icon} | {where} | {prose(f.message, 400)} {code(f.rule, 60)} "
                f"| {prose(f.hint, 300)} |"
            )
        if len(report.findings) > SUMMARY_ROWS:
            lines += ["", f"_{len(report.findings) - SUMMARY_ROWS} more: see the annotations._"]
    if len(report.findings) > MAX_ANNOTATIONS:
        more = len(report.findings) - MAX_ANNOTATIONS
        lines += ["", f"_{more} findings beyond the first {MAX_ANNOTATIONS} are not annotated._"]
    summary = "\n".join(lines)
    return summary if len(summary) <= SUMMARY_LIMIT else summary[: SUMMARY_LIMIT - 1] + "…"


def _annotation(f: Finding) -> Annotation:
    message = f"{f.message}\nWhat to do: {f.hint}"
    if len(message) > MESSAGE_LIMIT:
        message = message[: MESSAGE_LIMIT - 1] + "…"
    line = max(1, f.pos.line)
    return Annotation(
        path=f.path,
        start_line=line,
        end_line=line,
        level=LEVELS.get(f.severity, "notice"),
        title=f.rule[:200],
        message=message,
        start_column=max(1, f.pos.col),
        end_column=max(1, f.pos.col),
    )


def publish_check_run(
    port: GitHubPort, repo: str, request: CheckRunRequest, existing: list[CheckRunState]
) -> list[str]:
    """Create the check run with its first 50 annotations, then add the rest 50 at a time;
    nothing when the commit's newest run of ours already says the same."""
    where = f"{request.name} on {request.head_sha[:12]}"
    if already_published(existing, request):
        return [f"{where}: already {request.conclusion}, unchanged"]
    check_id = port.create_check_run(repo, request)
    lines = [f"{where}: {request.conclusion} ({request.title}), check run {check_id}"]
    for batch in batches(request.annotations):
        port.update_check_run(repo, check_id, request, batch)
        lines.append(f"{where}: {len(batch)} more annotations")
    return lines
