#!/usr/bin/env bash
# `npm test`: every test of the project — typecheck, lint, unit, integration (PGlite + PostgreSQL),
# end to end (started app, real browser, real SDKs), Python SDK, API fuzzing (schemathesis). Installs what npm does not, idempotently.
set -uo pipefail
cd "$(dirname "$0")/.."

failed=()
steps=0
step() {
  local name=$1
  steps=$((steps + 1))
  shift
  echo
  echo "==> $name"
  local t0=$SECONDS
  if "$@"; then
    echo "<== $name: ok ($((SECONDS - t0)) s)"
  else
    echo "<== $name: FAILED ($((SECONDS - t0)) s)"
    failed+=("$name")
  fi
}

bash scripts/setup-system.sh || { echo "setup-system failed"; exit 1; }
node scripts/build.mjs || { echo "build failed"; exit 1; }

step typecheck npx tsc -p tsconfig.json --noEmit
step lint npx biome check .
step unit npx vitest run --project unit
step integration npx vitest run --project integration --no-file-parallelism
step e2e npx vitest run --project e2e --no-file-parallelism
step python bash scripts/test-python.sh
step fuzz bash scripts/fuzz.sh

echo
passed=$((steps - ${#failed[@]}))
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  echo "steps: ${passed} passed, ${#failed[@]} failed"
  exit 1
fi
echo "steps: ${passed} passed, 0 failed"
