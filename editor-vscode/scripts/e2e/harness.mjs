// The end-to-end harness: temporary dirs, the scripted model, a TANDEM_HOME pointing at it, a copy
// of the fixture repo, code-server, headless chromium, and the PASS/FAIL record of every check.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";

export const ext = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
export const repo = path.dirname(ext);
export const out = path.join(repo, "test-output", "vscode");
export const codeServer = path.join(repo, ".ci", "vscode", "node_modules", ".bin", "code-server");

export const results = [];
const children = [];
export const temps = [];

export function log(...a) {
  console.log("[test-e2e]", ...a);
}

export function record(name, ok, detail = "") {
  results.push({ name, ok });
  console.log(`${ok ? "PASS" : "FAIL"} ${name}${!ok && detail ? `\n     ${detail.replace(/\n/g, "\n     ")}` : ""}`);
}

export function tmp(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-vscode-${prefix}-`));
  temps.push(d);
  return d;
}

export function withTimeout(promise, ms, what) {
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

/** The tandem and tandem-scripted-model binaries, once `binaries()` found them. */
export const bins = { tandem: "", model: "" };

export function binaries() {
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
  return Object.assign(bins, { tandem, model });
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

export function stopAll() {
  for (const p of children.splice(0)) {
    try {
      process.kill(-p.pid, "SIGTERM");
    } catch {
      // Already gone.
    }
  }
}

export async function startModel(scenario, name) {
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

export function tandemHome(modelUrl) {
  const home = tmp("home");
  fs.writeFileSync(
    path.join(home, "config.toml"),
    `model = "scripted-model"\nmodel_provider = "scripted"\n\n[model_providers.scripted]\nname = "Scripted"\nbase_url = "${modelUrl}"\nwire_api = "responses"\nrequest_max_retries = 2\n`,
  );
  return home;
}

export function workspace() {
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

export async function startCodeServer(name, { ws, home, settings, extensionsDir, env = {} }) {
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

export async function browser(name) {
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

export async function modelCheck(name, model) {
  const s = await model.status();
  const clean = s.steps_served === s.steps_total && s.exhausted_requests === 0 && s.failures.length === 0;
  record(`${name}: the scripted model served every step and every expectation held`, clean, clean ? "" : JSON.stringify(s, null, 2));
}
