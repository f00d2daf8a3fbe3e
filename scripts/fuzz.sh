#!/usr/bin/env bash
# Fuzzes the HTTP API with schemathesis against a freshly started server, from the served OpenAPI document
# (/api/openapi.json, generated from the Zod contracts). Goal: no 5xx, every response matches its schema.
#
#   bash scripts/fuzz.sh                              the bounded CI run (fixed seed, 30 examples per operation)
#   FUZZ_MAX_EXAMPLES=1000 FUZZ_SEED=$RANDOM bash scripts/fuzz.sh     a longer run with a new seed
#   FUZZ_MAX_TIME=1800 bash scripts/fuzz.sh           a time-boxed run (fuzzing repeats until the time is spent)
#   FUZZ_ARGS='--include-path /api/episodes' bash scripts/fuzz.sh    extra schemathesis options
#
# schemathesis lives in its own venv (.cache/venv-fuzz), (re)created only when its pinned version or the
# Python changes. Reports (JUnit, a pytest file reproducing any failure, the server's log) go to .cache/fuzz-report.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${ROBOTRACE_PYTHON:-python3}"
VENV="$ROOT/.cache/venv-fuzz"
SCHEMATHESIS="schemathesis==4.32.5"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-30}"
SEED="${FUZZ_SEED:-20261124}"
REPORT="$ROOT/.cache/fuzz-report"

log() { printf '[fuzz] %s\n' "$*"; }

want="$("$PYTHON" --version 2>&1) $SCHEMATHESIS"
if [[ ! -x "$VENV/bin/st" || ! -f "$VENV/.stamp" || "$(cat "$VENV/.stamp")" != "$want" ]]; then
  log "creating .cache/venv-fuzz ($SCHEMATHESIS)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SCHEMATHESIS"
  printf '%s' "$want" >"$VENV/.stamp"
fi

node scripts/build.mjs --if-needed

DATA="$(mktemp -d "${TMPDIR:-/tmp}/robotrace-fuzz-XXXXXX")"
mkdir -p "$REPORT"
# This run's own log (a shared path could show another server's URL); copied to the report dir at exit.
SERVER_LOG="$DATA/server.log"
: >"$SERVER_LOG"
API_KEY="rt_fuzz_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  cp "$SERVER_LOG" "$REPORT/server.log" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

# The started server, as `npm start` runs it, with the headless bootstrap: its key is the fuzzer's bearer.
PORT=0 HOST=127.0.0.1 ROBOTRACE_DATA_DIR="$DATA/data" DATABASE_URL='' \
  ROBOTRACE_INIT_EMAIL=fuzz@example.com ROBOTRACE_INIT_PASSWORD="fuzz-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" \
  ROBOTRACE_INIT_PROJECT=fuzz ROBOTRACE_INIT_API_KEY="$API_KEY" \
  ROBOTRACE_RATE_LIMIT_PER_MINUTE=0 ROBOTRACE_PROJECT_RATE_LIMIT_PER_MINUTE=0 \
  node apps/web/dist/main.js >"$SERVER_LOG" 2>&1 &
server_pid=$!
URL=""
for _ in $(seq 1 600); do
  URL="$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$SERVER_LOG" | head -n1 || true)"
  [[ -n "$URL" ]] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    log "the server exited before listening:"
    cat "$SERVER_LOG"
    exit 1
  fi
  sleep 0.1
done
[[ -n "$URL" ]] || { log "the server did not start in 60 s"; cat "$SERVER_LOG"; exit 1; }
log "server at $URL; $MAX_EXAMPLES examples per operation, seed $SEED"

# A well-formed cursor (base64url of {t, id}) for scripts/fuzz.schemathesis.toml.
FUZZ_CURSOR="$(printf '{"t":"2026-01-01T00:00:00.000Z","id":"00000000-0000-4000-8000-000000000000"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')"
export FUZZ_CURSOR
status=0
# From the report dir: schemathesis keeps its example database in ./.schemathesis.
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
(cd "$REPORT" && "$VENV/bin/st" --config-file "$ROOT/scripts/fuzz.schemathesis.toml" run "$URL/api/openapi.json" \
  --header "Authorization: Bearer $API_KEY" \
  --checks all \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 1 \
  --request-timeout 30 \
  ${FUZZ_MAX_TIME:+--max-time "$FUZZ_MAX_TIME"} \
  --report junit,pytest --report-dir "$REPORT" \
  --output-sanitize true \
  --no-color \
  ${FUZZ_ARGS:-}) || status=$?

# A 5xx is a failed check above; an unexpected error the server logged is a failure here too.
if grep -q '"unhandled error"\|unhandled error' "$SERVER_LOG"; then
  log "the server logged unhandled errors:"
  grep 'unhandled error' "$SERVER_LOG" | head -20 | cut -c1-2000
  status=1
fi
# Under `npm test`, this run's JUnit report goes where the closing summary counts it.
if [[ -n "${ROBOTRACE_TEST_REPORTS:-}" ]]; then
  latest="$(ls -t "$REPORT"/junit-*.xml 2>/dev/null | head -n1 || true)"
  [[ -n "$latest" ]] && cp "$latest" "$ROBOTRACE_TEST_REPORTS/fuzz.xml"
fi
if [[ $status -ne 0 ]]; then
  log "FAILED (reports in ${REPORT#"$ROOT"/})"
  exit "$status"
fi
log "no server errors, every response matched its schema"
