// A real ACP client for the end-to-end tests: the official ACP TypeScript SDK
// (@agentclientprotocol/sdk, installed by scripts/setup-peers.sh into .ci/node) drives
// `tandem acp` over stdio.
//
//   node acp_client.mjs PLAN_JSON
//
// PLAN_JSON: {"command", "args", "env", "nodeDir", "cwd",
//             "load": SESSION_ID | absent (session/new, with "sessionCwd" and "mcpServers"),
//             "prompts": [{"text", "permission": "allow_once" | "allow_always" | "reject_once"
//                                                | "cancel" (send session/cancel, answer cancelled),
//                          "cancelOnToolCall": "substring of a tool call title" | absent}]}
// It prints one JSON report on stdout: the initialize and session responses, the updates seen
// during session/load (before its response), and for every prompt its updates, the permission
// requests it saw and how it ended. The Rust test asserts on the report.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";

const plan = JSON.parse(process.argv[2]);
const require = createRequire(`${plan.nodeDir}/package.json`);
const acp = await import(pathToFileURL(require.resolve("@agentclientprotocol/sdk")).href);

const child = spawn(plan.command, plan.args, {
  cwd: plan.cwd,
  env: { ...process.env, ...plan.env },
  stdio: ["pipe", "pipe", "inherit"],
});
const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
const stream = acp.ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout));

const report = { prompts: [], loadUpdates: [] };
// Where session/update notifications go right now: the load phase, then each prompt.
let sink = report.loadUpdates;
let current = null;

const app = acp
  .client({ name: "tandem-e2e" })
  .onNotification("session/update", ({ params }) => {
    sink.push(params);
    const u = params.update;
    const want = current?.plan.cancelOnToolCall;
    if (want && !current.cancelSent && u.sessionUpdate === "tool_call" && (u.title ?? "").includes(want)) {
      current.cancelSent = true;
      current.cx.notify("session/cancel", { sessionId: params.sessionId });
    }
  })
  .onRequest("session/request_permission", async ({ params }) => {
    current.entry.permissions.push(params);
    const answer = current.plan.permission ?? "reject_once";
    if (answer === "cancel") {
      // What an editor does when the user cancels while a question is open.
      await current.cx.notify("session/cancel", { sessionId: params.sessionId });
      return { outcome: { outcome: "cancelled" } };
    }
    return { outcome: { outcome: "selected", optionId: answer } };
  });

try {
  await app.connectWith(stream, async (cx) => {
    report.initialize = await cx.request("initialize", {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: "tandem-e2e", version: "1.0.0" },
    });
    let sessionId;
    // A failed session/load or session/new is reported, not thrown: tests check the error.
    const describe = (e) => `${e?.message ?? e} ${JSON.stringify(e?.data ?? null)}`;
    try {
      if (plan.load) {
        report.load = await cx.request("session/load", {
          sessionId: plan.load,
          cwd: plan.cwd,
          mcpServers: [],
        });
        sessionId = plan.load;
      } else {
        report.newSession = await cx.request("session/new", {
          cwd: plan.sessionCwd ?? plan.cwd,
          mcpServers: plan.mcpServers ?? [],
        });
        sessionId = report.newSession.sessionId;
      }
    } catch (e) {
      report.sessionError = describe(e);
      return;
    }
    for (const p of plan.prompts ?? []) {
      const entry = { text: p.text, updates: [], permissions: [] };
      report.prompts.push(entry);
      sink = entry.updates;
      current = { plan: p, entry, cx, cancelSent: false };
      try {
        const response = await cx.request("session/prompt", {
          sessionId,
          prompt: [{ type: "text", text: p.text }],
        });
        entry.stopReason = response.stopReason;
      } catch (e) {
        entry.error = String(e?.message ?? e);
      }
    }
  });
  report.ok = true;
} catch (e) {
  report.ok = false;
  report.error = String(e?.stack ?? e);
} finally {
  child.stdin.end();
}
report.agentExitCode = await exited;
process.stdout.write(JSON.stringify(report) + "\n");
