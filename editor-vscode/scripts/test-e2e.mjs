// Runs the extension in a real VS Code (code-server 4.100.3, driven by Debian's chromium through
// playwright-core), against the real `tandem lsp` and the scripted model, in two layers:
//   1. the mocha suite in test/integration, inside the extension host (the `payload` URL), with
//      its exit code read through `codeAutomationExit`;
//   2. a UI end-to-end run of the packaged .vsix: command palette, task stream, CodeLens clicks,
//      save, approval; screenshots go to test-output/vscode/.
// Prints "N passed, N failed" and exits non-zero on any failure. Every wait has a timeout.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";

const ext = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const repo = path.dirname(ext);
const out = path.join(repo, "test-output", "vscode");
const codeServer = path.join(repo, ".ci", "vscode", "node_modules", ".bin", "code-server");
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const keep = process.argv.includes("--keep");

const results = [];
const children = [];
const temps = [];

function log(...a) {
  console.log("[test-e2e]", ...a);
}

function record(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${!ok && detail ? `\n     ${detail.replace(/\n/g, "\n     ")}` : ""}`);
}

function tmp(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-vscode-${prefix}-`));
  temps.push(d);
  return d;
}

function withTimeout(promise, ms, what) {
  let t;
  return Promise.race([promise, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms)))]).finally(() => clearTimeout(t));
}

// --- Binaries ---------------------------------------------------------------------------------

