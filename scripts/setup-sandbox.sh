#!/usr/bin/env bash
# Installs what the sandbox's tests and benchmark need (issue 2), idempotently: bubblewrap and
# hyperfine for scripts/bench/sandbox, and the tools the escape suite attacks with or builds
# with (curl, nc, make, gcc, python3, git, unshare). Safe to re-run: when every tool is there
# it does nothing, not even `apt-get update`. Versions are pinned to Debian 12's where that
# version is available, else the distribution's current one is taken (and said so).
#
# It also adds Rust's musl target (rustup), for the static build of the standalone helper:
# without glibc's start-up (dynamic loading, and CPU feature probing that costs ~0.3 ms per
# process on VMs where `cpuid` traps) a one-shot sandbox starts ~0.45 ms sooner. Without the
# target everything still works; scripts/bench/sandbox then measures the glibc build.
#
#   scripts/setup-sandbox.sh
set -euo pipefail

log() { printf '[setup-sandbox] %s\n' "$*" >&2; }

MUSL_TARGET="$(uname -m)-unknown-linux-musl"
if ! command -v rustup >/dev/null 2>&1; then
  log "rustup not found: the static musl build of tandem-sandbox is unavailable (glibc build only)"
elif ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TARGET"; then
  log "rustup target add $MUSL_TARGET"
  rustup target add "$MUSL_TARGET" >&2 || log "could not add $MUSL_TARGET (glibc build only)"
fi

# command  package  pinned version (Debian 12 "bookworm")
TOOLS=(
  "bwrap      bubblewrap      0.8.0-2+deb12u1"
  "hyperfine  hyperfine       1.15.0-2"
  "curl       curl            -"
  "nc         netcat-openbsd  1.219-1"
  "make       make            4.3-4.1"
  "gcc        gcc             -"
  "git        git             -"
  "unshare    util-linux      -"
  "setsid     util-linux      -"
  "nsenter    util-linux      -"
)

missing=()
for line in "${TOOLS[@]}"; do
  read -r cmd pkg ver <<<"$line"
  if ! command -v "$cmd" >/dev/null 2>&1; then
    missing+=("$pkg=$ver")
  fi
done
# The suites run Debian's python3 by absolute path (a pyenv shim is not enough: it writes).
if [ ! -x /usr/bin/python3 ]; then
  missing+=("python3=-")
fi
# A C compiler also needs libc headers.
if [ ! -e /usr/include/stdio.h ]; then
  missing+=("libc6-dev=-")
fi

if [ ${#missing[@]} -eq 0 ]; then
  log "all tools present"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "missing: ${missing[*]%%=*}; run this script as root or install them yourself"
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq

# Deduplicate packages, pin when the pinned version exists in the archive.
declare -A seen=()
args=()
for item in "${missing[@]}"; do
  pkg="${item%%=*}"
  ver="${item#*=}"
  [ -n "${seen[$pkg]:-}" ] && continue
  seen[$pkg]=1
  if [ "$ver" != "-" ] && apt-cache madison "$pkg" 2>/dev/null | awk '{print $3}' | grep -qx "$ver"; then
    args+=("$pkg=$ver")
  else
    [ "$ver" != "-" ] && log "$pkg $ver is not in the archive; installing the current version"
    args+=("$pkg")
  fi
done

log "apt-get install ${args[*]}"
apt-get install -y -qq --no-install-recommends "${args[@]}" >/dev/null

for line in "${TOOLS[@]}"; do
  read -r cmd _ _ <<<"$line"
  command -v "$cmd" >/dev/null 2>&1 || { log "still missing after install: $cmd"; exit 1; }
done
log "ok"
