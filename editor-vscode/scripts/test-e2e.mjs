// Runs the extension in a real VS Code (code-server 4.100.3, driven by Debian's chromium through
// playwright-core), against the real `tandem lsp` and the scripted model, in two layers:
//   1. the mocha suite in test/integration, inside the extension host (the `payload` URL), with
//      its exit code read through `codeAutomationExit`;
//   2. a UI end-to-end run of the packaged .vsix: command palette, task stream, CodeLens clicks,
//      save, approval; screenshots go to test-output/vscode/.
// Prints "N passed, N failed" and exits non-zero on any failure. Every wait has a timeout.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { binaries, codeServer, ext, log, out, record, results, stopAll, temps, withTimeout } from "./e2e/harness.mjs";
import { integration } from "./e2e/integration.mjs";
import { ui } from "./e2e/ui.mjs";

const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const keep = process.argv.includes("--keep");



async function main() {
  // Only this run's screenshots and logs: a stale failure picture would mislead.
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  if (!fs.existsSync(codeServer)) throw new Error(`${codeServer} is missing: run scripts/setup-editors.sh vscode`);
  log(`tandem: ${binaries().tandem}`);
  const build = spawnSync("node", ["scripts/build.mjs"], { cwd: ext, stdio: "inherit" });
  if (build.status !== 0) throw new Error("the extension does not build");
  for (const [name, layer] of [
    ["integration", integration],
    ["ui", ui],
  ]) {
    if (only.length && !only.includes(name)) continue;
    log(`layer: ${name}`);
    const started = Date.now();
    try {
      await withTimeout(layer(), 420_000, `layer ${name}`);
    } catch (e) {
      record(`${name}: layer`, false, String(e?.stack ?? e));
    } finally {
      stopAll();
    }
    log(`layer ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

let code = 0;
try {
  await main();
} catch (e) {
  record("setup", false, String(e?.stack ?? e));
} finally {
  stopAll();
  if (!keep) for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  if (results.length === 0) code = 1;
  if (failed > 0) code = 1;
  console.log(`screenshots and logs: ${path.relative(process.cwd(), out) || out}`);
  console.log(`${passed} passed, ${failed} failed`);
}
process.exit(code);
