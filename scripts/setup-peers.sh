#!/usr/bin/env bash
# Installs the real third-party peers that drive `tandem mcp-server` and `tandem acp` in the
# end-to-end tests (backend/cli/tests/{mcp_server,acp}.rs), pinned, idempotently:
#
#   .ci/venv/   the official MCP Python SDK (PyPI `mcp`), the MCP client of the tests
#   .ci/node/   @modelcontextprotocol/inspector (its `--cli` mode lists our tools) and
#               @agentclientprotocol/sdk (the official ACP TypeScript SDK, for the ACP client)
#
#   scripts/setup-peers.sh
#
# .ci/node is shared with scripts/setup-mcp.sh (the MCP servers the MCP client tests use): this
# script never rewrites its package.json, it only adds its own packages with `npm install
# NAME@VERSION`, which merges them into the existing manifest. Everything comes from PyPI and
# the npm registry; nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup-peers] %s\n' "$*" >&2; }

# Bump these together with backend/cli/tests/peers/ (the Python client uses mcp 2.x's
# snake_case fields; 1.x spelled them camelCase).
MCP_PY_VERSION=2.3.0
# 0.15.0 is the newest Inspector without an `engines: node >= 22` constraint (we run node 20).
INSPECTOR_VERSION=0.15.0
ACP_SDK_VERSION=2.4.0
ZOD_VERSION=3.25.76

venv=.ci/venv
node_dir=.ci/node

# --- Python: the MCP SDK ----------------------------------------------------------------------
if ! command -v python3 >/dev/null 2>&1; then
  log "python3 is needed (apt-get install python3 python3-venv)"
  exit 1
fi
py_installed() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null || true
}
if [ "$(py_installed)" = "$MCP_PY_VERSION" ]; then
  log "mcp $MCP_PY_VERSION already in $venv"
else
  if [ ! -x "$venv/bin/python" ]; then
    log "python3 -m venv $venv"
    python3 -m venv "$venv"
  fi
  log "pip install mcp==$MCP_PY_VERSION"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "mcp==$MCP_PY_VERSION" >&2
  if [ "$(py_installed)" != "$MCP_PY_VERSION" ]; then
    log "pip finished, but mcp $MCP_PY_VERSION is not importable from $venv"
    exit 1
  fi
fi

# --- Node: the Inspector CLI and the ACP SDK -------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "node and npm are needed (apt-get install nodejs npm, or a node >= 20 from nodejs.org)"
  exit 1
fi
node_installed() { # node_installed <package>
  node -p "require('./$node_dir/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [ "$(node_installed @modelcontextprotocol/inspector)" = "$INSPECTOR_VERSION" ] &&
  [ "$(node_installed @agentclientprotocol/sdk)" = "$ACP_SDK_VERSION" ] &&
  [ -n "$(node_installed zod)" ] &&
  [ -x "$node_dir/node_modules/.bin/mcp-inspector" ]; then
  log "inspector $INSPECTOR_VERSION and @agentclientprotocol/sdk $ACP_SDK_VERSION already in $node_dir"
else
  mkdir -p "$node_dir"
  # Other setup scripts share .ci/node; only create the manifest when there is none.
  [ -f "$node_dir/package.json" ] || echo '{"private":true}' >"$node_dir/package.json"
  log "npm install inspector@$INSPECTOR_VERSION @agentclientprotocol/sdk@$ACP_SDK_VERSION"
  (cd "$node_dir" && npm_config_yes=true npm install --no-audit --no-fund --save-exact --loglevel=error \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" \
    "@agentclientprotocol/sdk@$ACP_SDK_VERSION" \
    "zod@$ZOD_VERSION" >&2)
  if [ "$(node_installed @agentclientprotocol/sdk)" != "$ACP_SDK_VERSION" ] ||
    [ ! -x "$node_dir/node_modules/.bin/mcp-inspector" ]; then
    log "npm finished, but the inspector or the ACP SDK is missing from $node_dir"
    exit 1
  fi
fi
log "ok"
