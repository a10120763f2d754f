// Layer 1: the mocha suite of test/integration inside code-server's extension host, loaded through
// the workbench URL's `payload`; its exit code comes back through `codeAutomationExit`.
import * as fs from "node:fs";
import * as path from "node:path";
import { bins, browser, ext, modelCheck, out, record, startCodeServer, startModel, tandemHome, tmp, withTimeout, workspace } from "./harness.mjs";

export async function integration() {
  const model = await startModel(path.join(ext, "test", "fixtures", "integration.toml"), "integration");
  const ws = workspace();
  const resultsFile = path.join(tmp("results"), "results.json");
  const host = await startCodeServer("integration", {
    ws,
    home: tandemHome(model.url),
    settings: { "tandem.server.path": bins.tandem, "tandem.approvalPolicy": "untrusted", "tandem.sandboxMode": "workspace-write" },
    extensionsDir: tmp("integration-ext"),
    env: { TANDEM_TEST_RESULTS: resultsFile },
  });
  const u = (p) => `vscode-remote://${host}${p}`;
  const payload = JSON.stringify([
    ["extensionDevelopmentPath", u(ext)],
    ["extensionTestsPath", u(path.join(ext, "out", "test", "integration", "index.js"))],
  ]);
  const { ctx, page } = await browser("integration");
  try {
    let exited;
    const exit = new Promise((r) => (exited = r));
    await page.exposeFunction("codeAutomationExit", (code) => exited(code));
    await page.goto(`http://${host}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(payload)}`);
    const code = await withTimeout(exit, 300_000, "the extension-host suite (codeAutomationExit)");
    await page.screenshot({ path: path.join(out, "integration-end.png") }).catch(() => undefined);
    const { total = 0, results: r = [] } = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, "utf8")) : {};
    for (const t of r) record(`integration: ${t.title}`, t.state === "passed", t.error ?? "");
    for (let i = r.length; i < total; i++) record(`integration: test ${i + 1} of ${total}`, false, "not run: an earlier test failed");
    if (r.length === 0) record("integration: the suite ran", false, `no results; exit code ${code}; see test-output/vscode/integration-console.log`);
    if (code !== 0 && !r.some((t) => t.state === "failed")) record("integration: exit code", false, `codeAutomationExit(${code})`);
    await modelCheck("integration", model);
  } finally {
    await ctx.close();
  }
}
