// Task commands: New Task (prompt, with the selection as context), Cancel, Resume, Show.
import * as vscode from "vscode";
import type { Ext } from "../ext";
import { firstLine } from "../tasks";
import { label } from "../util";

/** The selection, as a fenced block, when Auto Context will not carry it. */
function selectionBlock(ext: Ext): string {
  const e = vscode.window.activeTextEditor;
  if (!e || e.selection.isEmpty || ext.context.enabled) return "";
  const s = e.selection;
  return `\n\nSelected in ${label(e.document.uri)}:${s.start.line + 1}-${s.end.line + 1}:\n\`\`\`${e.document.languageId}\n${e.document.getText(s)}\n\`\`\``;
}

async function taskArg(ext: Ext, arg: unknown, running: boolean): Promise<string | undefined> {
  if (typeof arg === "string") return arg;
  const node = arg as { taskId?: string } | undefined;
  if (node?.taskId) return node.taskId;
  const candidates = running ? ext.tasks.running() : ext.tasks.list().filter((t) => t.threadId);
  if (candidates.length <= 1) return candidates[0]?.taskId;
  const pick = await vscode.window.showQuickPick(
    candidates.map((t) => ({ label: firstLine(t.prompt, 60), description: `${t.taskId} · ${t.status}`, taskId: t.taskId })),
    { title: running ? "Cancel which task?" : "Resume which task?" },
  );
  return pick?.taskId;
}

export function register(ext: Ext): vscode.Disposable[] {
  const c = vscode.commands;
  return [
    c.registerCommand("tandem.newTask", async (prompt?: string) => {
      const e = vscode.window.activeTextEditor;
      const hasSelection = !!e && !e.selection.isEmpty;
      const text =
        typeof prompt === "string"
          ? prompt
          : await vscode.window.showInputBox({
              title: "Tandem: New Task",
              prompt: hasSelection ? "What should Tandem do? The selection goes with the task." : "What should Tandem do?",
              placeHolder: "e.g. fix the failing test in calc.py",
              ignoreFocusOut: true,
            });
      if (!text?.trim()) return undefined;
      ext.focus.flush();
      try {
        const taskId = await ext.tasks.start(text.trim() + selectionBlock(ext));
        await ext.taskView.show(taskId);
        return taskId;
      } catch (e) {
        void vscode.window.showErrorMessage(`Tandem: the task did not start: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }),
    c.registerCommand("tandem.cancelTask", async (arg?: unknown) => {
      const id = await taskArg(ext, arg, true);
      if (id) await ext.tasks.cancel(id);
    }),
    c.registerCommand("tandem.resumeTask", async (arg?: unknown) => {
      const id = await taskArg(ext, arg, false);
      const threadId = id && ext.tasks.tasks.get(id)?.threadId;
      if (!threadId) return undefined;
      const prompt = await vscode.window.showInputBox({ title: "Tandem: Resume Task", prompt: "Anything to add? (optional)", ignoreFocusOut: true });
      if (prompt === undefined) return undefined;
      const taskId = await ext.tasks.resume(threadId, prompt || undefined);
      await ext.taskView.show(taskId);
      return taskId;
    }),
    c.registerCommand("tandem.showTask", (taskId: string) => ext.taskView.show(taskId)),
  ];
}
