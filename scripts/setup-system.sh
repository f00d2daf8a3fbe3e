#!/usr/bin/env bash
# Installs what the tests need that npm does not: Debian's PostgreSQL server binaries, Chromium and nginx (the
# deploy doc test puts it in front of two instances).
# Idempotent: does nothing when both are present.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/sbin/nginx ] || need+=(nginx)
# The deploy doc test runs DEPLOY.md's own commands, which use these (slim images may lack them).
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v envsubst >/dev/null 2>&1 || need+=(gettext-base)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v python3 >/dev/null 2>&1 || need+=(python3 python3-venv)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: need ${need[*]} — run as root or: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "setup-system: installing ${need[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
# The Debian package starts a cluster of its own; the tests start throwaway clusters instead.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true; done
fi
# Likewise nginx starts on :80 when installed; the tests run their own on free ports.
if [ -x /usr/sbin/nginx ] && [ -f /run/nginx.pid ]; then
  /usr/sbin/nginx -s quit >/dev/null 2>&1 || true
fi
