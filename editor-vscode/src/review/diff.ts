// The diffs of changes under review: `vscode.diff` (one file) or `vscode.changes` (every file)
// between each file and a virtual document (`tandem-review:`) holding the other side, built from
// the hunks' texts; and where each hunk lies on that side, so hunks can be decided from there.
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

/** The file a review document stands for: the file itself, or the file behind a diff's virtual side. */
export function fileOf(uri: vscode.Uri): vscode.Uri {
  return uri.scheme === SCHEME ? uri.with({ scheme: "file", query: "" }) : uri;
}

/** A hunk and the lines it takes up in one document: the file, or a diff's virtual side. */
export interface PlacedHunk {
  shown: ShownHunk;
  first: number;
  last: number;
}

/** Where the hunks lie in the text `otherSide` builds: there every hunk holds its other text,
 * so its lines differ from the hunk's range in the file by what the hunks above it added. */
export function sideLines(doc: vscode.TextDocument, hunks: ShownHunk[]): PlacedHunk[] {
  const side = otherSide(doc, hunks);
  const lineOf = (offset: number) => {
    let n = 0;
    for (let i = side.indexOf("\n"); i !== -1 && i < offset; i = side.indexOf("\n", i + 1)) n++;
    return n;
  };
  const sorted = [...hunks].sort((a, b) => doc.offsetAt(toRange(a.hunk.range).start) - doc.offsetAt(toRange(b.hunk.range).start));
  let shift = 0;
  return sorted.map((h) => {
    const r = toRange(h.hunk.range);
    const [start, end] = [doc.offsetAt(r.start), doc.offsetAt(r.end)];
    const text = h.model === "applyThenReview" ? h.hunk.oldText : h.hunk.newText;
    const at = start + shift;
    shift += text.length - (end - start);
    // A hunk with nothing on this side (a deletion) sits on the line after the gap.
    const first = lineOf(at);
    return { shown: h, first, last: text === "" ? first : lineOf(at + text.length - 1) };
  });
}

/** The hunks under review in the document at `uri`, with their lines in that document. */
export function placedHunks(review: Review, uri: vscode.Uri): PlacedHunk[] {
  if (uri.scheme !== SCHEME) {
    return review.hunks(uri).map((shown) => {
      const { start, end } = shown.hunk.range;
      return { shown, first: start.line, last: end.line > start.line && end.character === 0 ? end.line - 1 : end.line };
    });
  }
  const file = fileOf(uri).toString();
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file);
  return doc ? sideLines(doc, review.hunks(doc.uri)) : [];
}

/** The hunk at `pos` in a file's editor or in either side of its diff: what the cursor
 * commands and keys act on, so hunks can be decided from the diff views too. */
export function hunkAt(review: Review, uri: vscode.Uri, pos: vscode.Position): ShownHunk | undefined {
  if (uri.scheme !== SCHEME) return review.hunkAt(uri, pos);
  const here = placedHunks(review, uri).filter((p) => pos.line >= p.first && pos.line <= p.last);
  // A line holding a hunk's text beats a deletion that only borders it.
  const onThisSide = (p: PlacedHunk) => (p.shown.model === "applyThenReview" ? p.shown.hunk.oldText : p.shown.hunk.newText) !== "";
  return (here.find(onThisSide) ?? here[0])?.shown;
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
