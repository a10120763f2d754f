// Approvals: answers `tandem/approval/request` with a non-modal notification, or a QuickPick once
// several are queued. Nothing pending is ever dropped until it is answered, the server cancels
// it (its timeout counts as a deny), or its task's turn ends.
import * as vscode from "vscode";
import type { Backend } from "./client";
import * as config from "./config";
import type { ApprovalRequestParams, ReviewDecision } from "./protocol.generated";
import { label } from "./util";

export interface PendingApproval {
  key: string;
  params: ApprovalRequestParams;
  receivedAt: number;
  resolve: (d: ReviewDecision) => void;
}

export const DECISION_LABEL: Record<ReviewDecision, string> = {
  allow_once: "Allow once",
  allow_session: "Allow for session",
  deny: "Deny",
  cancel: "Stop task",
};

const SHOW_CHANGES = "Show changes";

export class Approvals implements vscode.Disposable {
  readonly pending = new Map<string, PendingApproval>();
  /** The approval whose notification is on show. */
  private onShow: string | undefined;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  /** Names a task for people (its prompt); set by the extension. */
  describeTask: (taskId: string) => string = (taskId) => taskId;

  constructor(backend: Backend) {
    this.disposables.push(
      this.changeEmitter,
      backend.onRequest("tandem/approval/request", (params, token) => this.request(params, token)),
      backend.onDidChangeState((up) => {
        if (!up) for (const p of [...this.pending.values()]) this.settle(p.key, "cancel");
      }),
    );
  }

  private request(params: ApprovalRequestParams, token: vscode.CancellationToken): Promise<{ decision: ReviewDecision }> {
    const key = `${params.taskId}/${params.approvalId}`;
    return new Promise((resolve) => {
      // The server counts an approval unanswered after approvalTimeoutSeconds as a deny and
      // tells the user so; past that deadline (plus a margin for a slow server) the question
      // is moot here too.
      const deadline = setTimeout(() => this.settle(key, "deny"), (config.read().approvalTimeoutSeconds + 5) * 1000);
      const p: PendingApproval = {
        key,
        params,
        receivedAt: Date.now(),
        resolve: (decision) => {
          clearTimeout(deadline);
          resolve({ decision });
        },
      };
      this.pending.set(key, p);
      // The server withdrew the question (the turn was cancelled or timed out).
      token.onCancellationRequested(() => this.settle(key, "deny"));
      this.changeEmitter.fire();
      this.showNext();
    });
  }

  /** Answers one pending approval; false when it was no longer pending. */
  answer(key: string, decision: ReviewDecision): boolean {
    return this.settle(key, decision);
  }

  /** Drops the approvals of a task whose turn ended: the server no longer waits for them. */
  forgetTask(taskId: string): void {
    for (const p of [...this.pending.values()]) if (p.params.taskId === taskId) this.settle(p.key, "cancel");
  }

  /** Drops the approval of an item that completed: the server decided without us. (A server
   * that times a question out cancels its request, which settles it first; this covers one
   * that does not.) */
  forgetItem(taskId: string, itemId: string): void {
    for (const p of [...this.pending.values()]) if (p.params.taskId === taskId && p.params.itemId === itemId) this.settle(p.key, "deny");
  }

  private settle(key: string, decision: ReviewDecision): boolean {
    const p = this.pending.get(key);
    if (!p) return false;
    this.pending.delete(key);
    p.resolve(decision);
    this.changeEmitter.fire();
    if (key === this.onShow) this.showNext();
    return true;
  }

  /** One approval notification at a time (VS Code cannot close a stale one): the next waiting
   * approval appears when the one on show is answered; all of them are in the QuickPick. */
  private showNext(): void {
    if (this.onShow && this.pending.has(this.onShow)) return;
    const next = this.pending.values().next().value;
    this.onShow = next?.key;
    if (next) void this.notify(next);
  }

  private async notify(p: PendingApproval): Promise<void> {
    const buttons = p.params.options.map((o) => DECISION_LABEL[o]);
    if (p.params.kind === "patch" && p.params.changes?.length) buttons.push(SHOW_CHANGES);
    const others = this.pending.size - 1;
    const queued = others > 0 ? ` (${others} more waiting: click the status bar)` : "";
    const text = `${message(p.params)} · ${detail(p.params)}${queued}`;
    const pick = await vscode.window.showWarningMessage(text, { modal: false }, ...buttons);
    // VS Code cannot close a notification, so this one outlives its approval when that is
    // answered from the QuickPick, withdrawn by the server (its timeout counts as a deny) or
    // dropped with its turn. A click on it then changes nothing, and says so.
    if (pick && !this.pending.has(p.key)) {
      void vscode.window.showInformationMessage(`Tandem: this approval is no longer waiting: it was answered, or withdrawn (unanswered after ${config.read().approvalTimeoutSeconds} s counts as Deny).`);
      return;
    }
    if (pick === SHOW_CHANGES) {
      await vscode.commands.executeCommand("tandem.reviewAll");
      // Ask again only if it still waits: it may have been answered or withdrawn meanwhile.
      if (this.pending.has(p.key)) return this.notify(p);
      return;
    }
    const decision = p.params.options.find((o) => DECISION_LABEL[o] === pick);
    // A dismissed notification leaves the approval pending; the status bar and the QuickPick have it.
    if (decision) this.settle(p.key, decision);
  }

  /** A QuickPick of every pending approval, then one of its options. */
  async pick(): Promise<void> {
    if (this.pending.size === 0) {
      void vscode.window.showInformationMessage("Tandem: no approval is waiting.");
      return;
    }
    const items = [...this.pending.values()].map((p) => ({
      label: message(p.params),
      description: this.describeTask(p.params.taskId),
      detail: detail(p.params),
      key: p.key,
    }));
    const chosen = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: "Tandem: pending approvals", placeHolder: "Pick an approval to answer", matchOnDetail: true });
    const p = chosen && this.pending.get(chosen.key);
    if (!p) return;
    const options = p.params.options.map((o) => ({ label: DECISION_LABEL[o], decision: o }));
    const d = await vscode.window.showQuickPick(options, { title: message(p.params), placeHolder: detail(p.params) });
    if (d) this.settle(p.key, d.decision);
    if (this.pending.size > 0) await this.pick();
  }

  dispose(): void {
    for (const p of [...this.pending.values()]) this.settle(p.key, "cancel");
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function what(p: ApprovalRequestParams): string {
  if (p.command?.length) return `\`${p.command.join(" ")}\``;
  if (p.changes?.length) return p.changes.map((c) => label(c.uri)).join(", ");
  return p.kind;
}

export function message(p: ApprovalRequestParams): string {
  switch (p.kind) {
    case "command":
      return `Tandem wants to run ${what(p)}`;
    case "escalation":
      return `Tandem wants to run ${what(p)} outside the sandbox`;
    case "patch":
      return `Tandem wants to change ${what(p)}`;
    case "network":
      return `Tandem wants network access for ${what(p)}`;
    case "mcp_tool":
      return `Tandem wants to call the tool ${what(p)}`;
  }
}

export function detail(p: ApprovalRequestParams): string {
  const seconds = config.read().approvalTimeoutSeconds;
  return [p.cwd ? `in ${p.cwd}` : "", p.reason ?? "", `${p.taskId}; unanswered after ${seconds} s counts as Deny`].filter(Boolean).join(" · ");
}
