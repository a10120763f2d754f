// "Review" view: the files with hunks under review and their hunks, a badge with the count on
// the view and on Explorer entries and tabs.
import * as vscode from "vscode";
import type { Review, ShownHunk } from "../review";
import { label, toRange } from "../util";

export type ReviewNode = { kind: "file"; uri: string } | { kind: "hunk"; shown: ShownHunk };

export class ReviewTree implements vscode.TreeDataProvider<ReviewNode>, vscode.FileDecorationProvider, vscode.Disposable {
  private readonly treeEmitter = new vscode.EventEmitter<ReviewNode | undefined>();
  readonly onDidChangeTreeData = this.treeEmitter.event;
  private readonly decoEmitter = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.decoEmitter.event;
  readonly view: vscode.TreeView<ReviewNode>;
  private readonly disposables: vscode.Disposable[] = [];
  private decorated: vscode.Uri[] = [];

  constructor(private readonly review: Review) {
    this.view = vscode.window.createTreeView("tandem.review", { treeDataProvider: this });
    this.disposables.push(
      this.view,
      this.treeEmitter,
      this.decoEmitter,
      vscode.window.registerFileDecorationProvider(this),
      review.onDidChange(() => this.refresh()),
    );
  }

  private refresh(): void {
    this.treeEmitter.fire(undefined);
    const n = this.review.pendingCount();
    this.view.badge = n > 0 ? { value: n, tooltip: `${n} change${n === 1 ? "" : "s"} to review` } : undefined;
    const now = this.review.files().map((f) => vscode.Uri.parse(f.uri));
    this.decoEmitter.fire([...this.decorated, ...now]);
    this.decorated = now;
  }

  getChildren(node?: ReviewNode): ReviewNode[] {
    if (!node) return this.review.files().map((f) => ({ kind: "file", uri: f.uri }));
    if (node.kind === "file") return this.review.hunks(node.uri).map((shown) => ({ kind: "hunk", shown }));
    return [];
  }

  getTreeItem(node: ReviewNode): vscode.TreeItem {
    if (node.kind === "file") {
      const uri = vscode.Uri.parse(node.uri);
      const n = this.review.hunks(node.uri).length;
      const item = new vscode.TreeItem(uri, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${label(node.uri)} · ${n} change${n === 1 ? "" : "s"}`;
      item.contextValue = "review.file";
      item.command = { command: "tandem.openDiff", title: "Open Diff", arguments: [uri] };
      return item;
    }
    const h = node.shown.hunk;
    // The first line with something on it: an added function often starts with blank lines.
    const first = (node.shown.model === "applyThenReview" ? h.newText : h.oldText || h.newText).split("\n").find((l) => l.trim())?.trim() ?? "";
    const item = new vscode.TreeItem(`Line ${h.range.start.line + 1}: ${first || "(empty)"}`);
    item.description = h.state === "pending" ? h.hunkId : `${h.hunkId} · ${h.state}`;
    item.iconPath = new vscode.ThemeIcon(h.state === "conflicted" ? "warning" : "diff-modified");
    item.contextValue = `review.hunk.${h.state}`;
    const uri = vscode.Uri.parse(node.shown.uri);
    item.command = { command: "vscode.open", title: "Go to Change", arguments: [uri, { selection: toRange(h.range) }] };
    return item;
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const n = this.review.hunks(uri).length;
    if (n === 0) return undefined;
    return new vscode.FileDecoration(String(Math.min(n, 99)), `${n} Tandem change${n === 1 ? "" : "s"} to review`, new vscode.ThemeColor("gitDecoration.modifiedResourceForeground"));
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
