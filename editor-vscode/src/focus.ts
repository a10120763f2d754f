// Auto Context input: sends the active editor's cursor, selections and visible ranges as
// `tandem/focus` (debounced), and forwards the diagnostics other language servers publish.
import * as vscode from "vscode";
import type { Backend } from "./client";
import { debounce, fromPosition, fromRange, severity } from "./util";

export const FOCUS_DEBOUNCE_MS = 150;

export class Focus implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly sendFocus = debounce(FOCUS_DEBOUNCE_MS, () => this.flush());
  private readonly pendingDiagnostics = new Set<string>();
  private readonly sendDiagnostics = debounce(FOCUS_DEBOUNCE_MS, () => this.flushDiagnostics());
  private readonly sentEmitter = new vscode.EventEmitter<void>();
  /** Fires after a focus notification went out (the status bar refreshes its token count). */
  readonly onDidSend = this.sentEmitter.event;

  constructor(private readonly backend: Backend) {
    const w = vscode.window;
    this.disposables.push(
      this.sendFocus,
      this.sendDiagnostics,
      this.sentEmitter,
      w.onDidChangeActiveTextEditor(() => this.sendFocus()),
      w.onDidChangeTextEditorSelection(() => this.sendFocus()),
      w.onDidChangeTextEditorVisibleRanges(() => this.sendFocus()),
      vscode.languages.onDidChangeDiagnostics((e) => {
        for (const uri of e.uris) if (uri.scheme === "file") this.pendingDiagnostics.add(uri.toString());
        this.sendDiagnostics();
      }),
      backend.onDidChangeState((up) => {
        if (up) this.resendAll();
      }),
    );
  }

  /** Sends the focus now (before a task starts, so it sees the latest selection). */
  flush(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.uri.scheme !== "file") return;
    this.backend.notify("tandem/focus", {
      uri: editor.document.uri.toString(),
      position: fromPosition(editor.selection.active),
      selections: editor.selections.map((s) => fromRange(s)),
      visibleRanges: editor.visibleRanges.map((r) => fromRange(r)),
    });
    this.sentEmitter.fire();
  }

  private flushDiagnostics(): void {
    for (const key of this.pendingDiagnostics) this.forward(vscode.Uri.parse(key));
    this.pendingDiagnostics.clear();
  }

  private forward(uri: vscode.Uri): void {
    const key = (d: vscode.Diagnostic) => `${d.range.start.line}:${d.range.start.character}:${d.source}:${d.message}`;
    const own = new Set(this.backend.ownDiagnostics(uri).map(key));
    const diagnostics = vscode.languages
      .getDiagnostics(uri)
      .filter((d) => !own.has(key(d)))
      .map((d) => ({
        range: fromRange(d.range),
        severity: severity(d.severity),
        message: d.message,
        ...(d.source ? { source: d.source } : {}),
      }));
    this.backend.notify("tandem/diagnostics/forward", { uri: uri.toString(), diagnostics });
  }

  /** A new server process knows nothing: tell it the focus and every diagnostic. */
  private resendAll(): void {
    for (const [uri] of vscode.languages.getDiagnostics()) if (uri.scheme === "file") this.forward(uri);
    this.flush();
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
