// Extension-host integration tests: the real extension in code-server's extension host, against
// the real `tandem lsp` and the scripted model (test/fixtures/integration.toml), on a copy of
// fixtures/repos/calc with approvalPolicy "untrusted" (so patches are reviewed before writing).
// The tests run in order and share one session, as a person's would.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import * as vscode from "vscode";
import type { Ext } from "../../src/ext";

const EXTENSION_ID = "tandem.tandem-vscode";

async function api(): Promise<Ext> {
  const e = vscode.extensions.getExtension<Ext>(EXTENSION_ID);
  assert.ok(e, `${EXTENSION_ID} is installed`);
  return e.isActive ? e.exports : await e.activate();
}

/** Polls `fn` until it returns something truthy; fails with `what` and the last value. */
async function waitFor<T>(what: string, fn: () => T | Promise<T>, ms = 30_000): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      last = e as T;
    }
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const root = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const calcUri = () => vscode.Uri.file(path.join(root(), "calc.py"));

async function calcEditor(): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(calcUri());
  return vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.One });
}

async function runCodeAction(uri: vscode.Uri, line: number, title: string): Promise<void> {
  const actions = await waitFor(`code action "${title}" on line ${line + 1}`, async () => {
    const all = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
      "vscode.executeCodeActionProvider",
      uri,
      new vscode.Range(line, 0, line, 0),
    );
    return all?.find((a) => a.title === title) ? all : undefined;
  });
  const action = actions.find((a) => a.title === title)!;
  // What the lightbulb does: apply the edit, if any, then run the command.
  const cmd = "command" in action && typeof action.command === "object" ? action.command : (action as vscode.Command);
  if ("edit" in action && action.edit) await vscode.workspace.applyEdit(action.edit);
  assert.ok(cmd?.command, `"${title}" carries a command`);
  await vscode.commands.executeCommand(cmd.command, ...(cmd.arguments ?? []));
}

