#!/usr/bin/env bash
# Installs the real third-party MCP servers that backend/mcp's tests talk to, at pinned versions,
# into .ci/node/ (gitignored, with a private package.json of its own). Idempotent: when the pinned
# versions are already installed it does nothing.
#
#   scripts/setup-mcp.sh
#
# Needs node >= 18 and npm; everything comes from the npm registry, nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup-mcp] %s\n' "$*" >&2; }

# Bump these together with the expectations in backend/mcp/tests (tool names, counts).
EVERYTHING_VERSION=2026.8.31
FILESYSTEM_VERSION=2026.8.31

dir=.ci/node
installed_version() { # installed_version <package>
  node -p "require('./$dir/node_modules/$1/package.json').version" 2>/dev/null || true
}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node and npm are needed (apt-get install nodejs npm, or a node >= 18 from nodejs.org)"
  exit 1
fi

if [ "$(installed_version @modelcontextprotocol/server-everything)" = "$EVERYTHING_VERSION" ] &&
  [ "$(installed_version @modelcontextprotocol/server-filesystem)" = "$FILESYSTEM_VERSION" ] &&
  [ -x "$dir/node_modules/.bin/mcp-server-everything" ] &&
  [ -x "$dir/node_modules/.bin/mcp-server-filesystem" ]; then
  log "MCP servers already installed (everything $EVERYTHING_VERSION, filesystem $FILESYSTEM_VERSION)"
  exit 0
fi

mkdir -p "$dir"
# Other setup steps may share .ci/node; only create the manifest when there is none.
[ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"

log "npm install server-everything@$EVERYTHING_VERSION server-filesystem@$FILESYSTEM_VERSION"
(cd "$dir" && npm_config_yes=true npm install --no-audit --no-fund --save-exact --loglevel=error \
  "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
  "@modelcontextprotocol/server-filesystem@$FILESYSTEM_VERSION" >&2)

for bin in mcp-server-everything mcp-server-filesystem; do
  if [ ! -x "$dir/node_modules/.bin/$bin" ]; then
    log "installed, but $dir/node_modules/.bin/$bin is missing"
    exit 1
  fi
done
log "ok"
