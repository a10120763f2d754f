// "Accept | Reject" CodeLens above every hunk under review, refreshed on `tandem/review/changed`.
import * as vscode from "vscode";
import type { Review } from "../review";
import { toRange } from "../util";

export class Lenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly review: Review) {
    this.disposables.push(
      this.changeEmitter,
      review.onDidChange(() => this.changeEmitter.fire()),
      vscode.languages.registerCodeLensProvider({ scheme: "file" }, this),
    );
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const out: vscode.CodeLens[] = [];
    for (const h of this.review.hunks(doc.uri)) {
      const at = toRange(h.hunk.range).start;
      const range = new vscode.Range(at.line, 0, at.line, 0);
      const arg = { hunkId: h.hunk.hunkId };
      switch (h.hunk.state) {
        case "pending":
          out.push(
            new vscode.CodeLens(range, { title: "$(check) Accept", tooltip: `Accept ${h.hunk.hunkId} (Ctrl+Alt+Y)`, command: "tandem.acceptHunk", arguments: [arg] }),
            new vscode.CodeLens(range, { title: "$(close) Reject", tooltip: `Reject ${h.hunk.hunkId} (Ctrl+Alt+N)`, command: "tandem.rejectHunk", arguments: [arg] }),
          );
          break;
        case "conflicted":
          out.push(
            new vscode.CodeLens(range, { title: "$(warning) Edited since proposed: Reject", tooltip: "This hunk's text changed; it can only be rejected", command: "tandem.rejectHunk", arguments: [arg] }),
          );
          break;
        default:
          out.push(new vscode.CodeLens(range, { title: `$(loading~spin) ${h.hunk.state}…`, command: "" }));
      }
    }
    return out;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
