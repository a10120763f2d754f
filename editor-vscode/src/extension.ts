// Entry point: builds the extension's parts, registers the command table, starts `tandem lsp`,
// and routes settings changes to the running server without a restart.
import * as vscode from "vscode";
import { Approvals } from "./approvals";
import { Backend } from "./client";
import * as misc from "./commands/misc";
import * as reviewCommands from "./commands/review";
import * as taskCommands from "./commands/tasks";
import * as config from "./config";
import { AutoContext } from "./context";
import type { Ext } from "./ext";
import { Focus } from "./focus";
import { Review } from "./review";
import { Lenses } from "./review/codelens";
import { Decorations } from "./review/decorations";
import { Diffs } from "./review/diff";
import { ReviewKeys } from "./review/keys";
import { ReviewTree } from "./review/tree";
import { StatusBar } from "./statusbar";
import { TaskView } from "./taskview";
import { Tasks } from "./tasks";

export async function activate(context: vscode.ExtensionContext): Promise<Ext> {
  const backend = new Backend();
  const review = new Review(backend);
  const tasks = new Tasks(backend);
  const approvals = new Approvals(backend);
  const autoContext = new AutoContext(backend);
  const ext: Ext = {
    backend,
    focus: new Focus(backend),
    context: autoContext,
    tasks,
    taskView: new TaskView(tasks),
    review,
    decorations: new Decorations(review),
    lenses: new Lenses(review),
    diffs: new Diffs(review),
    reviewTree: new ReviewTree(review),
    approvals,
    status: new StatusBar(autoContext, tasks, approvals, review),
  };
  approvals.describeTask = (taskId) => tasks.tasks.get(taskId)?.prompt || taskId;
  context.subscriptions.push(
    ...Object.values(ext).reverse(),
    new ReviewKeys(review),
    ...taskCommands.register(ext),
    ...reviewCommands.register(ext),
    ...misc.register(ext),
    ext.focus.onDidSend(() => autoContext.refreshSoon()),
    // A task whose turn ended no longer waits for its approvals; review may have moved on too.
    tasks.onDidChange((t) => {
      if (t && (t.status === "completed" || t.status === "failed" || t.status === "cancelled")) approvals.forgetTask(t.taskId);
    }),
    tasks.onDidEvent(({ taskId, event }) => {
      if (event.type === "item.completed") approvals.forgetItem(taskId, event.item.id);
    }),
    approvals.onDidChange(() => void tasks.refresh().catch(() => undefined)),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      if (!e.affectsConfiguration(config.SECTION)) return;
      if (config.needsRestart(e)) return backend.restart();
      backend.pushSettings();
      if (e.affectsConfiguration(`${config.SECTION}.autoContext.enabled`)) await autoContext.setEnabled(config.read().autoContext);
    }),
  );
  await backend.start();
  return ext;
}

export function deactivate(): void {
  // Everything is in context.subscriptions; VS Code disposes it (and stops the server).
}