describe("Tandem in VS Code", function () {
  let ext: Ext;
  let taskId: string;

  it("activates and starts tandem lsp", async () => {
    ext = await api();
    await waitFor("the server to run", () => ext.backend.running);
    assert.ok(ext.backend.supports("tandem/focus"), "the server announces the tandem extensions");
    assert.equal(ext.backend.starts, 1);
    const commands = await vscode.commands.getCommands(true);
    for (const c of ["tandem.newTask", "tandem.acceptHunk", "tandem.rejectFile", "tandem.reviewAll", "tandem.showApprovals"]) {
      assert.ok(commands.includes(c), `${c} is registered`);
    }
  });

  it("sends the focus and selection, which Auto Context previews", async () => {
    const editor = await calcEditor();
    editor.selection = new vscode.Selection(4, 0, 4, editor.document.lineAt(4).text.length);
    const preview = await waitFor("a selection item for calc.py", async () => {
      const p = await ext.backend.request("tandem/context/preview", {});
      return p.items.some((i) => i.kind === "selection" && i.uri.endsWith("/calc.py") && i.text.includes("return a - b")) ? p : undefined;
    });
    assert.ok(preview.enabled);
    assert.ok(preview.totalTokens > 0);
    await waitFor("the status bar token count", () => /\d+(\.\d)?k? tokens/.test(ext.status.context.text));
  });

  it("forwards other servers' diagnostics, and previews Auto Context as a document", async () => {
    // A diagnostic collection of this test stands for another language server.
    const other = vscode.languages.createDiagnosticCollection("other-server");
    other.set(calcUri(), [new vscode.Diagnostic(new vscode.Range(4, 4, 4, 16), "add() subtracts", vscode.DiagnosticSeverity.Error)]);
    await waitFor("the diagnostic in Auto Context", async () => {
      const p = await ext.backend.request("tandem/context/preview", {});
      return p.items.some((i) => i.kind === "diagnostics" && i.text.includes("add() subtracts"));
    });
    await vscode.commands.executeCommand("tandem.showContext");
    const doc = await waitFor("the preview document", () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === "tandem-context"));
    await waitFor("the preview to list the selection", () => doc.getText().startsWith("# Auto Context: on") && doc.getText().includes("return a - b"));
    await vscode.commands.executeCommand("tandem.disableAutoContext");
    await waitFor("the preview to say it is off", () => doc.getText().startsWith("# Auto Context: off"));
    assert.equal((await ext.backend.request("tandem/context/preview", {})).enabled, false);
    await vscode.commands.executeCommand("tandem.enableAutoContext");
    await waitFor("the preview to say it is on", () => doc.getText().startsWith("# Auto Context: on"));
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    other.dispose();
  });

  it("runs a task that proposes two hunks for review", async () => {
    await calcEditor();
    taskId = await vscode.commands.executeCommand<string>("tandem.newTask", "fix add() and document mul()");
    assert.match(taskId, /\S/);
    const hunks = await waitFor("two pending hunks in calc.py", () => {
      const h = ext.review.hunks(calcUri());
      return h.length === 2 && h.every((x) => x.hunk.state === "pending") ? h : undefined;
    });
    assert.equal(hunks[0].model, "approveBeforeWrite");
    assert.deepEqual(
      hunks.map((h) => h.hunk.range.start.line),
      [4, 8],
    );
    assert.equal(hunks[0].hunk.oldText, "    return a - b\n");
    assert.equal(hunks[0].hunk.newText, "    return a + b\n");
    assert.equal(hunks[1].hunk.newText, '    """Multiply a by b."""\n');
    // Nothing is written before it is accepted.
    assert.equal((await calcEditor()).document.lineAt(4).text, "    return a - b");
    await waitFor("the agent message in the task view", () => ext.taskView.body().includes("I will fix add()"));
    assert.ok(ext.tasks.list().some((t) => t.taskId === taskId));
    assert.equal(ext.reviewTree.view.badge?.value, 2);
  });

  it("decorates the hunks and shows Accept | Reject CodeLens at their lines", async () => {
    await calcEditor();
    const painted = await waitFor("decorations on calc.py", () => {
      const p = ext.decorations.painted.get(calcUri().toString());
      return p && p.removed.length === 1 && p.ghostAdded.length === 2 ? p : undefined;
    });
    assert.equal(painted.removed[0].range.start.line, 4, "the line to go is highlighted");
    const ghosts = painted.ghostAdded.map((d) => [d.range.start.line, d.renderOptions?.after?.contentText]);
    assert.deepEqual(ghosts, [
      [4, "+ return a + b"],
      [7, '+ """Multiply a by b."""'],
    ]);
    const lenses = await waitFor("four CodeLens", async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", calcUri());
      return l?.length === 4 ? l : undefined;
    });
    const shown = lenses.map((l) => [l.range.start.line, l.command?.title]).sort();
    assert.deepEqual(shown, [
      [4, "$(check) Accept"],
      [4, "$(close) Reject"],
      [8, "$(check) Accept"],
      [8, "$(close) Reject"],
    ]);
  });

  it("opens a diff with the proposal as a virtual document", async () => {
    await vscode.commands.executeCommand("tandem.openDiff", calcUri());
    const side = await waitFor("the proposed side", () =>
      vscode.workspace.textDocuments.find((d) => d.uri.scheme === "tandem-review" && d.uri.path.endsWith("/calc.py")),
    );
    assert.ok(side.getText().includes("    return a + b\n"));
    assert.ok(side.getText().includes('"""Multiply a by b."""'));
    await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
  });

  it("accepts the first hunk through the code action", async () => {
    const editor = await calcEditor();
    await runCodeAction(calcUri(), 4, "Accept change");
    await waitFor("the accepted text in the buffer", () => editor.document.lineAt(4).text === "    return a + b");
    const left = await waitFor("one hunk left", () => {
      const h = ext.review.hunks(calcUri());
      return h.length === 1 ? h : undefined;
    });
    assert.equal(left[0].hunk.range.start.line, 8);
  });

  it("keeps the other hunk anchored while the user types above it", async () => {
    const editor = await calcEditor();
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), "# edited by the test\n# twice\n"));
    await waitFor("the hunk to move down two lines", () => ext.review.hunks(calcUri())[0]?.hunk.range.start.line === 10);
    await waitFor("the ghost text to follow", () => ext.decorations.painted.get(calcUri().toString())?.ghostAdded[0]?.range.start.line === 9);
    const lenses = await waitFor("the CodeLens to follow", async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>("vscode.executeCodeLensProvider", calcUri());
      return l?.length === 2 && l.every((x) => x.range.start.line === 10) ? l : undefined;
    });
    assert.equal(lenses.length, 2);
  });

  it("rejects the other hunk through the code action, leaving the expected text", async () => {
    const editor = await calcEditor();
    await runCodeAction(calcUri(), 10, "Reject change");
    await waitFor("no hunk left", () => ext.review.hunks(calcUri()).length === 0);
    const expected = [
      "# edited by the test",
      "# twice",
      '"""A tiny calculator, with a bug for the agent to fix."""',
      "",
      "",
      "def add(a, b):",
      "    return a + b",
      "",
      "",
      "def mul(a, b):",
      "    return a * b",
      "",
    ].join("\n");
    assert.equal(editor.document.getText(), expected);
    await waitFor("the task to complete after the review", () => ext.tasks.tasks.get(taskId)?.status === "completed");
    await waitFor("the model's answer in the task view", () => ext.taskView.body().includes("Review noted"));
    assert.equal(ext.reviewTree.view.badge, undefined);
    assert.ok(await editor.document.save(), "saved");
  });

  it("asks for approval of a command, and runs it once allowed", async () => {
    const second = await vscode.commands.executeCommand<string>("tandem.newTask", "run the tests");
    const pending = await waitFor("an approval request", () => [...ext.approvals.pending.values()][0]);
    assert.equal(pending.params.taskId, second);
    assert.equal(pending.params.kind, "command");
    assert.deepEqual(pending.params.command, ["python3", "-m", "unittest", "-q"]);
    assert.equal(pending.params.cwd, root());
    assert.ok(pending.params.options.includes("allow_once"));
    await waitFor("the status bar to ask", () => ext.status.agent.text.includes("1 approval"));
    assert.ok(ext.approvals.answer(pending.key, "allow_once"));
    assert.equal(ext.approvals.pending.size, 0);
    await waitFor("the second task to complete", () => ext.tasks.tasks.get(second)?.status === "completed");
    const t = ext.tasks.tasks.get(second)!;
    const cmd = [...t.items.values()].find((i) => i.type === "command_execution");
    assert.ok(cmd && cmd.type === "command_execution");
    assert.equal(cmd.exit_code, 0, cmd.aggregated_output);
    assert.match(cmd.aggregated_output, /Ran 2 tests/);
    assert.ok(ext.taskView.body().includes("The tests ran.") || ext.taskView.selected === second);
  });

  it("keeps several pending approvals from concurrent tasks, and answers each", async () => {
    const a = await vscode.commands.executeCommand<string>("tandem.newTask", "first of two");
    const b = await vscode.commands.executeCommand<string>("tandem.newTask", "second of two");
    await waitFor("two approvals pending", () => ext.approvals.pending.size === 2);
    await waitFor("the status bar to count them", () => ext.status.agent.text.includes("2 approvals"));
    const [first, second] = [...ext.approvals.pending.values()];
    assert.deepEqual(new Set([first.params.taskId, second.params.taskId]), new Set([a, b]));
    assert.ok(ext.approvals.answer(first.key, "allow_once"));
    assert.equal(ext.approvals.pending.size, 1, "the other one is still pending");
    assert.ok(ext.approvals.answer(second.key, "deny"));
    await waitFor("both tasks to complete", () => ext.tasks.tasks.get(a)?.status === "completed" && ext.tasks.tasks.get(b)?.status === "completed");
    // Events may beat the start answer; the tree still names each task by its prompt.
    assert.equal(ext.tasks.tasks.get(a)?.prompt, "first of two");
    assert.equal(ext.tasks.tasks.get(b)?.prompt, "second of two");
    const outputs = [a, b].map((id) => {
      const cmd = [...ext.tasks.tasks.get(id)!.items.values()].find((i) => i.type === "command_execution");
      return cmd?.type === "command_execution" ? cmd.aggregated_output : "";
    });
    const allowed = first.params.taskId === a ? 0 : 1;
    assert.match(outputs[allowed], /42/);
  });

  it("lets an unanswered approval time out as the server's setting says", async () => {
    await vscode.workspace.getConfiguration("tandem").update("approvalTimeoutSeconds", 2, vscode.ConfigurationTarget.Global);
    const id = await vscode.commands.executeCommand<string>("tandem.newTask", "ask and wait");
    await waitFor("an approval request", () => ext.approvals.pending.size === 1);
    const asked = Date.now();
    // The server denies at 2 s; this client would only give up at 2 + 5 s.
    await waitFor("the server to deny it and the task to complete", () => ext.tasks.tasks.get(id)?.status === "completed", 4_500);
    assert.ok(Date.now() - asked >= 1_500, "not before the timeout");
    assert.equal(ext.approvals.pending.size, 0, "the approval was withdrawn");
    assert.ok(ext.taskView.body().includes("Nobody answered") || [...ext.tasks.tasks.get(id)!.items.values()].some((i) => i.type === "agent_message" && i.text.includes("Nobody answered")));
    await vscode.workspace.getConfiguration("tandem").update("approvalTimeoutSeconds", undefined, vscode.ConfigurationTarget.Global);
  });

  it("cancels a running task, then resumes it", async () => {
    const id = await vscode.commands.executeCommand<string>("tandem.newTask", "answer slowly");
    await waitFor("the turn to start", () => ext.tasks.tasks.get(id)?.status === "running" && ext.tasks.tasks.get(id)?.threadId);
    await new Promise((r) => setTimeout(r, 500));
    await vscode.commands.executeCommand("tandem.cancelTask", id);
    await waitFor("the task to be cancelled", () => ext.tasks.tasks.get(id)?.status === "cancelled");
    const threadId = ext.tasks.tasks.get(id)!.threadId!;
    const resumed = await ext.tasks.resume(threadId, "go on");
    assert.notEqual(resumed, id);
    await waitFor("the resumed task to complete", () => ext.tasks.tasks.get(resumed)?.status === "completed");
    const items = [...ext.tasks.tasks.get(resumed)!.items.values()];
    assert.ok(items.some((i) => i.type === "agent_message" && i.text === "Resumed and done."));
  });

  it("sends a settings change to the running server", async () => {
    const cfg = () => vscode.workspace.getConfiguration("tandem");
    await cfg().update("autoContext.enabled", false, vscode.ConfigurationTarget.Global);
    await waitFor("Auto Context off on the server", async () => !(await ext.backend.request("tandem/context/preview", {})).enabled);
    await waitFor("the status bar to say so", () => ext.status.context.text.includes("Auto Context off"));
    await cfg().update("autoContext.enabled", true, vscode.ConfigurationTarget.Global);
    await waitFor("Auto Context on again", async () => (await ext.backend.request("tandem/context/preview", {})).enabled);
    assert.equal(ext.backend.starts, 1, "the server was not restarted");
  });

  it("reviews an apply-then-review change: new lines highlighted, old ones as ghost text, reject reverts", async () => {
    const cfg = () => vscode.workspace.getConfiguration("tandem");
    await cfg().update("approvalPolicy", "on-request", vscode.ConfigurationTarget.Global);
    await cfg().update("reviewModel", "applyThenReview", vscode.ConfigurationTarget.Global);
    const editor = await calcEditor();
    const line = editor.document.getText().split("\n").indexOf("    return a * b");
    assert.ok(line > 0);
    const id = await vscode.commands.executeCommand<string>("tandem.newTask", "swap the factors");
    const [h] = await waitFor("an applied hunk", () => {
      const hs = ext.review.hunks(calcUri());
      return hs.length === 1 ? hs : undefined;
    });
    assert.equal(h.model, "applyThenReview");
    await waitFor("the new text in the buffer", () => editor.document.lineAt(line).text === "    return b * a");
    const painted = await waitFor("decorations", () => {
      const p = ext.decorations.painted.get(calcUri().toString());
      return p && p.added.length === 1 ? p : undefined;
    });
    assert.equal(painted.added[0].range.start.line, line);
    assert.deepEqual(
      painted.ghostRemoved.map((d) => [d.range.start.line, d.renderOptions?.after?.contentText]),
      [[line, "− return a * b"]],
    );
    await waitFor("the task to complete", () => ext.tasks.tasks.get(id)?.status === "completed" || ext.tasks.tasks.get(id)?.status === "waitingForReview");
    // The CodeLens command path: `tandem.rejectHunk` with the hunk id, as the lens passes it.
    await vscode.commands.executeCommand("tandem.rejectHunk", { hunkId: h.hunk.hunkId });
    await waitFor("the old text back in the buffer", () => editor.document.lineAt(line).text === "    return a * b");
    await waitFor("no hunk left", () => ext.review.hunks(calcUri()).length === 0);
  });

  it("undoes a whole apply-then-review turn", async () => {
    const editor = await calcEditor();
    const before = editor.document.getText();
    const id = await vscode.commands.executeCommand<string>("tandem.newTask", "swap both");
    const hunks = await waitFor("two applied hunks", () => {
      const hs = ext.review.hunks(calcUri());
      return hs.length === 2 ? hs : undefined;
    });
    await waitFor("the new text in the buffer", () => editor.document.getText().includes("return b + a") && editor.document.getText().includes("return b * a"));
    const turnId = ext.review.changes.get(hunks[0].changeId)?.turnId;
    assert.ok(turnId, "the change names its turn");
    await waitFor("the task to end its turn", () => ["completed", "waitingForReview"].includes(ext.tasks.tasks.get(id)?.status ?? ""));
    const r = await vscode.commands.executeCommand<{ refused: unknown[] }>("tandem.undoTurn", turnId);
    assert.deepEqual(r?.refused, []);
    await waitFor("the buffer as before the turn", () => editor.document.getText() === before);
    await waitFor("no hunk left", () => ext.review.hunks(calcUri()).length === 0);
    const cfg = () => vscode.workspace.getConfiguration("tandem");
    await cfg().update("approvalPolicy", "untrusted", vscode.ConfigurationTarget.Global);
    await cfg().update("reviewModel", "approveBeforeWrite", vscode.ConfigurationTarget.Global);
    assert.equal(ext.backend.starts, 1, "changing settings did not restart the server");
  });

  it("drops an approval the server withdraws ($/cancelRequest) while its task goes on", async () => {
    const cfg = () => vscode.workspace.getConfiguration("tandem");
    await cfg().update("approvalTimeoutSeconds", 1, vscode.ConfigurationTarget.Global);
    // The extension pushes settings from onDidChangeConfiguration, which has run once the
    // extension host reads the new value; the task's request goes out after it.
    await waitFor("the 1 s timeout to be in effect", () => cfg().get<number>("approvalTimeoutSeconds") === 1);
    const id = await vscode.commands.executeCommand<string>("tandem.newTask", "ask, then go on without an answer");
    // Record how the approval leaves the queue: the item it asks about must not have completed
    // yet (else forgetItem, not the cancellation, took it out), and the task must still run.
    let left: { at: number; itemDone: boolean; status?: string } | undefined;
    let key: string | undefined;
    let itemId: string | undefined;
    const sub = ext.approvals.onDidChange(() => {
      if (!key || left || ext.approvals.pending.has(key)) return;
      const t = ext.tasks.tasks.get(id);
      const item = itemId ? t?.items.get(itemId) : undefined;
      left = { at: Date.now(), itemDone: !!item && "status" in item && item.status !== "in_progress", status: t?.status };
    });
    try {
      const pending = await waitFor("an approval request", () => [...ext.approvals.pending.values()].find((p) => p.params.taskId === id));
      key = pending.key;
      itemId = pending.params.itemId;
      const asked = pending.receivedAt;
      assert.deepEqual(pending.params.command, ["python3", "-c", "print(40 + 2)"]);
      await waitFor("the status bar to count it", () => ext.status.agent.text.includes("1 approval"));
      // Nobody answers. The server gives up at 1 s and cancels the request; this client's own
      // fallback would only drop it at 1 + 5 s, so well before that it must be the cancellation.
      const gone = await waitFor("the approval to leave the queue", () => left, 4_000);
      assert.ok(gone.at - asked >= 800, `not before the timeout (${gone.at - asked} ms)`);
      assert.ok(gone.at - asked < 4_000, `soon after the timeout (${gone.at - asked} ms)`);
      assert.equal(gone.itemDone, false, "it left on the server's cancellation, before its item completed");
      assert.equal(ext.approvals.pending.size, 0);
      assert.doesNotMatch(ext.status.agent.text, /approval/, "the status bar no longer counts it");
      assert.notEqual(gone.status, "completed", "the task was still going");
      await waitFor("the task to go on and complete", () => ext.tasks.tasks.get(id)?.status === "completed");
      const items = [...ext.tasks.tasks.get(id)!.items.values()];
      const cmd = items.find((i) => i.type === "command_execution");
      assert.ok(cmd && cmd.type === "command_execution" && cmd.status === "declined", JSON.stringify(cmd));
      assert.ok(items.some((i) => i.type === "agent_message" && i.text === "Went on without running it."));
    } finally {
      sub.dispose();
      await cfg().update("approvalTimeoutSeconds", undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it("opens every file of a two-file change in Review All, and decides its hunks from the diff", async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    const testUri = vscode.Uri.file(path.join(root(), "test_calc.py"));
    const sideOf = (u: vscode.Uri) => u.with({ scheme: "tandem-review", query: "side" });
    const [calcDoc, testDoc] = await Promise.all([calcUri(), testUri].map((u) => vscode.workspace.openTextDocument(u)));
    const [calcBefore, testBefore] = [calcDoc.getText(), testDoc.getText()];
    const id = await vscode.commands.executeCommand<string>("tandem.newTask", "add sub() and its test");
    await waitFor("two pending hunks in each file", () =>
      [calcUri(), testUri].every((u) => {
        const h = ext.review.hunks(u);
        return h.length === 2 && h.every((x) => x.hunk.state === "pending" && x.model === "approveBeforeWrite");
      }),
    );
    await waitFor("the status bar to count four", () => ext.status.agent.text.includes("4 to review"));
    assert.equal(ext.reviewTree.view.badge?.value, 4);

    await vscode.commands.executeCommand("tandem.reviewAll");
    await waitFor("the Review view to show", () => ext.reviewTree.view.visible);
    // One multi-file diff editor, each file against its proposal (the proposal on the right).
    const tab = await waitFor("a multi-file diff tab", () =>
      vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => Array.isArray((t.input as { textDiffs?: unknown })?.textDiffs)),
    );
    const pairs = (tab.input as { textDiffs: vscode.TabInputTextDiff[] }).textDiffs.map((d) => [d.original.toString(), d.modified.toString()]);
    assert.deepEqual(pairs, [
      [calcUri().toString(), sideOf(calcUri()).toString()],
      [testUri.toString(), sideOf(testUri).toString()],
    ]);
    assert.ok(tab.isActive, "the diff is the active tab");
    const proposedCalc = calcBefore
      .replace('"""A tiny calculator, with a bug for the agent to fix."""', '"""A tiny calculator."""')
      .replace("    return a * b\n", "    return a * b\n\n\ndef sub(a, b):\n    return a - b\n");
    const proposedTest = testBefore
      .replace("from calc import add, mul\n", "from calc import add, mul, sub\n")
      .replace("        self.assertEqual(mul(2, 3), 6)\n", "        self.assertEqual(mul(2, 3), 6)\n\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n");
    assert.notEqual(proposedCalc, calcBefore);
    assert.notEqual(proposedTest, testBefore);
    // The diff's editors, as its context menu and keys see them: the file on the left, the
    // proposed text on the right.
    const shown = (u: vscode.Uri) => waitFor(`an editor of ${u.toString()} in the diff`, () => vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === u.toString()));
    const [calcSide, testSide] = await Promise.all([shown(sideOf(calcUri())), shown(sideOf(testUri))]);
    await Promise.all([shown(calcUri()), shown(testUri)]);
    assert.equal(calcSide.document.getText(), proposedCalc);
    assert.equal(testSide.document.getText(), proposedTest);
    assert.equal(calcDoc.getText(), calcBefore, "nothing is written before it is accepted");

    // Reject calc.py's docstring hunk from the proposed side: the cursor on its line, then the
    // command as the editor's context menu runs it (with that editor's URI).
    const lineOf = (e: vscode.TextEditor, text: string) => {
      const l = e.document.getText().split("\n").indexOf(text);
      assert.ok(l >= 0, `${text} is on the ${e.document.uri.scheme} side`);
      return l;
    };
    const at = (e: vscode.TextEditor, line: number) => (e.selection = new vscode.Selection(line, 4, line, 4));
    at(calcSide, lineOf(calcSide, '"""A tiny calculator."""'));
    await vscode.commands.executeCommand("tandem.rejectHunk", calcSide.document.uri);
    await waitFor("calc.py's docstring hunk to go", () => ext.review.hunks(calcUri()).length === 1);
    await waitFor("the proposed side to drop it", () => calcSide.document.getText().includes("with a bug for the agent to fix") && calcSide.document.getText().includes("def sub(a, b):"));
    assert.equal(calcDoc.getText(), calcBefore, "a rejected hunk writes nothing");
    // Accept sub() from the proposed side, where it now sits at another line than before.
    at(calcSide, lineOf(calcSide, "    return a - b"));
    await vscode.commands.executeCommand("tandem.acceptHunk", calcSide.document.uri);
    await waitFor("calc.py to have no hunk left", () => ext.review.hunks(calcUri()).length === 0);
    await waitFor("sub() in the buffer, the left side of the diff", () => calcDoc.getText().includes("def sub(a, b):\n    return a - b\n"));
    await waitFor("both sides of calc.py's diff to agree", () => calcSide.document.getText() === calcDoc.getText());
    await waitFor("the status bar to count two", () => ext.status.agent.text.includes("2 to review"));
    // Accept the rest of test_calc.py with the proposed side's URI, as a diff's title bar passes it.
    await vscode.commands.executeCommand("tandem.acceptFile", testSide.document.uri);
    await waitFor("test_calc.py to have no hunk left", () => ext.review.hunks(testUri).length === 0);
    await waitFor("test_calc.py's buffer to hold the proposal", () => testDoc.getText() === proposedTest);
    await waitFor("both sides of test_calc.py's diff to agree", () => testSide.document.getText() === testDoc.getText());

    // Everything decided: the review tree, its badge and the status bar are back to zero.
    assert.equal(ext.review.pendingCount(), 0);
    assert.deepEqual(ext.reviewTree.getChildren(), []);
    await waitFor("the badge to go", () => ext.reviewTree.view.badge === undefined);
    await waitFor("the status bar to stop counting", () => !/to review/.test(ext.status.agent.text));
    await waitFor("the task to complete once the patch is resolved", () => ext.tasks.tasks.get(id)?.status === "completed");
    assert.ok([...ext.tasks.tasks.get(id)!.items.values()].some((i) => i.type === "agent_message" && i.text === "Review of sub() noted."));
    assert.equal(calcDoc.getText(), calcBefore.replace("    return a * b\n", "    return a * b\n\n\ndef sub(a, b):\n    return a - b\n"));
  });
});
