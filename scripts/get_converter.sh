#!/usr/bin/env bash
# Installs llama.cpp's convert_hf_to_gguf.py (with its own gguf-py) from the pinned
# llama-cpp-python sdist into .venv/share/llama-cpp-converter, for the GGUF export of a build.
# Idempotent. Usage: scripts/get_converter.sh [--force] [--sdist PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m taxonbot.modelbuild.converter_install "$@"
