#!/usr/bin/env bash
# Set up everything, then run the whole test suite with the same gates as pre-commit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh full
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/zizmor --offline .github/workflows
# The full tier: every test, the model ones (training, MiniLM, llama.cpp) and the slow ones too
# (--full collects the modules that import the model stack; -m "" lifts pyproject's
# "not slow and not model"). Plain `pytest` is the fast tier. Branch coverage of taxonbot/,
# CLI subprocesses included (pyproject.toml [tool.coverage]); the floor sits a little below
# the number measured, so that a real drop fails and noise does not.
.venv/bin/python -m coverage erase
.venv/bin/python -m coverage run -m pytest -q --full -m ""
.venv/bin/python -m coverage combine --quiet
.venv/bin/python -m coverage report --fail-under=90 | grep TOTAL
