// Inline review state: the changes under review as the server last described them
// (`tandem/review/list`, then `tandem/review/changed` upserts), and the accept/reject requests.
import * as vscode from "vscode";
import type { Backend } from "./client";
import type {
  ReviewChange,
  ReviewChangedParams,
  ReviewDecisionResult,
  ReviewFile,
  ReviewHunk,
  ReviewModel,
  ReviewTarget,
} from "./protocol.generated";
import { label } from "./util";

/** A hunk with what the views need to show it. */
export interface ShownHunk {
  changeId: string;
  model: ReviewModel;
  uri: string;
  hunk: ReviewHunk;
}

/** The states a hunk is still shown in (decided ones disappear). */
const SHOWN = new Set<ReviewHunk["state"]>(["pending", "conflicted", "applying", "reverting"]);

export class Review implements vscode.Disposable {
  readonly changes = new Map<string, ReviewChange>();
  generation = -1;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  /** Fires after every change of the set of changes or of a hunk. */
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly backend: Backend) {
    this.disposables.push(
      this.changeEmitter,
      backend.onNotification("tandem/review/changed", (p) => this.apply(p)),
      backend.onDidChangeState((up) => {
        this.changes.clear();
        this.generation = -1;
        this.changeEmitter.fire();
        if (up) void this.reload();
      }),
    );
  }

  /** Replaces everything with `tandem/review/list`. */
  async reload(): Promise<void> {
    const r = await this.backend.request("tandem/review/list", {});
    // A notification newer than this answer already told us more.
    if (r.generation < this.generation) return;
    this.changes.clear();
    for (const c of r.changes) this.changes.set(c.changeId, c);
    this.generation = r.generation;
    this.changeEmitter.fire();
  }

  apply(p: ReviewChangedParams): void {
    for (const c of p.changes) this.changes.set(c.changeId, c);
    for (const id of p.removed) this.changes.delete(id);
    this.generation = Math.max(this.generation, p.generation);
    this.changeEmitter.fire();
  }

  /** Hunks still shown in one document, top to bottom. */
  hunks(uri: vscode.Uri | string): ShownHunk[] {
    const key = typeof uri === "string" ? uri : uri.toString();
    const out: ShownHunk[] = [];
    for (const c of this.changes.values()) {
      for (const f of c.files) {
        if (!sameUri(f.uri, key)) continue;
        for (const h of f.hunks) if (SHOWN.has(h.state)) out.push({ changeId: c.changeId, model: c.model, uri: f.uri, hunk: h });
      }
    }
    return out.sort((a, b) => a.hunk.range.start.line - b.hunk.range.start.line);
  }

  /** Files with hunks still shown, with their hunks. */
  files(): { uri: string; file: ReviewFile; hunks: ShownHunk[] }[] {
    const seen = new Map<string, { uri: string; file: ReviewFile; hunks: ShownHunk[] }>();
    for (const c of this.changes.values()) {
      for (const f of c.files) {
        const key = vscode.Uri.parse(f.uri).toString();
        if (!seen.has(key)) {
          const hunks = this.hunks(key);
          if (hunks.length > 0) seen.set(key, { uri: f.uri, file: f, hunks });
        }
      }
    }
    return [...seen.values()].sort((a, b) => label(a.uri).localeCompare(label(b.uri)));
  }

  pendingCount(): number {
    return this.files().reduce((n, f) => n + f.hunks.filter((h) => h.hunk.state === "pending" || h.hunk.state === "conflicted").length, 0);
  }

  /** The shown hunk whose lines hold `pos` (an empty range holds its own line). */
  hunkAt(uri: vscode.Uri, pos: vscode.Position): ShownHunk | undefined {
    return this.hunks(uri).find(({ hunk: { range } }) => {
      const last = range.end.line > range.start.line && range.end.character === 0 ? range.end.line - 1 : range.end.line;
      return pos.line >= range.start.line && pos.line <= last;
    });
  }

  hunk(hunkId: string): ShownHunk | undefined {
    for (const c of this.changes.values())
      for (const f of c.files)
        for (const h of f.hunks) if (h.hunkId === hunkId) return { changeId: c.changeId, model: c.model, uri: f.uri, hunk: h };
    return undefined;
  }

  accept(target: ReviewTarget): Promise<ReviewDecisionResult> {
    return this.decide("tandem/review/accept", target);
  }

  reject(target: ReviewTarget): Promise<ReviewDecisionResult> {
    return this.decide("tandem/review/reject", target);
  }

  private async decide(method: "tandem/review/accept" | "tandem/review/reject", target: ReviewTarget): Promise<ReviewDecisionResult> {
    const r = await this.backend.request(method, { target });
    for (const refusal of r.refused) {
      void vscode.window.showWarningMessage(`Tandem: ${refusal.hunkId} was not applied: ${refusal.message}`);
    }
    return r;
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

/** The server and VS Code may spell the same file URI differently (percent-encoding). */
export function sameUri(a: string, b: string): boolean {
  return a === b || vscode.Uri.parse(a).toString() === vscode.Uri.parse(b).toString();
}
