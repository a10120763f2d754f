// The per-file diff of a change under review: `vscode.diff` between the file and a virtual
// document (`tandem-review:`) holding the other side, built from the hunks' texts.
import * as vscode from "vscode";
import type { Review, ShownHunk } from "../review";
import { label, toRange } from "../util";

export const SCHEME = "tandem-review";

/** The buffer with every hunk swapped to its other side (proposed, or original). */
export function otherSide(doc: vscode.TextDocument, hunks: ShownHunk[]): string {
  let text = doc.getText();
  const sorted = [...hunks].sort((a, b) => doc.offsetAt(toRange(b.hunk.range).start) - doc.offsetAt(toRange(a.hunk.range).start));
  for (const h of sorted) {
    const r = toRange(h.hunk.range);
    const replacement = h.model === "applyThenReview" ? h.hunk.oldText : h.hunk.newText;
    text = text.slice(0, doc.offsetAt(r.start)) + replacement + text.slice(doc.offsetAt(r.end));
  }
  return text;
}

export class Diffs implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly open = new Set<string>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly review: Review) {
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, this),
      review.onDidChange(() => this.refresh()),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.scheme === "file" && this.open.has(e.document.uri.toString())) this.refresh();
      }),
    );
  }

  /** The virtual side of a file: its path, under our scheme. */
  static sideUri(file: vscode.Uri): vscode.Uri {
    return file.with({ scheme: SCHEME, query: "side" });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const file = uri.with({ scheme: "file", query: "" });
    this.open.add(file.toString());
    const doc = await vscode.workspace.openTextDocument(file);
    return otherSide(doc, this.review.hunks(file));
  }

  private refresh(): void {
    for (const key of this.open) this.changeEmitter.fire(Diffs.sideUri(vscode.Uri.parse(key)));
  }

  /** Opens the diff of one file: original on the left, proposed on the right. */
  async show(file: vscode.Uri): Promise<void> {
    const hunks = this.review.hunks(file);
    const applied = hunks.length > 0 && hunks.every((h) => h.model === "applyThenReview");
    const side = Diffs.sideUri(file);
    const [left, right] = applied ? [side, file] : [file, side];
    const title = `${label(file)} ${applied ? "(before Tandem ↔ now)" : "(now ↔ Tandem's proposal)"}`;
    // Beside the editor, so its CodeLens stay at hand while the diff is read.
    const options: vscode.TextDocumentShowOptions = { preview: false, preserveFocus: true, viewColumn: vscode.ViewColumn.Beside };
    await vscode.commands.executeCommand("vscode.diff", left, right, title, options);
  }

  /** Every file in one multi-diff editor. */
  async showAll(files: vscode.Uri[]): Promise<void> {
    const rows = files.map((file) => {
      const applied = this.review.hunks(file).every((h) => h.model === "applyThenReview");
      const side = Diffs.sideUri(file);
      return applied ? [file, side, file] : [file, file, side];
    });
    await vscode.commands.executeCommand("vscode.changes", "Tandem: changes to review", rows);
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
