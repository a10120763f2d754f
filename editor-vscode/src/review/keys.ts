// Context keys for keybindings and menus: `tandem.hunkAtCursor` and `tandem.fileHasHunks`.
import * as vscode from "vscode";
import type { Review } from "../review";
import { fileOf, hunkAt } from "./diff";

export class ReviewKeys implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private last = { atCursor: false, inFile: false };

  constructor(private readonly review: Review) {
    this.disposables.push(
      review.onDidChange(() => this.update()),
      vscode.window.onDidChangeActiveTextEditor(() => this.update()),
      vscode.window.onDidChangeTextEditorSelection(() => this.update()),
    );
    this.update(true);
  }

  private update(force = false): void {
    const e = vscode.window.activeTextEditor;
    // A diff's virtual side counts as its file, so the keys and menus work in diff views too.
    const inFile = !!e && this.review.hunks(fileOf(e.document.uri)).length > 0;
    const atCursor = !!e && !!hunkAt(this.review, e.document.uri, e.selection.active);
    if (force || inFile !== this.last.inFile) void vscode.commands.executeCommand("setContext", "tandem.fileHasHunks", inFile);
    if (force || atCursor !== this.last.atCursor) void vscode.commands.executeCommand("setContext", "tandem.hunkAtCursor", atCursor);
    this.last = { atCursor, inFile };
    const undoable = [...this.review.changes.values()].some((c) => c.model === "applyThenReview" && c.turnId && !c.resolved);
    void vscode.commands.executeCommand("setContext", "tandem.canUndoTurn", undoable);
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
