#!/usr/bin/env bash
# Installs every tool the tests and benchmarks need, pinned, idempotently. Safe to re-run:
# each step checks first and does nothing when its tool is already there.
#
#   scripts/setup.sh            everything
#   scripts/setup.sh --rust     only what the Rust test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

need_apt=()
want() { # want <command> <debian package>
  command -v "$1" >/dev/null 2>&1 || need_apt+=("$2")
}

want bwrap bubblewrap
want hyperfine hyperfine
want curl curl
want nc netcat-openbsd
want make make
want gcc gcc
want rg ripgrep
want strace strace

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing: ${need_apt[*]}; run this script as root (apt-get) or install them yourself"
    exit 1
  fi
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Each part of the project installs its own peers; every script is idempotent and pinned.
for part in setup-sandbox.sh setup-mcp.sh setup-peers.sh setup-editors.sh; do
  if [ -x "scripts/$part" ]; then
    "scripts/$part"
  fi
done

log "ok"
