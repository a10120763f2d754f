// Status bar: Auto Context on/off with its token count (click: the preview), and the agent's
// state: running tasks, approvals waiting (click: answer them), hunks to review.
import * as vscode from "vscode";
import type { Approvals } from "./approvals";
import type { AutoContext } from "./context";
import type { Review } from "./review";
import type { Tasks } from "./tasks";

function tokens(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

export class StatusBar implements vscode.Disposable {
  readonly context = vscode.window.createStatusBarItem("tandem.context", vscode.StatusBarAlignment.Right, 100);
  readonly agent = vscode.window.createStatusBarItem("tandem.agent", vscode.StatusBarAlignment.Right, 101);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: AutoContext,
    private readonly tasks: Tasks,
    private readonly approvals: Approvals,
    private readonly review: Review,
  ) {
    this.context.name = "Tandem Auto Context";
    this.context.command = "tandem.showContext";
    this.agent.name = "Tandem";
    this.disposables.push(
      this.context,
      this.agent,
      ctx.onDidUpdate(() => this.render()),
      tasks.onDidChange(() => this.render()),
      approvals.onDidChange(() => this.render()),
      review.onDidChange(() => this.render()),
    );
    this.render();
  }

  render(): void {
    const c = this.ctx;
    if (!c.enabled) {
      this.context.text = "$(eye-closed) Auto Context off";
      this.context.tooltip = "Tandem Auto Context is off: nothing from the editor goes with a task. Click to see it and turn it on.";
    } else {
      const n = c.last?.enabled ? c.last.totalTokens : undefined;
      this.context.text = n === undefined ? "$(eye) Auto Context" : `$(eye) ${tokens(n)} tokens`;
      this.context.tooltip = `Tandem Auto Context is on${c.last ? `: ${c.last.totalTokens} of ${c.last.budget} tokens, ${c.last.items.length} items` : ""}. Click to see exactly what is sent.`;
    }
    this.context.show();

    const waiting = this.approvals.pending.size;
    const running = this.tasks.running().length;
    const toReview = this.review.pendingCount();
    if (waiting > 0) {
      this.agent.text = `$(bell-dot) ${waiting} approval${waiting === 1 ? "" : "s"}`;
      this.agent.tooltip = "Tandem is waiting for your approval. Click to answer.";
      this.agent.command = "tandem.showApprovals";
      this.agent.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
    } else if (toReview > 0) {
      this.agent.text = `$(diff) ${toReview} to review`;
      this.agent.tooltip = "Changes by Tandem are waiting for review. Click to see them.";
      this.agent.command = "tandem.reviewAll";
      this.agent.backgroundColor = undefined;
    } else if (running > 0) {
      this.agent.text = `$(sync~spin) Tandem: ${running} running`;
      this.agent.tooltip = "Tandem tasks are running. Click to see them.";
      this.agent.command = "tandem.tasks.focus";
      this.agent.backgroundColor = undefined;
    } else {
      this.agent.hide();
      return;
    }
    this.agent.show();
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
