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
# The full tier: every test, the slow ones (real models through llama.cpp, builds) too; plain
# `pytest` is the fast tier (pyproject.toml: -m "not slow"), and -m "" lifts that filter.
.venv/bin/python -m pytest -q -m ""
