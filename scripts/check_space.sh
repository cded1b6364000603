#!/usr/bin/env bash
# What a Hugging Face Space does: a fresh virtual environment holding only
# `pip install -r requirements.txt` (no scripts/install.sh, no `pip install -e .`), then the app's
# code run from the repository folder. Checks that the bundled models load and answer there:
# `python -m oracle demo` ingests the bundled notice, generates QA pairs, builds the index and
# answers a question (about 15 min the first time: the install, then the models' one-time
# conversion; seconds of pip when the environment exists already).
#   bash scripts/check_space.sh              venv in $ORACLE_SPACE_VENV (default: a temp folder)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${ORACLE_SPACE_VENV:-$(mktemp -d)/venv}
HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
[ -x "$VENV/bin/python" ] || $PY -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -r requirements.txt
OUT="$HOME_DIR/demo.txt"
if ! HF_HUB_OFFLINE=1 ORACLE_HOME="$HOME_DIR/home" "$VENV/bin/python" -m oracle demo >"$OUT" 2>&1; then
  tail -n 40 "$OUT" >&2
  echo "check_space: the demo failed in an environment holding only requirements.txt" >&2
  exit 1
fi
# The demo ends with the answer's id and how to rate it ("Resposta <id> (… s). Avalie com: …").
if ! grep -q "^Resposta [0-9a-f]\{32\}" "$OUT"; then
  tail -n 40 "$OUT" >&2
  echo "check_space: the demo printed no answer" >&2
  exit 1
fi
grep "^Resposta " "$OUT"
echo "check_space: the app's code answers with the bundled models from requirements.txt alone"
