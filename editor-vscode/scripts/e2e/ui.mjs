// Layer 2: the packaged .vsix in code-server, driven through the UI as a person would: command
// palette, task stream, CodeLens clicks, save, approvals, Review All of a change to two files.
// Screenshots go to test-output/vscode/.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { bins, browser, codeServer, ext, log, modelCheck, out, record, startCodeServer, startModel, tandemHome, tmp, withTimeout, workspace } from "./harness.mjs";

export async function ui() {
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
  // A line of one side of the open multi-file diff editor ("original": the file, "modified": the proposal).
  const diffLine = (side, text) => page.locator(`.multiDiffEditor .editor.${side} .view-line`, { hasText: text }).first();
  // The hunk keys and menu items follow the cursor through the extension's tandem.hunkAtCursor,
  // which it sets a moment after the cursor moves (a key pressed before that lands does something
  // else: Ctrl+Alt+N is New Untitled File in the browser). The editor's context menu is rebuilt on
  // every opening: open it on the line until it offers `item` (with `offered` false: until it does
  // not, then close it), and return the entry of the open menu.
  const contextMenu = async (side, text, item, offered = true) => {
    const menu = page.locator(".monaco-menu").first();
    for (const end = Date.now() + 30_000; ; ) {
      if (Date.now() > end) throw new Error(`the context menu on "${text}" never ${offered ? "offered" : "dropped"} ${item}`);
      // Forced: once the cursor sits there, its blinking element covers the spot.
      await diffLine(side, text).locator("span").first().click({ button: "right", force: true });
      await menu.waitFor();
      const entry = page.locator(".monaco-menu .action-item", { hasText: item }).first();
      const found = (await entry.count()) > 0;
      if (found && offered) return entry;
      await page.keyboard.press("Escape");
      await menu.waitFor({ state: "detached" });
      if (!found && !offered) return undefined;
    }
  };
  // The menu takes an entry from the keyboard; a click on it is not reliable in the browser.
  const choose = async (entry) => {
    await entry.hover();
    await page.keyboard.press("Enter");
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
      })) &&
      (await step("a notification left over from an answered approval says it no longer waits", async () => {
        // VS Code cannot close the notifications of approvals answered from the QuickPick.
        const stale = page.locator(".notification-toast", { hasText: "Tandem wants to run" }).first();
        await stale.locator(".monaco-button", { hasText: "Allow once" }).click();
        await page.locator(".notification-toast", { hasText: "this approval is no longer waiting" }).waitFor();
        await palette("Notifications: Clear All Notifications");
        await page.locator(".notification-toast").first().waitFor({ state: "detached" });
      })) &&
      (await step("Review All opens both files of a two-file change in one diff, the proposals on the right", async () => {
        await palette("Tandem: New Task");
        await page.locator(".quick-input-widget", { hasText: "What should Tandem do?" }).waitFor();
        await page.locator(".quick-input-widget input").pressSequentially("add sub() and its test", { delay: 5 });
        await page.keyboard.press("Enter");
        await page.locator(".statusbar-item", { hasText: "4 to review" }).waitFor();
        await palette("Tandem: Review All Changes");
        await page.locator(".multiDiffEditor").waitFor();
        for (const text of ['"""A tiny calculator."""', "def sub(a, b):", "from calc import add, mul, sub", "def test_sub(self):"]) {
          await diffLine("modified", text).waitFor();
        }
        await diffLine("original", "from calc import add, mul").waitFor();
        if (await diffLine("original", "from calc import add, mul, sub").count()) throw new Error("the file side already holds the proposal");
        // The diff marks the changes; the Review view lists both files and names each hunk.
        await page.locator(".multiDiffEditor .line-insert").first().waitFor();
        await page.locator(".monaco-list-row", { hasText: "test_calc.py · 2 changes" }).waitFor();
        await page.locator(".monaco-list-row", { hasText: "def sub(a, b):" }).waitFor();
        await shot("review-all");
      })) &&
      (await step("from the proposal side of that diff, the editor's context menu rejects one hunk and accepts another", async () => {
        await choose(await contextMenu("modified", '"""A tiny calculator."""', "Reject Change"));
        await page.locator(".statusbar-item", { hasText: "3 to review" }).waitFor();
        await diffLine("modified", "with a bug for the agent to fix").waitFor();
        await choose(await contextMenu("modified", "return a - b", "Accept Change"));
        await page.locator(".statusbar-item", { hasText: "2 to review" }).waitFor();
        await diffLine("original", "def sub(a, b):").waitFor();
      })) &&
      (await step("in the other file's diff, Ctrl+Alt+Y accepts a hunk and Accept All in File in the title bar the rest", async () => {
        // The key must not meet a stale tandem.hunkAtCursor: see it off on a line without a hunk,
        // then on at the hunk.
        await contextMenu("modified", "import unittest", "Accept Change", false);
        await contextMenu("modified", "def test_sub(self):", "Accept Change");
        await page.keyboard.press("Escape");
        await page.locator(".monaco-menu").first().waitFor({ state: "detached" });
        // Focus back in the editor, on the same line (the closed menu leaves it elsewhere).
        await diffLine("modified", "def test_sub(self):").locator("span").first().click({ force: true });
        await page.keyboard.press("Control+Alt+Y");
        await page.locator(".statusbar-item", { hasText: "1 to review" }).waitFor();
        await diffLine("original", "def test_sub(self):").waitFor();
        await page.locator(".editor-actions .action-label[aria-label^='Accept All in File']").click();
        await diffLine("original", "from calc import add, mul, sub").waitFor();
        // Both sides of every file now agree: the diff marks nothing.
        await page.locator(".multiDiffEditor :is(.line-insert, .line-delete, .char-insert, .char-delete)").first().waitFor({ state: "detached" });
        await page.locator(".statusbar-item", { hasText: "to review" }).waitFor({ state: "detached" });
        await page.locator(".welcome-view-content", { hasText: "No changes are waiting for review." }).waitFor();
        await page.locator(".monaco-list-row", { hasText: "add sub() and its test" }).filter({ hasText: "completed" }).waitFor();
        await shot("review-all-decided");
      })) &&
      (await step("after Save All, both files on disk hold what was accepted and not what was rejected", async () => {
        await palette("File: Save All");
        const read = (f) => fs.readFileSync(path.join(ws, f), "utf8");
        for (;;) {
          const [calc, test] = [read("calc.py"), read("test_calc.py")];
          if (calc.includes("def sub(a, b):") && test.includes("def test_sub(self):")) {
            if (!calc.includes("with a bug for the agent to fix") || !test.includes("from calc import add, mul, sub")) throw new Error(`unexpected files:\n${calc}\n${test}`);
            return;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }));
    if (ok) await modelCheck("ui", model);
  } finally {
    await ctx.close();
  }
}
