#!/usr/bin/env bash
# Creates the two Python venvs the tests use, idempotently:
#   .cache/venv-sdk       our SDK (editable) + its dev tools (pytest, ruff, mypy, opentelemetry-sdk, build)
#   .cache/venv-official  the official robotrace-dev==0.3.0 from PyPI + opentelemetry-sdk + pytest
# The two SDKs are the same distribution (`robotrace-dev`), so they must never share a venv.
# A venv is rebuilt only when its requirement files change (a stamp holds their hash).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Test files running in parallel may ask for this at once: one installer at a time, the others wait and reuse it.
mkdir -p "$ROOT/.cache"
exec 9>"$ROOT/.cache/.setup-python.lock"
flock 9
CACHE="$ROOT/.cache"
PYTHON="${ROBOTRACE_PYTHON:-python3}"
mkdir -p "$CACHE"

log() { printf '[setup-python] %s\n' "$*"; }

# ensure_venv <dir> <stamp inputs...> -- <pip install args...>
ensure_venv() {
  local dir="$1"; shift
  local inputs=()
  while [[ "$1" != "--" ]]; do inputs+=("$1"); shift; done
  shift
  local want
  want="$("$PYTHON" --version 2>&1; cat "${inputs[@]}" | sha256sum)"
  if [[ -x "$dir/bin/python" && -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$want" ]] \
    && "$dir/bin/python" -c 'import sys' 2>/dev/null; then
    return 0
  fi
  log "creating ${dir#"$ROOT"/}"
  rm -rf "$dir"
  "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  printf '%s' "$want" >"$dir/.stamp"
}

ensure_venv "$CACHE/venv-sdk" \
  "$ROOT/sdk/python/requirements-dev.txt" "$ROOT/sdk/python/pyproject.toml" -- \
  -r "$ROOT/sdk/python/requirements-dev.txt" -e "$ROOT/sdk/python"

ensure_venv "$CACHE/venv-official" "$ROOT/test/official_sdk/requirements.txt" -- \
  -r "$ROOT/test/official_sdk/requirements.txt"

# The editable install survives source edits; re-check it points at this checkout (the tree may have moved).
if ! "$CACHE/venv-sdk/bin/python" -c 'import pathlib, robotrace, sys; sys.exit(0 if pathlib.Path(robotrace.__file__).resolve().is_relative_to(pathlib.Path(sys.argv[1]).resolve()) else 1)' "$ROOT/sdk/python/src" 2>/dev/null; then
  log "re-linking the editable SDK install"
  "$CACHE/venv-sdk/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$ROOT/sdk/python"
fi
