#!/usr/bin/env bash
# Builds a real Jaeger v2 (all-in-one: OTLP in on :4318, query API on :16686) from the Go module proxy, once, into
# .cache/jaeger/jaeger. The trace-source tests start it on free ports. Idempotent: a stamp holds the version.
# Takes ≈ 4 min of CPU on a fresh machine (Go module download + build); nothing happens when the binary is there.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Test files running in parallel may ask for this at once: one installer at a time, the others wait and reuse it.
mkdir -p "$ROOT/.cache"
exec 9>"$ROOT/.cache/.setup-jaeger.lock"
flock 9
VERSION="${JAEGER_VERSION:-v1.76.0}"
DIR="$ROOT/.cache/jaeger"
BIN="$DIR/jaeger"

if [[ -x "$BIN" && -f "$DIR/.stamp" && "$(cat "$DIR/.stamp")" == "$VERSION" ]]; then
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "setup-jaeger: needs Go (go.dev toolchain or Debian's golang)" >&2; exit 1; }
echo "setup-jaeger: building jaeger $VERSION (once; ≈ 4 min)"
MOD="$DIR/toolmod"
rm -rf "$MOD"
mkdir -p "$MOD"
cd "$MOD"
go mod init robotrace.local/jaeger-tool >/dev/null 2>&1
go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$VERSION" >/dev/null 2>&1
go build -o "$BIN.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
mv "$BIN.tmp" "$BIN"
printf '%s' "$VERSION" >"$DIR/.stamp"
echo "setup-jaeger: $("$BIN" version 2>/dev/null | head -c 200 || echo built)"
