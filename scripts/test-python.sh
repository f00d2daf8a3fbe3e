#!/usr/bin/env bash
# Everything Python: venvs, lint, format, types, the SDK's unit + integration + packaging tests, and the
# official robotrace-dev 0.3.0 against our server. Needs `node` on PATH (the tests start the built server).
# Exits non-zero when any step fails; every step runs so one report shows all failures.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
SDK="$ROOT/sdk/python"
VENV="$ROOT/.cache/venv-sdk/bin"
OFFICIAL="$ROOT/.cache/venv-official/bin"

bash "$ROOT/scripts/setup-python.sh" || { echo "[test-python] setup failed"; exit 1; }

# The packaging test installs the wheel into a fresh venv of the oldest Python we support, when present.
if [[ -z "${SDK_TEST_PYTHON:-}" ]]; then
  for candidate in python3.9 "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/3.9*/bin/python3.9; do
    if "$candidate" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 9))' >/dev/null 2>&1; then
      export SDK_TEST_PYTHON="$candidate"
      break
    fi
  done
fi

failed=()
step() {
  local name="$1"; shift
  echo "[test-python] $name"
  if ! "$@"; then failed+=("$name"); fi
}

# pytest must not write its cache into the source tree.
export PYTHONDONTWRITEBYTECODE=1
# One ruff configuration (sdk/python/pyproject.toml) for all Python in the repo; the SDK's own run happens
# from its directory so its per-directory settings (src, tests/**) resolve as written.
OTHERS=("$ROOT/test/official_sdk" "$ROOT/bench/sdk-python" "$ROOT/test/faults")
ruff_all() {
  (cd "$SDK" && "$VENV/ruff" "$@" .) && "$VENV/ruff" "$@" --config "$SDK/pyproject.toml" "${OTHERS[@]}"
}
step "ruff check" ruff_all check
step "ruff format --check" ruff_all format --check
step "mypy --strict" bash -c "cd '$SDK' && '$VENV/mypy' --strict"
# Under `npm test` (ROBOTRACE_TEST_REPORTS set by scripts/test.sh) each pytest run leaves a JUnit report there,
# which the closing "N passed, N failed" line counts.
JUNIT_SDK=() JUNIT_OFFICIAL=()
if [[ -n "${ROBOTRACE_TEST_REPORTS:-}" ]]; then
  JUNIT_SDK=("--junitxml=$ROBOTRACE_TEST_REPORTS/python-sdk.xml")
  JUNIT_OFFICIAL=("--junitxml=$ROBOTRACE_TEST_REPORTS/python-official.xml")
fi
step "pytest sdk/python (unit, integration, packaging${SDK_TEST_PYTHON:+ on $("$SDK_TEST_PYTHON" -V 2>&1)})" \
  "$VENV/python" -m pytest -q -p no:cacheprovider "${JUNIT_SDK[@]}" "$SDK/tests"
step "pytest test/official_sdk (robotrace-dev 0.3.0 from PyPI)" \
  "$OFFICIAL/python" -m pytest -q -p no:cacheprovider "${JUNIT_OFFICIAL[@]}" "$ROOT/test/official_sdk"

if ((${#failed[@]})); then
  printf '[test-python] FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "[test-python] all Python checks passed"