function findBinary(name, envVar) {
  if (process.env[envVar]) return process.env[envVar];
  const dirs = [process.env.CARGO_TARGET_DIR, path.join(repo, "target")].filter(Boolean);
  for (const d of dirs) {
    const p = path.join(d, "debug", name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

function binaries() {
  let tandem = findBinary("tandem", "TANDEM_BIN");
  let model = findBinary("tandem-scripted-model", "TANDEM_SCRIPTED_MODEL_BIN");
  if (!tandem || !model) {
    log("building tandem and tandem-scripted-model (cargo build)");
    const r = spawnSync("cargo", ["build", "-p", "tandem-cli", "-p", "tandem-scripted-model"], { cwd: repo, stdio: "inherit" });
    if (r.status !== 0) throw new Error("cargo build failed");
    tandem = findBinary("tandem", "TANDEM_BIN");
    model = findBinary("tandem-scripted-model", "TANDEM_SCRIPTED_MODEL_BIN");
  }
  if (!tandem || !model) throw new Error("tandem or tandem-scripted-model not found after cargo build");
  return { tandem, model };
}

// --- Processes --------------------------------------------------------------------------------

function start(cmd, args, opts, logFile) {
  const p = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"], detached: true });
  children.push(p);
  const sink = fs.createWriteStream(logFile);
  p.stdout.pipe(sink);
  p.stderr.pipe(sink);
  return p;
}

function stopAll() {
  for (const p of children.splice(0)) {
    try {
      process.kill(-p.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}

async function startModel(scenario, name) {
  const p = start(bins.model, ["--scenario", scenario, "--quiet"], {}, path.join(out, `${name}-model.log`));
  const url = await withTimeout(
    new Promise((resolve, reject) => {
      let buf = "";
      p.stdout.on("data", (d) => {
        buf += d;
        const m = /listening on (\S+)/.exec(buf);
        if (m) resolve(m[1]);
      });
      p.on("exit", (code) => reject(new Error(`tandem-scripted-model exited (${code})`)));
    }),
    15_000,
    "the scripted model to listen",
  );
  const statusUrl = new URL("/_scenario/status", url).toString();
  return { url, status: async () => (await fetch(statusUrl)).json() };
}

function tandemHome(modelUrl) {
  const home = tmp("home");
  fs.writeFileSync(
    path.join(home, "config.toml"),
    `model = "scripted-model"\nmodel_provider = "scripted"\n\n[model_providers.scripted]\nname = "Scripted"\nbase_url = "${modelUrl}"\nwire_api = "responses"\nrequest_max_retries = 2\n`,
  );
  return home;
}

function workspace() {
  const ws = path.join(tmp("ws"), "calc");
  fs.cpSync(path.join(repo, "fixtures", "repos", "calc"), ws, { recursive: true });
  return ws;
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startCodeServer(name, { ws, home, settings, extensionsDir, env = {} }) {
  const data = tmp(`${name}-data`);
  fs.mkdirSync(path.join(data, "User"), { recursive: true });
  fs.writeFileSync(
    path.join(data, "User", "settings.json"),
    JSON.stringify({
      "workbench.startupEditor": "none",
      "security.workspace.trust.enabled": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "workbench.tips.enabled": false,
      "editor.codeLens": true,
      "git.enabled": false,
      ...settings,
    }),
  );
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const args = ["--bind-addr", host, "--auth", "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", "--user-data-dir", data, "--extensions-dir", extensionsDir, ws];
  // The extension host, and so `tandem lsp`, inherit this environment.
  const p = start(codeServer, args, { env: { ...process.env, TANDEM_HOME: home, XDG_CONFIG_HOME: tmp(`${name}-xdg`), ...env } }, path.join(out, `${name}-code-server.log`));
  await withTimeout(
    (async () => {
      for (;;) {
        if (p.exitCode !== null) throw new Error(`code-server exited (${p.exitCode})`);
        try {
          if ((await fetch(`http://${host}/healthz`)).ok) return;
        } catch {
          // Not listening yet.
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })(),
    60_000,
    "code-server to listen",
  );
  return host;
}

async function browser(name) {
  const ctx = await chromium.launchPersistentContext(tmp(`${name}-chrome`), {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const consoleLog = fs.createWriteStream(path.join(out, `${name}-console.log`));
  page.on("console", (m) => consoleLog.write(`${m.type()}: ${m.text()}\n`));
  return { ctx, page };
}

async function modelCheck(name, model) {
  const s = await model.status();
  const clean = s.steps_served === s.steps_total && s.exhausted_requests === 0 && s.failures.length === 0;
  record(`${name}: the scripted model served every step and every expectation held`, clean, clean ? "" : JSON.stringify(s, null, 2));
}

// --- Layer 1: the mocha suite in the extension host -------------------------------------------

async function integration() {
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

// --- Layer 2: the UI, end to end --------------------------------------------------------------

async function ui() {
  log("packaging the .vsix");
  const vsix = path.join(ext, "tandem.vsix");
  fs.rmSync(vsix, { force: true });
  const pkg = spawnSync("npm", ["run", "--silent", "package"], { cwd: ext, encoding: "utf8" });
  record("ui: npm run package builds the .vsix", pkg.status === 0 && fs.existsSync(vsix), pkg.stderr + pkg.stdout);
  const extensionsDir = tmp("ui-ext");
  const inst = spawnSync(codeServer, ["--user-data-dir", tmp("ui-install"), "--extensions-dir", extensionsDir, "--install-extension", vsix], {
    encoding: "utf8",
    env: { ...process.env, XDG_CONFIG_HOME: tmp("ui-install-xdg") },
  });
  const installed = inst.status === 0 && fs.readdirSync(extensionsDir).some((d) => d.startsWith("tandem.tandem-vscode-"));
  record("ui: the .vsix installs in code-server", installed, inst.stderr + inst.stdout);
  if (!installed) return;

  const model = await startModel(path.join(ext, "test", "fixtures", "ui.toml"), "ui");
  const ws = workspace();
  const host = await startCodeServer("ui", {
    ws,
    home: tandemHome(model.url),
    settings: { "tandem.server.path": bins.tandem, "tandem.approvalPolicy": "untrusted", "tandem.sandboxMode": "workspace-write" },
    extensionsDir,
  });
  const { ctx, page } = await browser("ui");
  const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
  const step = async (name, fn) => {
    try {
      await withTimeout(fn(), 60_000, name);
      record(`ui: ${name}`, true);
      return true;
    } catch (e) {
      await shot(`failure-${name.replace(/\W+/g, "-")}`).catch(() => undefined);
      record(`ui: ${name}`, false, String(e?.stack ?? e));
      return false;
    }
  };
  const palette = async (text) => {
    await page.locator(".part.statusbar").click();
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible" });
    await input.pressSequentially(text, { delay: 10 });
    await page.locator(".quick-input-list .monaco-list-row", { hasText: text.replace(/^>\s*/, "") }).first().waitFor();
    await page.keyboard.press("Enter");
  };
  // CodeLens widgets are not in line order in the DOM: pick by position.
  const topmost = async (locator) => {
    const all = await locator.all();
    const ys = await Promise.all(all.map(async (l) => (await l.boundingBox())?.y ?? Infinity));
    return all[ys.indexOf(Math.min(...ys))];
  };
  const taskFrame = () => page.frameLocator("iframe.webview.ready").frameLocator("iframe#active-frame");
  try {
    const ok =
      (await step("the workbench loads with the Tandem status bar item", async () => {
        await page.goto(`http://${host}/?folder=${encodeURIComponent(ws)}`);
        await page.waitForSelector(".monaco-workbench", { timeout: 60_000 });
        await page.locator(".statusbar-item", { hasText: /Auto Context|tokens/ }).first().waitFor({ timeout: 60_000 });
      })) &&
      (await step("calc.py opens", async () => {
        await page.locator(".part.statusbar").click();
        await page.keyboard.press("Control+P");
        await page.locator(".quick-input-widget input").pressSequentially("calc.py", { delay: 10 });
        await page.locator(".quick-input-list .monaco-list-row", { hasText: "calc.py" }).first().waitFor();
        await page.keyboard.press("Enter");
        await page.locator(".monaco-editor .view-line", { hasText: "return a - b" }).waitFor();
      })) &&
      (await step("Tandem: New Task runs from the command palette", async () => {
        await palette("Tandem: New Task");
        const input = page.locator(".quick-input-widget input");
        await page.locator(".quick-input-widget", { hasText: "What should Tandem do?" }).waitFor();
        await input.pressSequentially("fix add() so the tests pass", { delay: 5 });
        await page.keyboard.press("Enter");
      })) &&
      (await step("the task view streams the plan, the command and the messages", async () => {
        const f = taskFrame();
        await f.locator(".msg", { hasText: "add() subtracts" }).waitFor();
        await f.locator(".plan li", { hasText: "Fix add()" }).waitFor();
        await f.locator("details.cmd summary", { hasText: "cat calc.py" }).waitFor();
        await shot("task-stream");
      })) &&
      (await step("the hunks show with CodeLens, highlight and ghost text", async () => {
        await page.locator(".monaco-editor .view-line", { hasText: "return a - b" }).first().click();
        await page.locator(".codelens-decoration a", { hasText: "Accept" }).nth(1).waitFor();
        // Ghost text is drawn by CSS (its content is not in the DOM); the suite checks it, the
        // screenshot shows it.
        await page.locator(".monaco-editor .view-overlays .cdr").first().waitFor({ state: "attached" });
        await shot("review-pending");
      })) &&
      (await step("the diff of the proposal opens beside the file", async () => {
        await palette("Tandem: Open Diff of Proposed Changes");
        await page.locator(".monaco-diff-editor .view-line", { hasText: "return a + b" }).first().waitFor();
        await shot("review-diff");
        await palette("View: Close Editors in Other Groups");
        await page.locator(".monaco-diff-editor").waitFor({ state: "detached" });
      })) &&
      (await step("clicking Accept on the first hunk writes it to the buffer", async () => {
        await topmost(page.locator(".codelens-decoration a", { hasText: "Accept" })).then((l) => l.click());
        await page.locator(".monaco-editor .view-line", { hasText: "return a + b" }).waitFor();
        await page.locator(".codelens-decoration a", { hasText: "Accept" }).nth(1).waitFor({ state: "detached" });
      })) &&
      (await step("clicking Reject on the second hunk drops it", async () => {
        await page.locator(".codelens-decoration a", { hasText: "Reject" }).first().click();
        await page.locator(".codelens-decoration a", { hasText: "Reject" }).waitFor({ state: "detached" });
        await shot("review-decided");
      })) &&
      (await step("after save, the file on disk has the accepted hunk and not the rejected one", async () => {
        await page.locator(".monaco-editor .view-line", { hasText: "return a + b" }).click();
        await page.keyboard.press("Control+S");
        for (;;) {
          const text = fs.readFileSync(path.join(ws, "calc.py"), "utf8");
          if (text.includes("return a + b")) {
            if (text.includes("Multiply") || text.includes("return a - b")) throw new Error(`unexpected calc.py:\n${text}`);
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })) &&
      (await step("the approval notification shows the command and Allow once runs it", async () => {
        const toast = page.locator(".notification-toast", { hasText: "Tandem wants to run" });
        await toast.waitFor();
        await shot("approval");
        if (!(await toast.textContent()).includes("python3 -m unittest -q")) throw new Error("the command is not shown");
        await toast.locator(".monaco-button", { hasText: "Allow once" }).click();
        await taskFrame().locator(".msg", { hasText: "the tests pass" }).waitFor();
        await taskFrame().locator("details.cmd summary", { hasText: "exit 0" }).last().waitFor();
        await shot("task-done");
      })) &&
      (await step("two tasks at once: both approvals wait, and the status bar QuickPick answers each", async () => {
        for (const prompt of ["print forty-two", "print it again"]) {
          await palette("Tandem: New Task");
          await page.locator(".quick-input-widget", { hasText: "What should Tandem do?" }).waitFor();
          await page.locator(".quick-input-widget input").pressSequentially(prompt, { delay: 5 });
          await page.keyboard.press("Enter");
        }
        const item = page.locator(".statusbar-item", { hasText: "2 approvals" });
        await item.waitFor();
        await shot("approvals-queued");
        await item.click();
        const rows = page.locator(".quick-input-list .monaco-list-row", { hasText: "Tandem wants to run" });
        await rows.nth(1).waitFor();
        await shot("approvals-quickpick");
        await rows.first().click();
        await page.locator(".quick-input-list").getByRole("option", { name: "Allow once", exact: true }).click();
        await page.locator(".statusbar-item", { hasText: "1 approval" }).waitFor();
        // The one left comes straight to its options.
        await page.locator(".quick-input-list").getByRole("option", { name: "Deny", exact: true }).click();
        await item.waitFor({ state: "detached" });
        await page.locator(".statusbar-item", { hasText: /approval/ }).waitFor({ state: "detached" });
        for (const prompt of ["print forty-two", "print it again"]) {
          await page.locator(".monaco-list-row", { hasText: prompt }).filter({ hasText: "completed" }).waitFor();
        }
        await shot("tasks-done");
      }));
    if (ok) await modelCheck("ui", model);
  } finally {
    await ctx.close();
  }
}

// --- Main -------------------------------------------------------------------------------------

let bins;
async function main() {
  // Only this run's screenshots and logs: a stale failure picture would mislead.
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  if (!fs.existsSync(codeServer)) throw new Error(`${codeServer} is missing: run scripts/setup-editors.sh vscode`);
  bins = binaries();
  log(`tandem: ${bins.tandem}`);
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
