// Review commands: accept or reject a hunk (CodeLens, keybindings, menus), a whole file, the
// diff of a file, review of everything, and moving between hunks.
import * as vscode from "vscode";
import type { Ext } from "../ext";
import type { ReviewDecisionResult, ReviewTarget } from "../protocol.generated";
import { fileOf, hunkAt, placedHunks } from "../review/diff";
import { toRange } from "../util";

/** The editor a command acts on: the one whose context menu passed `uri` (it may be inside a
 * diff, which VS Code does not report as active), else the active one. */
function editorFor(uri?: vscode.Uri): vscode.TextEditor | undefined {
  const active = vscode.window.activeTextEditor;
  if (!uri || active?.document.uri.toString() === uri.toString()) return active;
  return vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString()) ?? active;
}

/** The hunk an argument names: `{hunkId}`, a hunk id, a tree node, or the one at the cursor of
 * the editor (a file, or either side of its diff). */
function hunkTarget(ext: Ext, arg: unknown): ReviewTarget | undefined {
  if (typeof arg === "string") return { type: "hunk", hunkId: arg };
  const a = arg as { hunkId?: string; shown?: { hunk: { hunkId: string } } } | undefined;
  const id = a?.hunkId ?? a?.shown?.hunk.hunkId;
  if (id) return { type: "hunk", hunkId: id };
  const e = editorFor(arg instanceof vscode.Uri ? arg : undefined);
  const at = e && hunkAt(ext.review, e.document.uri, e.selection.active);
  return at ? { type: "hunk", hunkId: at.hunk.hunkId } : undefined;
}

/** The file an argument names: a Uri, a tree node, or the active editor's; a diff's virtual
 * side stands for its file. An argument that names no file under review (the editor title of
 * a multi-file diff passes its own URI) gives way to the active editor's file. */
function fileTarget(ext: Ext, arg: unknown): vscode.Uri | undefined {
  const a = arg as { uri?: string | vscode.Uri } | undefined;
  const named = arg instanceof vscode.Uri ? arg : a?.uri ? (typeof a.uri === "string" ? vscode.Uri.parse(a.uri) : a.uri) : undefined;
  const active = vscode.window.activeTextEditor?.document.uri;
  const candidates = [named, active].filter((u): u is vscode.Uri => !!u).map(fileOf);
  return candidates.find((u) => ext.review.hunks(u).length > 0) ?? candidates[0];
}

async function decide(ext: Ext, accept: boolean, target: ReviewTarget | undefined): Promise<ReviewDecisionResult | undefined> {
  if (!target) {
    void vscode.window.showInformationMessage("Tandem: there is no change under review here.");
    return undefined;
  }
  try {
    return await (accept ? ext.review.accept(target) : ext.review.reject(target));
  } catch (e) {
    void vscode.window.showErrorMessage(`Tandem: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

function move(ext: Ext, step: 1 | -1): void {
  const e = vscode.window.activeTextEditor;
  if (!e) return;
  // In the hunks' lines of this document, which differ from the file's on a diff's virtual side.
  const hunks = placedHunks(ext.review, e.document.uri).sort((a, b) => a.first - b.first);
  if (hunks.length === 0) return;
  const line = e.selection.active.line;
  const next = step === 1 ? (hunks.find((h) => h.first > line) ?? hunks[0]) : ([...hunks].reverse().find((h) => h.first < line) ?? hunks[hunks.length - 1]);
  const at = e.document.uri.scheme === "file" ? toRange(next.shown.hunk.range).start : new vscode.Position(next.first, 0);
  e.selection = new vscode.Selection(at, at);
  e.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

export function register(ext: Ext): vscode.Disposable[] {
  const c = vscode.commands;
  const file = (arg: unknown): ReviewTarget | undefined => {
    const uri = fileTarget(ext, arg);
    return uri && ext.review.hunks(uri).length > 0 ? { type: "file", uri: uri.toString() } : undefined;
  };
  return [
    c.registerCommand("tandem.acceptHunk", (arg?: unknown) => decide(ext, true, hunkTarget(ext, arg))),
    c.registerCommand("tandem.rejectHunk", (arg?: unknown) => decide(ext, false, hunkTarget(ext, arg))),
    c.registerCommand("tandem.acceptFile", (arg?: unknown) => decide(ext, true, file(arg))),
    c.registerCommand("tandem.rejectFile", (arg?: unknown) => decide(ext, false, file(arg))),
    c.registerCommand("tandem.openDiff", async (arg?: unknown) => {
      const uri = fileTarget(ext, arg);
      if (uri) await ext.diffs.show(uri);
    }),
    c.registerCommand("tandem.reviewAll", async () => {
      await c.executeCommand("tandem.review.focus");
      const files = ext.review.files().map((f) => vscode.Uri.parse(f.uri));
      if (files.length === 1) await ext.diffs.show(files[0]);
      else if (files.length > 1) await ext.diffs.showAll(files);
    }),
    c.registerCommand("tandem.undoTurn", async (turnId?: string) => {
      const turns = [...new Set([...ext.review.changes.values()].filter((ch) => ch.model === "applyThenReview" && ch.turnId).map((ch) => ch.turnId!))];
      const id =
        typeof turnId === "string"
          ? turnId
          : turns.length <= 1
            ? turns[0]
            : (await vscode.window.showQuickPick(turns, { title: "Undo the changes of which turn?" }));
      if (!id) return undefined;
      try {
        const r = await ext.backend.request("tandem/review/undoTurn", { turnId: id });
        for (const refusal of r.refused) void vscode.window.showWarningMessage(`Tandem: ${refusal.hunkId} was not reverted: ${refusal.message}`);
        return r;
      } catch (e) {
        void vscode.window.showErrorMessage(`Tandem: ${e instanceof Error ? e.message : String(e)}`);
        return undefined;
      }
    }),
    c.registerCommand("tandem.nextHunk", () => move(ext, 1)),
    c.registerCommand("tandem.previousHunk", () => move(ext, -1)),
  ];
}
