// Paints pending hunks in every visible editor with theme colours: the lines the buffer holds
// (added under apply-then-review, about to go under approve-before-write) highlighted, the
// other side as ghost text at the end of the lines, and marks in the overview ruler.
import * as vscode from "vscode";
import type { Review, ShownHunk } from "../review";

const color = (id: string) => new vscode.ThemeColor(id);

/** One decoration type per role, created once. */
function types() {
  const w = vscode.window;
  return {
    added: w.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: color("diffEditor.insertedLineBackground"),
      overviewRulerColor: color("editorOverviewRuler.addedForeground"),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }),
    removed: w.createTextEditorDecorationType({
      isWholeLine: true,
      backgroundColor: color("diffEditor.removedLineBackground"),
      overviewRulerColor: color("editorOverviewRuler.deletedForeground"),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }),
    conflicted: w.createTextEditorDecorationType({
      isWholeLine: true,
      border: "1px dashed",
      borderColor: color("editorWarning.foreground"),
      overviewRulerColor: color("editorOverviewRuler.warningForeground"),
      overviewRulerLane: vscode.OverviewRulerLane.Left,
    }),
    ghostRemoved: w.createTextEditorDecorationType({
      after: { color: color("editorGhostText.foreground"), backgroundColor: color("diffEditor.removedTextBackground"), textDecoration: "line-through", margin: "0 0 0 2em" },
    }),
    ghostAdded: w.createTextEditorDecorationType({
      after: { color: color("editorGhostText.foreground"), backgroundColor: color("diffEditor.insertedTextBackground"), fontStyle: "italic", margin: "0 0 0 2em" },
    }),
  };
}

export type Role = keyof ReturnType<typeof types>;

/** What one editor shows, role by role: the model of the decorations, for tests. */
export type Painted = Record<Role, vscode.DecorationOptions[]>;

function lines(text: string): string[] {
  const l = text.split(/\r\n|\r|\n/);
  if (l.length > 1 && l[l.length - 1] === "") l.pop();
  return text === "" ? [] : l;
}

/** The buffer lines a hunk's range covers; an empty range covers none. */
export function bufferLines(h: ShownHunk): { first: number; count: number } {
  const r = h.hunk.range;
  const endsAtLineStart = r.end.character === 0 && r.end.line > r.start.line;
  const last = endsAtLineStart ? r.end.line - 1 : r.end.line;
  const empty = r.start.line === r.end.line && r.start.character === r.end.character;
  return { first: r.start.line, count: empty ? 0 : last - r.start.line + 1 };
}

export function paint(doc: vscode.TextDocument, hunks: ShownHunk[]): Painted {
  const out: Painted = { added: [], removed: [], conflicted: [], ghostRemoved: [], ghostAdded: [] };
  const maxLine = Math.max(0, doc.lineCount - 1);
  for (const h of hunks) {
    // Under apply-then-review the buffer holds the new text; else the old text.
    const applied = h.model === "applyThenReview";
    const ghost = lines(applied ? h.hunk.oldText : h.hunk.newText);
    const { first, count } = bufferLines(h);
    const hover = new vscode.MarkdownString();
    hover.appendMarkdown(`**Tandem ${h.hunk.hunkId}** (${h.hunk.state}): ${applied ? "was" : "proposed"}`);
    hover.appendCodeblock(applied ? h.hunk.oldText : h.hunk.newText, doc.languageId);
    if (count > 0) {
      const range = new vscode.Range(first, 0, Math.min(first + count - 1, maxLine), 0);
      const role: Role = h.hunk.state === "conflicted" ? "conflicted" : applied ? "added" : "removed";
      out[role].push({ range, hoverMessage: hover });
    }
    // Ghost line i sits after buffer line i; extra ghost lines join the last one. Text
    // inserted between two lines shows after the line above it.
    const byLine = new Map<number, string[]>();
    const anchor = count === 0 && first > 0 && h.hunk.range.start.character === 0 ? first - 1 : first;
    ghost.forEach((text, i) => {
      const line = Math.min(anchor + Math.min(i, Math.max(count - 1, 0)), maxLine);
      byLine.set(line, [...(byLine.get(line) ?? []), text.trim()]);
    });
    const role: Role = applied ? "ghostRemoved" : "ghostAdded";
    for (const [line, texts] of byLine) {
      const end = doc.lineAt(line).range.end;
      out[role].push({
        range: new vscode.Range(end, end),
        hoverMessage: hover,
        renderOptions: { after: { contentText: `${applied ? "−" : "+"} ${texts.join("  ⏎  ")}` } },
      });
    }
  }
  return out;
}

export class Decorations implements vscode.Disposable {
  private readonly types = types();
  private readonly disposables: vscode.Disposable[] = [];
  /** The last paint of each visible document, keyed by URI. */
  readonly painted = new Map<string, Painted>();

  constructor(private readonly review: Review) {
    this.disposables.push(
      review.onDidChange(() => this.renderAll()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderAll()),
      // Edits move hunks; the server re-anchors them and says so with review/changed. Until
      // then VS Code shifts the decorations itself, so nothing goes stale in between.
    );
    this.renderAll();
  }

  renderAll(): void {
    this.painted.clear();
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme !== "file") continue;
      const p = paint(editor.document, this.review.hunks(editor.document.uri));
      this.painted.set(editor.document.uri.toString(), p);
      for (const role of Object.keys(this.types) as Role[]) editor.setDecorations(this.types[role], p[role]);
    }
  }

  dispose(): void {
    for (const t of Object.values(this.types)) t.dispose();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
