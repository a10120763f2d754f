// The "Task" webview view: shows the selected task, re-rendered (throttled) as its events arrive.
import * as vscode from "vscode";
import { renderTask } from "./taskhtml";
import type { Tasks } from "./tasks";

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 0 8px; }
.dim { color: var(--vscode-descriptionForeground); }
.head { margin: 6px 0; } .status { color: var(--vscode-descriptionForeground); margin-left: 6px; }
.status.failed { color: var(--vscode-errorForeground); } .status.completed { color: var(--vscode-testing-iconPassed); }
.prompt { border-left: 2px solid var(--vscode-textLink-foreground); padding-left: 6px; margin: 6px 0; white-space: pre-wrap; }
.msg { white-space: pre-wrap; margin: 6px 0; }
.reasoning { color: var(--vscode-descriptionForeground); font-style: italic; }
details.cmd { margin: 4px 0; } details.cmd pre { max-height: 240px; overflow: auto; background: var(--vscode-textCodeBlock-background); padding: 4px; white-space: pre-wrap; }
details.failed summary code { color: var(--vscode-errorForeground); }
.plan { list-style: none; padding-left: 4px; } .plan input { vertical-align: middle; }
.files a { color: var(--vscode-textLink-foreground); text-decoration: none; margin-right: 8px; }
.error { color: var(--vscode-errorForeground); white-space: pre-wrap; }
`;

export class TaskView implements vscode.WebviewViewProvider, vscode.Disposable {
  selected: string | undefined;
  private view: vscode.WebviewView | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly tasks: Tasks) {
    this.disposables.push(
      vscode.window.registerWebviewViewProvider("tandem.task", this, { webviewOptions: { retainContextWhenHidden: true } }),
      tasks.onDidChange((t) => {
        if (!t || t.taskId === this.shown()) this.schedule();
      }),
    );
  }

  /** The task on show: the selected one, else the newest. */
  shown(): string | undefined {
    return this.selected ?? this.tasks.list()[0]?.taskId;
  }

  async show(taskId: string): Promise<void> {
    this.selected = taskId;
    this.render();
    await vscode.commands.executeCommand("tandem.task.focus");
  }

  /** The current HTML body, for tests. */
  body(): string {
    const id = this.shown();
    return renderTask(id ? this.tasks.tasks.get(id) : undefined);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true };
    view.webview.onDidReceiveMessage((m: { open?: string }) => {
      if (m.open) void vscode.commands.executeCommand("vscode.open", vscode.Uri.file(m.open));
    });
    this.render();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.render();
    }, 80);
  }

  private render(): void {
    if (!this.view) return;
    const nonce = Math.random().toString(36).slice(2);
    this.view.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>${STYLE}</style></head><body>${this.body()}
<script nonce="${nonce}">const vscode = acquireVsCodeApi();
document.addEventListener('click', e => { const a = e.target.closest('[data-open]'); if (a) { e.preventDefault(); vscode.postMessage({ open: a.dataset.open }); } });
const open = vscode.getState() || {}; document.querySelectorAll('details').forEach((d, i) => { if (open[i] !== undefined) d.open = open[i]; d.addEventListener('toggle', () => { open[i] = d.open; vscode.setState(open); }); });
window.scrollTo(0, document.body.scrollHeight);</script></body></html>`;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
