#!/usr/bin/env bash
# The VS Code suites, headless: the unit checks (tsc, ESLint), then both end-to-end layers in
# code-server (scripts/test-e2e.mjs), the whole run bounded by a timeout.
#
#   editor-vscode/scripts/test-e2e.sh [integration|ui] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== editor-vscode: tsc --noEmit"
npx --no-install tsc --noEmit -p .
echo "== editor-vscode: eslint"
npx --no-install eslint src test scripts
echo "== editor-vscode: end-to-end in code-server"
exec timeout --kill-after=10 "${TANDEM_VSCODE_TEST_TIMEOUT:-900}" node scripts/test-e2e.mjs "$@"
