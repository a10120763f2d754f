// Auto Context: the user's on/off switch (`tandem/context/setEnabled`) and a readable preview of
// exactly what the next turn carries (`tandem/context/preview`), as a virtual Markdown document.
import * as vscode from "vscode";
import type { Backend } from "./client";
import * as config from "./config";
import type { ContextPreviewResult, ExclusionReason } from "./protocol.generated";
import { debounce, label } from "./util";

export const SCHEME = "tandem-context";
export const PREVIEW_URI = vscode.Uri.from({ scheme: SCHEME, path: "/Auto Context.md" });

export class AutoContext implements vscode.Disposable, vscode.TextDocumentContentProvider {
  enabled = config.read().autoContext;
  last: ContextPreviewResult | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly updateEmitter = new vscode.EventEmitter<void>();
  /** Fires when `enabled` or `last` changed. */
  readonly onDidUpdate = this.updateEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  readonly refreshSoon = debounce(400, () => void this.refresh());

  constructor(private readonly backend: Backend) {
    this.disposables.push(
      this.changeEmitter,
      this.updateEmitter,
      this.refreshSoon,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      backend.onDidChangeState((up) => {
        // The server starts from the configured value; re-apply a session toggle that differs.
        if (up) void this.setEnabled(this.enabled);
      }),
    );
    void vscode.commands.executeCommand("setContext", "tandem.autoContext", this.enabled);
  }

  async setEnabled(enabled: boolean): Promise<void> {
    this.enabled = enabled;
    if (this.backend.running) {
      const r = await this.backend.request("tandem/context/setEnabled", { enabled });
      this.enabled = r.enabled;
    }
    await vscode.commands.executeCommand("setContext", "tandem.autoContext", this.enabled);
    await this.refresh();
  }

  async refresh(): Promise<ContextPreviewResult | undefined> {
    if (!this.backend.running) return undefined;
    try {
      this.last = await this.backend.request("tandem/context/preview", {});
      this.enabled = this.last.enabled;
    } catch (e) {
      this.backend.out.appendLine(`tandem/context/preview failed: ${String(e)}`);
    }
    this.updateEmitter.fire();
    this.changeEmitter.fire(PREVIEW_URI);
    return this.last;
  }

  async show(): Promise<void> {
    await this.refresh();
    const doc = await vscode.workspace.openTextDocument(PREVIEW_URI);
    await vscode.languages.setTextDocumentLanguage(doc, "markdown");
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: false, viewColumn: vscode.ViewColumn.Beside });
  }

  provideTextDocumentContent(): string {
    return render(this.last, this.enabled);
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function reason(r: ExclusionReason): string {
  switch (r.type) {
    case "secret":
      return `looks like a secret (${r.pattern})`;
    case "denied":
      return `denied by ${r.pattern}`;
    case "gitignored":
      return "ignored by .gitignore";
    case "outsideWorkspace":
      return "outside the workspace";
    case "overBudget":
      return "over the token budget";
    case "limit":
      return "over the file limit";
  }
}

/** The preview as Markdown: a header, one section per item, then what was left out. */
export function render(p: ContextPreviewResult | undefined, enabled: boolean): string {
  const toggle = enabled ? "Turn it off with the eye button in the title bar." : "Turn it on with the eye button in the title bar.";
  if (!p) return `# Auto Context\n\nThe Tandem server is not running.\n`;
  if (!p.enabled) return `# Auto Context: off\n\nNothing from the editor is sent with a task. ${toggle}\n`;
  const lines = [`# Auto Context: on`, "", `${p.totalTokens} of ${p.budget} tokens go with the next task. ${toggle}`, ""];
  for (const item of p.items) {
    const where = item.range ? `:${item.range.start.line + 1}-${item.range.end.line + 1}` : "";
    const cut = item.truncated ? ", truncated" : "";
    lines.push(`## ${item.kind}: ${label(item.uri)}${where} (${item.tokens} tokens${cut})`, "", "````", item.text, "````", "");
  }
  if (p.excluded.length > 0) {
    lines.push("## Left out", "");
    for (const x of p.excluded) lines.push(`- ${label(x.uri)}: ${reason(x.reason)}`);
    lines.push("");
  }
  return lines.join("\n");
}
