#!/usr/bin/env bash
# `npm test`: every test of the project — typecheck, lint, unit, app (the web app in process), integration (PGlite + PostgreSQL),
# end to end (started app, real browser, real SDKs), Python SDK, API fuzzing (schemathesis). Installs what npm does
# not, idempotently.
#
# Each step's full output goes to .cache/test-logs/<step>.log (the tools' own summaries stay there); the terminal
# shows one line per step, the log's tail when a step fails, and last the plain line "N passed, N failed" summed
# over every test the steps ran (Vitest and JUnit reports; typecheck and lint count as one check each).
set -uo pipefail
cd "$(dirname "$0")/.."

LOGS=.cache/test-logs
rm -rf "$LOGS"
mkdir -p "$LOGS"
: >"$LOGS/steps"
export ROBOTRACE_TEST_REPORTS="$PWD/$LOGS"

failed=()
step() {
  local name=$1
  shift
  local t0=$SECONDS status=0
  "$@" >"$LOGS/$name.log" 2>&1 || status=$?
  echo "$name $status" >>"$LOGS/steps"
  if [ "$status" -eq 0 ]; then
    echo "==> $name: ok ($((SECONDS - t0)) s)"
  else
    echo "==> $name: FAILED ($((SECONDS - t0)) s), exit $status — full log: $LOGS/$name.log; its last lines:"
    tail -n 80 "$LOGS/$name.log" | sed 's/^/    /'
    failed+=("$name")
  fi
}

# Vitest with a JSON report beside its log (the summary counts it).
vitest_step() {
  local name=$1
  shift
  step "$name" npx vitest run "$@" --reporter=default --reporter=json --outputFile.json="$LOGS/$name.json"
}

bash scripts/setup-system.sh >"$LOGS/setup-system.log" 2>&1 || { echo "setup-system failed:"; tail -n 40 "$LOGS/setup-system.log"; exit 1; }
# The Python venvs (our SDK with numpy/pyarrow, the official SDK): unit tests already write NPZ/Parquet fixtures with them.
bash scripts/setup-python.sh >"$LOGS/setup-python.log" 2>&1 || { echo "setup-python failed:"; tail -n 40 "$LOGS/setup-python.log"; exit 1; }
# moto (the S3 emulator of the scale-out, deploy and multipart tests), installed once before files run in parallel.
bash scripts/setup-moto.sh >"$LOGS/setup-moto.log" 2>&1 || { echo "setup-moto failed:"; tail -n 40 "$LOGS/setup-moto.log"; exit 1; }
# A real Jaeger v2 for the trace-source tests, built once from the Go module proxy (≈ 4 min on a fresh machine).
bash scripts/setup-jaeger.sh >"$LOGS/setup-jaeger.log" 2>&1 || { echo "setup-jaeger failed:"; tail -n 40 "$LOGS/setup-jaeger.log"; exit 1; }
node scripts/build.mjs >"$LOGS/build.log" 2>&1 || { echo "build failed:"; tail -n 40 "$LOGS/build.log"; exit 1; }

step typecheck npx tsc -p tsconfig.json --noEmit
step lint npx biome check .
vitest_step unit --project unit
vitest_step app --project app
vitest_step integration --project integration --maxWorkers=2
vitest_step faults --project faults --no-file-parallelism
vitest_step e2e --project e2e --no-file-parallelism
step python bash scripts/test-python.sh
step fuzz bash scripts/fuzz.sh

read -r passed failures skipped < <(node scripts/test-summary.mjs "$LOGS")
echo
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED steps: ${failed[*]} (logs in $LOGS)"
fi
if [ "$skipped" -gt 0 ]; then
  echo "${passed} passed, ${failures} failed, ${skipped} skipped"
else
  echo "${passed} passed, ${failures} failed"
fi
[ ${#failed[@]} -eq 0 ] && [ "$failures" -eq 0 ]
