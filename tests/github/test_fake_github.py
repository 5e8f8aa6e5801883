"""The fake GitHub itself, over HTTP: it must be as harsh as GitHub, or the adapter's tests pass
where a real repository would fail (issue 17). Each story is one behaviour the fake cites.

Stories: a token with only pull-requests: write adds a label the repository lacks and is refused;
a fork's commit is unknown to the base repository's commit -> pulls endpoint, so the PR is found
by owner:branch; a PR lists 3000 files at most; contents over 1 MB come back empty; a check run
takes 50 annotations a request and more by PATCH; a 65,537-character comment is refused.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from tests.doubles import payloads
from tests.doubles.fake_github import (
    APP_PERMISSIONS,
    APP_TOKEN,
    COMMENT_JOB,
    DEFAULT_LABELS,
    PAYLOADS,
    USER_TOKEN,
    FakeGitHub,
    no_proxies,
    serve,
    serve_as_actions,
)
from tests.doubles.payloads import (
    deleted_fork_event,
    event_for_pull,
    fork_pull_event,
    merge_group_event,
    pull_entry,
    push_event,
    same_repo_pull_event,
)

REPO, FORK, NUMBER = "community/taxonomy", "contributor/taxonomy", 7
SHA, OTHER = "a" * 40, "b" * 40
LEAF = "compositional_skills/writing/haiku/qna.yaml"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy


@dataclass
class Reply:
    status: int
    body: Any
    headers: Message


def call(
    fake: FakeGitHub,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str = APP_TOKEN,
    raw: bytes | None = None,
    **query: Any,
) -> Reply:
    url = fake.url + urllib.parse.quote(path, safe="/:")
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with OPENER.open(request, timeout=10) as response:
            return Reply(response.status, _json(response.read()), response.headers)
    except urllib.error.HTTPError as error:
        try:
            return Reply(error.code, _json(error.read()), error.headers)
        finally:
            error.close()


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    no_proxies(monkeypatch)
    with serve() as server:
        server.add_pull(REPO, NUMBER, SHA, head_repo=FORK, head_ref="haiku")
        yield server


def labels_of_pull(fake: FakeGitHub) -> list[str]:
    return fake.pulls[(REPO, NUMBER)].labels


# ---- 1. tokens have permissions ------------------------------------------------------------------


def test_a_token_with_only_pull_requests_write_cannot_create_a_label_by_adding_it(
    fake: FakeGitHub,
) -> None:
    fake.grant(APP_TOKEN, {"pull-requests": "write"})
    refused = call(fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/labels", ["kind:skill"])
    assert refused.status == 403
    assert refused.body["message"] == "Resource not accessible by integration"
    assert refused.headers["X-Accepted-GitHub-Permissions"] == "issues=write"
    assert "kind:skill" not in fake.labels_of(REPO) and labels_of_pull(fake) == []
    # A label the repository has is fine with pull-requests: write alone.
    assert call(fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/labels", ["bug"]).status == 200
    assert labels_of_pull(fake) == ["bug"]


def test_a_token_with_issues_write_creates_the_missing_label_on_the_way(fake: FakeGitHub) -> None:
    fake.grant(APP_TOKEN, {"issues": "write"})
    added = call(
        fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/labels", {"labels": ["check:passed"]}
    )
    assert added.status == 200 and [label["name"] for label in added.body] == ["check:passed"]
    assert "check:passed" in fake.labels_of(REPO)


@pytest.mark.parametrize(
    ("granted", "status"),
    [
        ({"issues": "write"}, 201),
        ({"pull-requests": "write"}, 201),
        ({"issues": "read", "pull-requests": "read"}, 403),
        ({}, 403),
    ],
)
def test_a_comment_on_a_pull_request_needs_issues_or_pull_requests_write(
    fake: FakeGitHub, granted: dict[str, str], status: int
) -> None:
    fake.grant(APP_TOKEN, granted)
    posted = call(fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/comments", {"body": "hello"})
    assert posted.status == status
    if status == 403:
        assert (
            posted.headers["X-Accepted-GitHub-Permissions"] == "issues=write; pull_requests=write"
        )


def test_a_check_run_needs_checks_write(fake: FakeGitHub) -> None:
    fake.grant(APP_TOKEN, {"pull-requests": "write", "issues": "write", "checks": "read"})
    posted = call(fake, "POST", f"/repos/{REPO}/check-runs", {"name": "taxonbot", "head_sha": SHA})
    assert (posted.status, posted.headers["X-Accepted-GitHub-Permissions"]) == (403, "checks=write")
    assert fake.check_runs_on(REPO, SHA) == []


def test_a_maintainers_own_token_cannot_create_a_check_run(fake: FakeGitHub) -> None:
    body = {"name": "taxonbot", "head_sha": SHA}
    posted = call(fake, "POST", f"/repos/{REPO}/check-runs", body, token=USER_TOKEN)
    assert (
        posted.status == 403 and posted.body["message"] == "You must authenticate via a GitHub App."
    )


def test_reads_need_a_permission_only_where_the_repository_is_private(fake: FakeGitHub) -> None:
    fake.add_commit(REPO, "c" * 40, {"README.md": b"hi"})
    fake.grant(APP_TOKEN, {"pull-requests": "write"})
    assert call(fake, "GET", f"/repos/{REPO}/contents/README.md").status == 200  # public
    fake.add_repo(REPO, private=True)
    assert call(fake, "GET", f"/repos/{REPO}/contents/README.md").status == 403
    fake.grant(APP_TOKEN, {"contents": "read"})
    assert call(fake, "GET", f"/repos/{REPO}/contents/README.md").status == 200
    fake.scope(APP_TOKEN, ["community/other"])  # GITHUB_TOKEN of another repository's workflow
    assert call(fake, "GET", f"/repos/{REPO}/contents/README.md").status == 404
    assert call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}").status == 404


def test_a_token_issued_for_another_repository_cannot_write_to_a_public_one(
    fake: FakeGitHub,
) -> None:
    fake.scope(APP_TOKEN, ["community/other"])
    posted = call(fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/comments", {"body": "hi"})
    assert posted.status == 403 and fake.comments_on(REPO, NUMBER) == []


def test_the_app_token_holds_the_comment_and_command_jobs_grants_unless_narrowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with serve_as_actions(monkeypatch, REPO) as wide:
        assert wide.permissions[APP_TOKEN] == dict(APP_PERMISSIONS)
    with serve_as_actions(monkeypatch, REPO, permissions=COMMENT_JOB) as narrow:
        narrow.add_run(REPO, "pr.yml", SHA, 501)
        refused = call(narrow, "POST", f"/repos/{REPO}/actions/runs/501/rerun")
        assert refused.status == 403 and narrow.runs[501].reruns == 0  # actions: read only


# ---- 2. repository labels ------------------------------------------------------------------------


def test_a_new_repository_has_githubs_nine_labels_listed_page_by_page(fake: FakeGitHub) -> None:
    first = call(fake, "GET", f"/repos/{REPO}/labels", per_page=5)
    assert [label["name"] for label in first.body] == [n for n, _, _ in DEFAULT_LABELS][:5]
    assert all(label["default"] for label in first.body)
    assert 'rel="next"' in first.headers["Link"]
    second = call(fake, "GET", f"/repos/{REPO}/labels", per_page=5, page=2)
    assert len(second.body) == 4 and "Link" in second.headers  # prev and first
    assert call(fake, "GET", "/repos/community/nowhere/labels").status == 404


def test_creating_a_label_that_exists_in_any_case_is_422_already_exists(fake: FakeGitHub) -> None:
    created = call(
        fake, "POST", f"/repos/{REPO}/labels", {"name": "Check:Passed", "color": "0e8a16"}
    )
    assert created.status == 201 and created.body["color"] == "0e8a16"
    again = call(fake, "POST", f"/repos/{REPO}/labels", {"name": "check:passed"})
    assert again.status == 422
    assert again.body["errors"] == [
        {"resource": "Label", "code": "already_exists", "field": "name"}
    ]
    fake.grant(APP_TOKEN, {"pull-requests": "write"})
    assert call(fake, "POST", f"/repos/{REPO}/labels", {"name": "kind:skill"}).status == 403


def test_a_label_added_in_another_case_keeps_the_repositorys_spelling(fake: FakeGitHub) -> None:
    fake.add_label(REPO, "Kind:Skill", color="c5def5")
    added = call(
        fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/labels", ["kind:skill", "HELP WANTED"]
    )
    assert [label["name"] for label in added.body] == ["Kind:Skill", "help wanted"]
    assert labels_of_pull(fake) == ["Kind:Skill", "help wanted"]
    assert fake.labels_of(REPO).count("Kind:Skill") == 1
    removed = call(fake, "DELETE", f"/repos/{REPO}/issues/{NUMBER}/labels/KIND:SKILL")
    assert removed.status == 200 and labels_of_pull(fake) == ["help wanted"]
    gone = call(fake, "DELETE", f"/repos/{REPO}/issues/{NUMBER}/labels/kind:skill")
    assert (gone.status, gone.body["message"]) == (404, "Label does not exist")


# ---- 3. commit -> pulls --------------------------------------------------------------------------


def test_a_forks_commit_is_unknown_to_the_base_repositorys_commit_pulls(fake: FakeGitHub) -> None:
    assert call(fake, "GET", f"/repos/{REPO}/commits/{SHA}/pulls").body == []
    asked_of_fork = call(fake, "GET", f"/repos/{FORK}/commits/{SHA}/pulls").body
    assert [(p["number"], p["base"]["repo"]["full_name"]) for p in asked_of_fork] == [
        (NUMBER, REPO)
    ]


def test_same_repository_and_merged_pull_requests_are_found_by_commit(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 8, OTHER, head_ref="fix")  # a branch of the repository itself
    fake.add_pull(REPO, 9, "c" * 40, head_repo=FORK)
    fake.close(REPO, 9, merged=True)  # merged: the commit is in the base repository now
    fake.add_pull(REPO, 10, "d" * 40, head_ref="abandoned")
    fake.close(REPO, 10)  # closed unmerged: GitHub lists open or merged ones only
    for sha, numbers in ((OTHER, [8]), ("c" * 40, [9]), ("d" * 40, [])):
        found = call(fake, "GET", f"/repos/{REPO}/commits/{sha}/pulls").body
        assert [p["number"] for p in found] == numbers


# ---- 4. listing pulls ----------------------------------------------------------------------------


def test_a_forks_pull_request_is_found_by_owner_and_branch(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 8, SHA, head_repo="someone-else/taxonomy", head_ref="haiku")
    found = call(fake, "GET", f"/repos/{REPO}/pulls", head="Contributor:haiku").body
    assert [p["number"] for p in found] == [NUMBER]
    assert found[0]["head"]["repo"]["full_name"] == FORK and found[0]["head"]["sha"] == SHA
    assert call(fake, "GET", f"/repos/{REPO}/pulls", head="contributor:other").body == []


def test_a_bare_branch_name_filters_nothing(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 8, OTHER, head_ref="unrelated")
    found = call(fake, "GET", f"/repos/{REPO}/pulls", head="haiku").body
    assert [p["number"] for p in found] == [8, NUMBER]  # newest first, unfiltered


def test_pulls_are_listed_by_state_and_base_a_page_at_a_time(fake: FakeGitHub) -> None:
    for number in range(8, 40):
        fake.add_pull(REPO, number, OTHER, head_ref=f"b{number}", base_ref="next")
    fake.close(REPO, 39)
    assert [
        p["number"] for p in call(fake, "GET", f"/repos/{REPO}/pulls", state="closed").body
    ] == [39]
    first = call(fake, "GET", f"/repos/{REPO}/pulls", base="next")
    assert len(first.body) == 30 and 'rel="next"' in first.headers["Link"]
    every = call(fake, "GET", f"/repos/{REPO}/pulls", state="all", per_page=100).body
    assert len(every) == 33
    assert call(fake, "GET", f"/repos/{REPO}/pulls", state="merged").status == 422


# ---- 5. a pull's JSON ----------------------------------------------------------------------------


def test_a_pull_request_reads_as_github_sends_it(fake: FakeGitHub) -> None:
    fake.set_files(REPO, NUMBER, {LEAF: b"version: 3\n"})
    fake.push(REPO, NUMBER, OTHER)
    pull = call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}").body
    assert pull["head"]["label"] == "contributor:haiku" and pull["head"]["ref"] == "haiku"
    assert pull["head"]["sha"] == OTHER and pull["base"]["repo"]["full_name"] == REPO
    assert pull["head"]["repo"]["fork"] is True
    assert (pull["changed_files"], pull["commits"], pull["additions"]) == (1, 2, 1)
    assert (pull["state"], pull["merged"], pull["user"]["login"]) == ("open", False, "contributor")
    assert pull["author_association"] == "CONTRIBUTOR"


def test_a_deleted_fork_reads_as_a_null_head_repository(fake: FakeGitHub) -> None:
    fake.delete_fork(REPO, NUMBER)
    pull = call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}").body
    assert pull["head"]["repo"] is None
    assert pull["head"]["label"] == "contributor:haiku" and pull["head"]["sha"] == SHA
    assert call(fake, "GET", f"/repos/{REPO}/pulls", head="contributor:haiku").body == []


def test_one_head_commit_can_head_two_open_pull_requests(fake: FakeGitHub) -> None:
    fake.add_pull(REPO, 8, SHA, head_repo=FORK, head_ref="haiku-again")
    heads = [p["head"]["sha"] for p in call(fake, "GET", f"/repos/{REPO}/pulls").body]
    assert heads == [SHA, SHA]


# ---- 6. files of a pull --------------------------------------------------------------------------


def test_a_pull_request_lists_3000_files_at_most_though_it_counts_them_all(
    fake: FakeGitHub,
) -> None:
    fake.set_files(REPO, NUMBER, {f"knowledge/leaf{i:04}/qna.yaml": b"x\n" for i in range(3500)})
    assert call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}").body["changed_files"] == 3500
    assert len(call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}/files").body) == 30  # default
    last = call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}/files", per_page=500, page=30)
    assert len(last.body) == 100 and "next" not in last.headers.get("Link", "")  # 100 at most
    past = call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}/files", per_page=100, page=31)
    assert past.status == 200 and past.body == []


def test_each_file_says_how_it_changed(fake: FakeGitHub) -> None:
    fake.add_commit(REPO, "f" * 40, {"old.yaml": b"a\n", "kept.yaml": b"1\n2\n", "gone.md": b"x\n"})
    fake.add_pull(REPO, 8, OTHER, head_repo=FORK)
    fake.set_files(
        REPO,
        8,
        {"new.yaml": b"n\n", "kept.yaml": b"1\nzwei\n3\n", "gone.md": None, "moved.yaml": b"a\n"},
        renamed={"moved.yaml": "old.yaml"},
    )
    files = {f["filename"]: f for f in call(fake, "GET", f"/repos/{REPO}/pulls/8/files").body}
    assert {name: f["status"] for name, f in files.items()} == {
        "gone.md": "removed",
        "kept.yaml": "modified",
        "moved.yaml": "renamed",
        "new.yaml": "added",
    }
    assert files["moved.yaml"]["previous_filename"] == "old.yaml"
    assert all("previous_filename" not in f for n, f in files.items() if n != "moved.yaml")
    kept = files["kept.yaml"]
    assert (kept["additions"], kept["deletions"], kept["changes"]) == (2, 1, 3)
    assert kept["contents_url"].endswith(f"/repos/{REPO}/contents/kept.yaml?ref={OTHER}")
    assert kept["blob_url"] == f"https://github.com/{REPO}/blob/{OTHER}/kept.yaml"
    assert {"sha", "raw_url", "patch"} <= set(kept)


# ---- 7. contents -------------------------------------------------------------------------------


def test_a_forks_head_is_read_through_the_base_repository(fake: FakeGitHub) -> None:
    text = "version: 3\n" + "task_description: haiku " * 10
    fake.set_files(REPO, NUMBER, {LEAF: text.encode()})
    got = call(fake, "GET", f"/repos/{REPO}/contents/{LEAF}", ref=SHA).body
    assert (got["type"], got["encoding"], got["size"], got["path"]) == (
        "file",
        "base64",
        len(text),
        LEAF,
    )
    assert got["name"] == "qna.yaml" and len(got["sha"]) == 40
    lines = got["content"].split("\n")
    assert lines[-1] == "" and all(len(line) == 60 for line in lines[:-2])  # 60 a line
    assert base64.b64decode(got["content"]).decode() == text
    fake.delete_fork(REPO, NUMBER)  # refs/pull/7/head keeps it in the base repository
    assert call(fake, "GET", f"/repos/{REPO}/contents/{LEAF}", ref=SHA).status == 200


def test_a_commit_only_a_fork_has_is_not_in_the_base_repository(fake: FakeGitHub) -> None:
    fake.add_commit(FORK, "e" * 40, {"x.md": b"x"}, branch=None)  # pushed, no PR yet
    assert call(fake, "GET", f"/repos/{FORK}/contents/x.md", ref="e" * 40).status == 200
    missing = call(fake, "GET", f"/repos/{REPO}/contents/x.md", ref="e" * 40)
    assert (
        missing.status == 404
        and missing.body["message"] == f"No commit found for the ref {'e' * 40}"
    )


def test_big_files_come_without_content_and_huge_ones_not_at_all(fake: FakeGitHub) -> None:
    fake.set_files(
        REPO, NUMBER, {"big.bin": bytes(2 * 1024 * 1024), "huge.bin": bytes(100 * 2**20 + 1)}
    )
    big = call(fake, "GET", f"/repos/{REPO}/contents/big.bin", ref=SHA).body
    assert (big["content"], big["encoding"], big["size"]) == ("", "none", 2 * 1024 * 1024)
    huge = call(fake, "GET", f"/repos/{REPO}/contents/huge.bin", ref=SHA)
    assert huge.status == 403 and huge.body["errors"][0]["code"] == "too_large"


def test_a_folder_answers_a_list_and_binary_files_round_trip(fake: FakeGitHub) -> None:
    image = bytes(range(256))
    fake.set_files(REPO, NUMBER, {LEAF: b"v\n", "compositional_skills/writing/logo.png": image})
    listed = call(fake, "GET", f"/repos/{REPO}/contents/compositional_skills/writing", ref=SHA).body
    assert [(e["name"], e["type"]) for e in listed] == [("haiku", "dir"), ("logo.png", "file")]
    root = call(fake, "GET", f"/repos/{REPO}/contents", ref=SHA).body
    assert [e["name"] for e in root] == ["compositional_skills"]
    png = call(
        fake, "GET", f"/repos/{REPO}/contents/compositional_skills/writing/logo.png", ref=SHA
    )
    assert base64.b64decode(png.body["content"]) == image


def test_a_missing_path_or_an_unknown_ref_is_404(fake: FakeGitHub) -> None:
    fake.set_files(REPO, NUMBER, {LEAF: b"v\n"})
    assert (
        call(fake, "GET", f"/repos/{REPO}/contents/nope.yaml", ref=SHA).body["message"]
        == "Not Found"
    )
    unknown = call(fake, "GET", f"/repos/{REPO}/contents/{LEAF}", ref="c" * 40)
    assert unknown.status == 404
    assert call(fake, "GET", f"/repos/{REPO}/contents/{LEAF}", ref="pull/7/head").status == 200


# ---- 8. check runs -------------------------------------------------------------------------------


def annotation(line: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "path": LEAF,
        "start_line": line,
        "end_line": line,
        "annotation_level": "failure",
        "message": f"problem on line {line}",
        **extra,
    }


def check_run(fake: FakeGitHub, count: int = 0, **extra: Any) -> Reply:
    output = {
        "title": "taxonbot",
        "summary": "3 errors",
        "annotations": [annotation(i + 1) for i in range(count)],
    }
    body = {"name": "taxonbot / check", "head_sha": SHA, "conclusion": "failure", "output": output}
    return call(fake, "POST", f"/repos/{REPO}/check-runs", {**body, **extra})


def test_a_check_run_takes_50_annotations_a_request_and_more_by_patch(fake: FakeGitHub) -> None:
    assert check_run(fake, 51).status == 422
    created = check_run(fake, 50, external_id="run-41")
    assert created.status == 201 and created.body["output"]["annotations_count"] == 50
    assert (created.body["status"], created.body["app"]["slug"]) == ("completed", "github-actions")
    more = {
        "output": {"title": "taxonbot", "summary": "more", "annotations": [annotation(60)] * 50}
    }
    patched = call(fake, "PATCH", f"/repos/{REPO}/check-runs/{created.body['id']}", more)
    assert patched.status == 200 and patched.body["output"]["annotations_count"] == 100
    (run,) = fake.check_runs_on(REPO, SHA)
    assert len(run.annotations) == 100 and run.summary == "more" and run.external_id == "run-41"
    listed = call(
        fake, "GET", f"/repos/{REPO}/check-runs/{run.id}/annotations", per_page=100, page=1
    )
    assert len(listed.body) == 100 and listed.body[0]["blob_href"].endswith(f"/{SHA}/{LEAF}")


def test_a_check_run_needs_a_commit_the_repository_has(fake: FakeGitHub) -> None:
    refused = check_run(fake, head_sha="c" * 40)
    assert (
        refused.status == 422 and refused.body["message"] == f"No commit found for SHA: {'c' * 40}"
    )
    assert call(fake, "POST", "/repos/community/nowhere/check-runs", {"name": "x"}).status == 404


@pytest.mark.parametrize(
    "change",
    [
        {"conclusion": None, "status": "completed"},  # completed needs a conclusion
        {"conclusion": None, "completed_at": "2026-01-01T00:00:00Z"},  # and so does completed_at
        {"conclusion": "passed"},  # not one of GitHub's conclusions
        {"status": "done"},
        {"output": {"title": "no summary"}},
        {"output": {"title": "t", "summary": "s" * 65536}},
        {"output": {"title": "t", "summary": "é" * 32768}},  # 65,536 bytes
        {"output": {"title": "t", "summary": "s", "annotations": [annotation(message=None)]}},
        {
            "output": {
                "title": "t",
                "summary": "s",
                "annotations": [annotation(annotation_level="error")],
            }
        },
        {
            "output": {
                "title": "t",
                "summary": "s",
                "annotations": [annotation(end_line=3, start_column=2)],
            }
        },
    ],
)
def test_a_check_run_github_would_refuse_is_422(fake: FakeGitHub, change: dict[str, Any]) -> None:
    assert check_run(fake, **change).status == 422
    assert fake.check_runs_on(REPO, SHA) == []


def test_one_line_annotations_may_have_columns_and_a_conclusion_completes_the_run(
    fake: FakeGitHub,
) -> None:
    one_line = annotation(4, start_column=3, end_column=9)
    created = check_run(
        fake, status="in_progress", output={"title": "t", "summary": "s", "annotations": [one_line]}
    )
    assert created.status == 201 and created.body["status"] == "completed"  # conclusion given
    assert created.body["details_url"] == created.body["html_url"]


def test_a_patch_replaces_the_output_and_its_text_is_cut_at_65535_bytes(fake: FakeGitHub) -> None:
    created = check_run(fake, output={"title": "t", "summary": "s", "text": "details"})
    url = f"/repos/{REPO}/check-runs/{created.body['id']}"
    assert call(fake, "PATCH", url, {"output": {"summary": "no title"}}).status == 422
    patched = call(fake, "PATCH", url, {"output": {"title": "t2", "summary": "s2"}})
    assert patched.body["output"]["text"] is None  # left out: gone
    long_text = {"output": {"title": "t", "summary": "s", "text": "é" * 40000}}
    cut = call(fake, "PATCH", url, long_text).body["output"]["text"]
    assert cut == "é" * 32767  # 65,534 bytes: whole characters only, no error
    assert call(fake, "PATCH", f"/repos/{REPO}/check-runs/1", {"status": "queued"}).status == 404


def test_check_runs_are_listed_newest_first_and_latest_keeps_one_of_each_name(
    fake: FakeGitHub,
) -> None:
    first = check_run(fake).body["id"]
    second = check_run(fake, conclusion="success").body["id"]
    other = check_run(fake, name="lint", conclusion="success").body["id"]
    latest = call(fake, "GET", f"/repos/{REPO}/commits/{SHA}/check-runs").body
    assert [r["id"] for r in latest["check_runs"]] == [other, second]
    every = call(
        fake,
        "GET",
        f"/repos/{REPO}/commits/{SHA}/check-runs",
        filter="all",
        check_name="taxonbot / check",
    )
    assert (every.body["total_count"], [r["id"] for r in every.body["check_runs"]]) == (
        2,
        [second, first],
    )
    by_branch = call(fake, "GET", f"/repos/{FORK}/commits/haiku/check-runs").body
    assert by_branch["total_count"] == 0  # the fork has none of the base repository's runs
    unknown = call(fake, "GET", f"/repos/{REPO}/commits/nowhere/check-runs")
    assert (unknown.status, unknown.body["message"]) == (404, "No commit found for SHA: nowhere")


def test_a_forks_head_check_run_names_no_pull_request_a_branchs_does(fake: FakeGitHub) -> None:
    assert check_run(fake).body["pull_requests"] == []
    fake.add_pull(REPO, 8, OTHER, head_ref="fix")
    (named,) = check_run(fake, head_sha=OTHER).body["pull_requests"]
    assert set(named) == {"url", "id", "number", "head", "base"} and named["number"] == 8


# ---- 9. comment bodies ---------------------------------------------------------------------------


def test_a_comment_over_65536_characters_is_refused_on_create_and_on_edit(fake: FakeGitHub) -> None:
    path = f"/repos/{REPO}/issues/{NUMBER}/comments"
    assert call(fake, "POST", path, {"body": "x" * 65536}).status == 201
    refused = call(fake, "POST", path, {"body": "x" * 65537})
    assert refused.status == 422
    assert refused.body["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"
    (comment,) = fake.comments_on(REPO, NUMBER)
    edited = call(
        fake, "PATCH", f"/repos/{REPO}/issues/comments/{comment.id}", {"body": "y" * 65537}
    )
    assert edited.status == 422 and comment.body == "x" * 65536


# ---- 10. workflow_run events ---------------------------------------------------------------------


def test_a_same_repository_run_names_its_pull_request_in_the_minimal_shape() -> None:
    event = same_repo_pull_event(REPO, 8, head_sha=OTHER, head_ref="fix", run_id=41)
    run = event["workflow_run"]
    assert (event["action"], run["event"], run["id"], run["head_sha"]) == (
        "completed",
        "pull_request",
        41,
        OTHER,
    )
    assert run["head_repository"]["full_name"] == run["repository"]["full_name"] == REPO
    (entry,) = run["pull_requests"]
    assert (
        set(entry) == {"url", "id", "number", "head", "base"}
        and "full_name" not in entry["head"]["repo"]
    )
    assert entry["head"]["repo"]["name"] == "taxonomy" and entry["url"].startswith(
        "https://api.github.com/"
    )


def test_a_forks_run_names_no_pull_request_and_the_fork_as_head_repository() -> None:
    foreign = pull_entry(FORK, 3, head_sha=SHA)  # a PR inside the fork, as GitHub may name
    event = fork_pull_event(REPO, FORK, head_sha=SHA, head_ref="haiku", extra_pulls=[foreign])
    run = event["workflow_run"]
    assert run["head_repository"]["full_name"] == FORK and run["head_repository"]["fork"] is True
    assert run["repository"]["full_name"] == event["repository"]["full_name"] == REPO
    assert [p["url"] for p in run["pull_requests"]] == [
        f"https://api.github.com/repos/{FORK}/pulls/3"
    ]
    assert fork_pull_event(REPO, FORK, head_sha=SHA)["workflow_run"]["pull_requests"] == []


def test_a_deleted_fork_a_merge_queue_and_a_push_belong_to_no_pull_request() -> None:
    gone = deleted_fork_event(REPO, head_sha=SHA)["workflow_run"]
    assert gone["head_repository"] is None and gone["pull_requests"] == []
    queued = merge_group_event(REPO, 7, head_sha=OTHER, base_sha=SHA)["workflow_run"]
    assert queued["event"] == "merge_group" and queued["pull_requests"] == []
    assert queued["head_branch"] == f"gh-readonly-queue/main/pr-7-{SHA}"
    pushed = push_event(REPO, head_sha=OTHER)["workflow_run"]
    assert (pushed["event"], pushed["head_branch"], pushed["pull_requests"]) == ("push", "main", [])


def test_the_event_follows_the_pull_request_the_fake_knows(fake: FakeGitHub) -> None:
    assert event_for_pull(fake, REPO, NUMBER)["workflow_run"]["pull_requests"] == []
    fake.delete_fork(REPO, NUMBER)
    assert event_for_pull(fake, REPO, NUMBER)["workflow_run"]["head_repository"] is None
    fake.add_pull(REPO, 8, OTHER, head_ref="fix")
    (entry,) = event_for_pull(fake, REPO, 8, run_attempt=2)["workflow_run"]["pull_requests"]
    assert (entry["number"], entry["head"]["ref"]) == (8, "fix")


def test_the_events_have_the_real_payloads_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = PAYLOADS / "workflow_run"
    real = json.loads((folder / "completed.payload.json").read_text("utf-8"))
    with_pulls = json.loads(
        (folder / "completed.with-pull-requests.payload.json").read_text("utf-8")
    )
    event = fork_pull_event(REPO, FORK, head_sha=SHA)
    assert set(event) == set(real) and set(event["workflow_run"]) == set(real["workflow_run"])
    assert set(event["workflow_run"]["head_repository"]) == set(
        real["workflow_run"]["head_repository"]
    )
    assert _shape(pull_entry(REPO, 7, head_sha=SHA)) == _shape(
        with_pulls["workflow_run"]["pull_requests"][0]
    )
    monkeypatch.setattr(payloads, "PAYLOADS", tmp_path)  # no fixture: the built-in shape
    built_in = fork_pull_event(REPO, FORK, head_sha=SHA)
    assert set(built_in["workflow_run"]) == set(real["workflow_run"])
    assert built_in["workflow_run"]["pull_requests"] == []


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


# ---- 11. status codes and headers ---------------------------------------------------------------


def test_refusals_carry_githubs_status_codes_and_every_answer_its_headers(fake: FakeGitHub) -> None:
    answers = [
        call(fake, "GET", f"/repos/{REPO}/pulls/{NUMBER}", token="ghp_revoked"),
        call(fake, "GET", "/repos/community/nowhere"),
        call(fake, "GET", f"/repos/{REPO}/pulls/999"),
        call(fake, "PATCH", f"/repos/{REPO}/issues/comments/1", {"body": "x"}),
        call(fake, "GET", f"/repos/{REPO}/check-runs/1"),
        call(fake, "POST", f"/repos/{REPO}/issues/{NUMBER}/comments", raw=b"{not json"),
        call(fake, "GET", f"/repos/{REPO}"),
    ]
    assert [a.status for a in answers] == [401, 404, 404, 404, 404, 400, 200]
    assert [a.body.get("status") for a in answers[:-1]] == [
        "401",
        "404",
        "404",
        "404",
        "404",
        "400",
    ]
    assert answers[0].body["message"] == "Bad credentials"
    assert all(a.headers["Content-Type"] == "application/json; charset=utf-8" for a in answers)
    ids = {a.headers["X-GitHub-Request-Id"] for a in answers}
    assert len(ids) == len(answers)
