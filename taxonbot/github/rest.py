"""GitHub's REST JSON to and from the port's values (records.py), for the calls PyGithub has no
object for. GitHub's answers are read defensively: a missing or odd field becomes an empty
value, never a KeyError deep in the bot (only an id or number we cannot do without is required).
"""

from __future__ import annotations

from typing import Any

from taxonbot.github.records import (
    Annotation,
    CheckRunRequest,
    CheckRunState,
    GitTree,
    PullFile,
    PullHead,
    TreeEntry,
)


def as_list(value: Any) -> list[Any]:
    """A JSON list as a list; anything else (an error object, null) as no items."""
    return value if isinstance(value, list) else []


def pull_head(data: Any) -> PullHead:
    """One pull request of "Get a pull request" or "List pull requests"."""
    head, base = data.get("head") or {}, data.get("base") or {}
    head_repo = head.get("repo")
    return PullHead(
        number=int(data["number"]),
        state=str(data.get("state")),
        merged=bool(data.get("merged") or data.get("merged_at")),
        head_sha=str(head.get("sha")),
        head_repo=str(head_repo["full_name"]) if isinstance(head_repo, dict) else None,
        head_ref=str(head.get("ref") or ""),
        base_repo=str((base.get("repo") or {}).get("full_name") or ""),
        changed_files=int(data.get("changed_files") or 0),
    )


def pull_files(data: Any) -> list[PullFile]:
    """One page of "List pull requests files"."""
    return [
        PullFile(str(f["filename"]), str(f["status"]), f.get("previous_filename"))
        for f in as_list(data)
        if isinstance(f, dict) and isinstance(f.get("filename"), str)
    ]


def git_tree(data: Any) -> GitTree:
    """An answer of "Get a tree": its entries (path, mode, sha), and whether GitHub cut them."""
    if not isinstance(data, dict):
        return GitTree((), truncated=True)  # nothing we can read: claim nothing is absent
    entries = tuple(
        TreeEntry(e["path"], str(e.get("mode") or ""), str(e.get("sha") or ""))
        for e in as_list(data.get("tree"))
        if isinstance(e, dict) and isinstance(e.get("path"), str)
    )
    return GitTree(entries, truncated=bool(data.get("truncated")))


def check_run(data: dict[str, Any]) -> CheckRunState:
    """One check run of "List check runs for a Git reference"."""
    app = data.get("app") if isinstance(data.get("app"), dict) else {}
    return CheckRunState(
        id=int(data["id"]),
        name=str(data.get("name")),
        status=str(data.get("status")),
        conclusion=data.get("conclusion") if isinstance(data.get("conclusion"), str) else None,
        external_id=str(data.get("external_id") or ""),
        app_slug=str((app or {}).get("slug") or ""),
    )


def annotation_count(data: Any) -> int:
    """`output.annotations_count` of "Get a check run" (0 when GitHub leaves it out)."""
    output = data.get("output") if isinstance(data, dict) else None
    count = output.get("annotations_count") if isinstance(output, dict) else None
    return count if isinstance(count, int) else 0


def check_run_output(
    request: CheckRunRequest, annotations: tuple[Annotation, ...]
) -> dict[str, Any]:
    """The `output` object of "Create a check run" and "Update a check run"."""
    return {
        "title": request.title,
        "summary": request.summary,
        "annotations": [_annotation(a) for a in annotations],
    }


def _annotation(a: Annotation) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": a.path,
        "start_line": a.start_line,
        "end_line": a.end_line,
        "annotation_level": a.level,
        "title": a.title,
        "message": a.message,
    }
    if a.start_column is not None and a.start_line == a.end_line:
        body["start_column"] = a.start_column
        body["end_column"] = a.end_column if a.end_column is not None else a.start_column
    return body
