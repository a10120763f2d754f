#!/usr/bin/env bash
# Runs the Neovim plugin's tests: `stylua --check`, then every tests/*_spec.lua (or the specs
# given as arguments) in its own real headless Neovim, against the real `tandem lsp` and the
# scripted model server. Prints `N passed, N failed`; exits non-zero on any failure.
#
#   editor-neovim/tests/run.sh [tests/review_spec.lua ...]
#
# Finds nvim in .ci/venv-nvim (scripts/setup-editors.sh installs it), the binaries in
# $CARGO_TARGET_DIR (default target/)/debug, stylua in .ci/stylua. Override with NVIM,
# TANDEM_BIN, TANDEM_SCRIPTED_MODEL, STYLUA. TANDEM_TEST_FILTER=text runs only matching tests.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
plugin="$(dirname "$here")"
repo="$(dirname "$plugin")"
target="${CARGO_TARGET_DIR:-$repo/target}"

NVIM="${NVIM:-$repo/.ci/venv-nvim/bin/nvim}"
export TANDEM_BIN="${TANDEM_BIN:-$target/debug/tandem}"
export TANDEM_SCRIPTED_MODEL="${TANDEM_SCRIPTED_MODEL:-$target/debug/tandem-scripted-model}"
STYLUA="${STYLUA:-$repo/.ci/stylua/node_modules/.bin/stylua}"
TIMEOUT="${TANDEM_TEST_TIMEOUT:-240}"

missing=0
need() { # need <path> <what> <how to get it>
  if [ ! -x "$1" ]; then
    echo "error: $2 not found at $1: $3" >&2
    missing=1
  fi
}
need "$NVIM" "nvim" "run scripts/setup-editors.sh (or set NVIM)"
need "$TANDEM_BIN" "the tandem binary" "run cargo build -p tandem-cli (or set TANDEM_BIN)"
need "$TANDEM_SCRIPTED_MODEL" "tandem-scripted-model" "run cargo build -p tandem-scripted-model"
need "$STYLUA" "stylua" "run scripts/setup-editors.sh (or set STYLUA)"
if [ "$missing" != 0 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0

echo "== stylua --check editor-neovim"
if "$STYLUA" --check --config-path "$plugin/.stylua.toml" "$plugin"; then
  passed=$((passed + 1))
else
  echo "not ok - stylua --check (run: $STYLUA $plugin)"
  failed=$((failed + 1))
fi

if [ $# -gt 0 ]; then
  specs=("$@")
else
  specs=("$here"/*_spec.lua)
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/tandem-nvim-tests.XXXXXX")"
trap 'rm -rf "$work"' EXIT

for spec in "${specs[@]}"; do
  name="$(basename "$spec" .lua)"
  echo "== $name"
  xdg="$work/$name"
  mkdir -p "$xdg"/{config,data,state,cache,run}
  out="$xdg/output"
  # Each spec gets its own Neovim, its own XDG directories and its own temp dir.
  env XDG_CONFIG_HOME="$xdg/config" XDG_DATA_HOME="$xdg/data" XDG_STATE_HOME="$xdg/state" \
    XDG_CACHE_HOME="$xdg/cache" XDG_RUNTIME_DIR="$xdg/run" TMPDIR="$xdg" \
    NVIM_LOG_FILE="$xdg/nvim.log" \
    timeout --kill-after=10 "$TIMEOUT" "$NVIM" --headless --clean -l "$here/runner.lua" "$spec" \
    >"$out" 2>"$xdg/stderr"
  rc=$?
  grep -v '^# [0-9]* passed, [0-9]* failed$' "$out"
  p=$(grep -c '^ok - ' "$out")
  f=$(grep -c '^not ok - ' "$out")
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$rc" != 0 ] && [ -s "$xdg/stderr" ]; then
    echo "# stderr of $name (end):"
    tail -n 20 "$xdg/stderr" | sed 's/^/#   /'
  fi
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      echo "not ok - $name: timed out after ${TIMEOUT}s"
    else
      echo "not ok - $name: nvim exited with code $rc"
    fi
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
