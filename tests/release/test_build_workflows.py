"""The build and release workflows, read as rules: what retrain.yml and release.yml must keep.

- the build checks out the whole history (it credits every contribution since the previous
  build's commit), and keeps no write token;
- the announcement runs in a job of its own after the build: main's code on a hosted runner,
  `pull-requests: write` and `contents: read` only, the build record as data from the runner's
  temp folder, values through env, never `${{ }}` inside `run:`;
- the release summary looks for the tags `taxonbot release cut` writes (TAG_PREFIX);
- every flag the workflows pass to `taxonbot announce` is one the command knows.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from taxonbot.cli import announce
from taxonbot.release.manifest import TAG_PREFIX

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text("utf-8"))
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    assert isinstance(document, dict)
    return document


def steps(job: dict[str, Any], uses: str = "", runs: str = "") -> list[dict[str, Any]]:
    return [
        step
        for step in job["steps"]
        if (uses and step.get("uses", "").startswith(uses))
        or (runs and runs in step.get("run", ""))
    ]


RETRAIN, RELEASE = load("retrain.yml"), load("release.yml")


def test_the_build_checks_out_the_whole_history() -> None:
    (checkout,) = steps(RETRAIN["jobs"]["retrain"], uses="actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False


def test_the_build_job_keeps_no_write_token() -> None:
    assert RETRAIN["jobs"]["retrain"]["permissions"] == {"contents": "read"}


def test_the_release_summary_matches_the_tags_release_cut_writes() -> None:
    (summary,) = steps(RELEASE["jobs"]["summary"], runs="git describe")
    (pattern,) = re.findall(r"--match[= ]'([^']+)'", summary["run"])
    assert pattern == TAG_PREFIX + "*"


@pytest.mark.parametrize(
    ("workflow", "after", "record"),
    [(RETRAIN, "retrain", "build-record-${{ github.sha }}"), (RELEASE, "cut", "release-record")],
    ids=["retrain.yml", "release.yml"],
)
def test_the_announcement_is_a_job_of_its_own_with_only_the_grants_it_needs(
    workflow: dict[str, Any], after: str, record: str
) -> None:
    job = workflow["jobs"]["announce"]
    assert job["needs"] == after
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert job["runs-on"] == "ubuntu-latest", "a hosted runner, not the GPU runner"
    assert "environment" not in job and "secrets." not in yaml.safe_dump(job)
    (checkout,) = steps(job, uses="actions/checkout@")
    assert set(checkout["with"]) == {"persist-credentials"}, "main itself: no ref, no repository"
    assert checkout["with"]["persist-credentials"] is False
    (download,) = steps(job, uses="actions/download-artifact@")
    assert download["with"]["name"] == record
    assert download["with"]["path"].startswith("${{ runner.temp }}/")
    (upload,) = steps(workflow["jobs"][after], uses="actions/upload-artifact@")
    assert upload["with"]["name"] == record, "it reads what the job before it kept"
    for step in job["steps"]:
        assert "${{" not in step.get("run", ""), "values reach run: through env only"
    (post,) = steps(job, runs="taxonbot announce")
    assert set(post["env"]) == {"GITHUB_TOKEN"} and "--post" in post["run"]


def test_the_build_links_its_run_until_the_release_is_out() -> None:
    (post,) = steps(RETRAIN["jobs"]["announce"], runs="taxonbot announce")
    run_url = "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
    assert f'--run-url "{run_url}"' in post["run"]


@pytest.mark.parametrize("workflow", [RETRAIN, RELEASE], ids=["retrain.yml", "release.yml"])
def test_the_workflows_pass_announce_only_flags_it_knows(workflow: dict[str, Any]) -> None:
    (post,) = steps(workflow["jobs"]["announce"], runs="taxonbot announce")
    words = shlex.split(post["run"])
    parser = argparse.ArgumentParser(exit_on_error=False)
    announce.configure(parser)
    args = parser.parse_args(words[words.index("announce") + 1 :])
    assert args.post and args.repo == "$GITHUB_REPOSITORY"
    assert args.build.startswith("$RUNNER_TEMP/")
