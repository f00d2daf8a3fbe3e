#!/usr/bin/env bash
# Installs moto's S3 server (the S3 emulator of the scale-out test) into .cache/venv-moto, idempotently and
# quietly: a second run with the same Python and the same pin returns at once. Prints the venv's python path.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Test files running in parallel may ask for this at once: one installer at a time, the others wait and reuse it.
mkdir -p "$ROOT/.cache"
exec 9>"$ROOT/.cache/.setup-moto.lock"
flock 9
VENV="$ROOT/.cache/venv-moto"
PYTHON="${ROBOTRACE_PYTHON:-python3}"
# Pinned so a new moto release cannot change the emulator under the test.
SPEC='moto[server]==5.2.5'

want="$("$PYTHON" --version 2>&1) $SPEC"
if [[ -x "$VENV/bin/python" && -f "$VENV/.stamp" && "$(cat "$VENV/.stamp")" == "$want" ]] \
  && "$VENV/bin/python" -c 'import moto.server' 2>/dev/null; then
  echo "$VENV/bin/python"
  exit 0
fi

mkdir -p "$ROOT/.cache"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SPEC" >&2
printf '%s' "$want" >"$VENV/.stamp"
echo "$VENV/bin/python"
