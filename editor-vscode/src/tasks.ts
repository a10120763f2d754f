// Tasks: routes `tandem/task/event` into a per-task view model, shows the task tree, and binds
// each running turn to a cancellable `window.withProgress`.
import * as vscode from "vscode";
import type { Backend } from "./client";
import * as config from "./config";
import { STATUS_LABEL } from "./taskhtml";
import type { TaskEvent, TaskInfo, TaskStatus, ThreadItem, TokenUsage } from "./protocol.generated";

/** A task as the views show it: exactly what the events said, in order. */
export interface TaskModel {
  taskId: string;
  threadId?: string;
  prompt: string;
  status: TaskStatus;
  startedAt: number;
  items: Map<string, ThreadItem>;
  order: string[];
  /** Text streamed by deltas since the item started (agent messages, reasoning, command output). */
  streamed: Map<string, string>;
  usage?: TokenUsage;
  error?: string;
}

const DONE: TaskStatus[] = ["completed", "failed", "cancelled"];

export class Tasks implements vscode.Disposable, vscode.TreeDataProvider<TaskNode> {
  readonly tasks = new Map<string, TaskModel>();
  private readonly turnEnds = new Map<string, () => void>();
  private readonly changeEmitter = new vscode.EventEmitter<TaskModel | undefined>();
  /** Fires with the task that changed (undefined: several). */
  readonly onDidChange = this.changeEmitter.event;
  private readonly eventEmitter = new vscode.EventEmitter<{ taskId: string; event: TaskEvent }>();
  /** Every task event, after the model took it in. */
  readonly onDidEvent = this.eventEmitter.event;
  private readonly treeEmitter = new vscode.EventEmitter<TaskNode | undefined>();
  readonly onDidChangeTreeData = this.treeEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  readonly view: vscode.TreeView<TaskNode>;

  constructor(private readonly backend: Backend) {
    this.view = vscode.window.createTreeView("tandem.tasks", { treeDataProvider: this, showCollapseAll: false });
    this.disposables.push(
      this.view,
      this.changeEmitter,
      this.eventEmitter,
      this.treeEmitter,
      backend.onNotification("tandem/task/event", (p) => this.onEvent(p.taskId, p.event)),
      backend.onDidChangeState((up) => {
        if (!up) for (const end of this.turnEnds.values()) end();
      }),
    );
  }

  /** Starts a task and shows its progress; resolves with the task id once it started. */
  async start(prompt: string): Promise<string> {
    const s = config.read();
    const { taskId } = await this.backend.request("tandem/task/start", {
      prompt,
      ...(s.sandboxMode ? { sandboxMode: s.sandboxMode } : {}),
      ...(s.approvalPolicy ? { approvalPolicy: s.approvalPolicy } : {}),
      ...(s.model ? { model: s.model } : {}),
    });
    this.ensure(taskId, prompt);
    this.progress(taskId);
    void this.refresh();
    return taskId;
  }

  async resume(threadId: string, prompt?: string): Promise<string> {
    const { taskId } = await this.backend.request("tandem/task/resume", { threadId, ...(prompt ? { prompt } : {}) });
    this.ensure(taskId, prompt ?? "(resumed)").threadId = threadId;
    this.progress(taskId);
    void this.refresh();
    return taskId;
  }

  async cancel(taskId: string): Promise<void> {
    await this.backend.request("tandem/task/cancel", { taskId });
  }

  /** Re-reads statuses (waiting for approval or review) from the server. */
  async refresh(): Promise<TaskInfo[]> {
    if (!this.backend.running) return [];
    const { tasks } = await this.backend.request("tandem/task/list", {});
    for (const info of tasks) {
      const t = this.ensure(info.taskId, info.prompt);
      t.status = info.status;
      t.threadId = info.threadId ?? t.threadId;
      t.startedAt = info.startedAt;
    }
    this.changed(undefined);
    return tasks;
  }

  /** Newest first, as `tandem/task/list` orders them. */
  list(): TaskModel[] {
    return [...this.tasks.values()].sort((a, b) => b.startedAt - a.startedAt || b.taskId.localeCompare(a.taskId, "en", { numeric: true }));
  }

  running(): TaskModel[] {
    return this.list().filter((t) => !DONE.includes(t.status));
  }

  private ensure(taskId: string, prompt: string): TaskModel {
    let t = this.tasks.get(taskId);
    if (!t) {
      t = { taskId, prompt, status: "running", startedAt: Date.now() / 1000, items: new Map(), order: [], streamed: new Map() };
      this.tasks.set(taskId, t);
    }
    // A task's first events can arrive before `tandem/task/start` answers, with no prompt.
    if (!t.prompt && prompt) t.prompt = prompt;
    return t;
  }

  private onEvent(taskId: string, e: TaskEvent): void {
    const t = this.ensure(taskId, "");
    switch (e.type) {
      case "thread.started":
        t.threadId = e.thread_id;
        break;
      case "turn.started":
        t.status = "running";
        t.error = undefined;
        break;
      case "item.started":
      case "item.updated":
      case "item.completed":
        if (!t.items.has(e.item.id)) t.order.push(e.item.id);
        t.items.set(e.item.id, e.item);
        if (e.type === "item.completed") t.streamed.delete(e.item.id);
        break;
      case "item.agent_message.delta":
      case "item.reasoning.delta":
        t.streamed.set(e.item_id, (t.streamed.get(e.item_id) ?? "") + e.delta);
        break;
      case "item.command_output.delta":
        t.streamed.set(e.item_id, (t.streamed.get(e.item_id) ?? "") + e.chunk);
        break;
      case "turn.completed":
        t.status = "completed";
        t.usage = e.usage;
        this.turnEnds.get(taskId)?.();
        void this.refresh();
        break;
      case "turn.failed":
        t.status = /interrupt/i.test(e.error.message) ? "cancelled" : "failed";
        t.error = e.error.message;
        this.turnEnds.get(taskId)?.();
        void this.refresh();
        break;
      case "error":
        t.error = e.message;
        break;
    }
    this.changed(t);
    this.eventEmitter.fire({ taskId, event: e });
  }

  private changed(t: TaskModel | undefined): void {
    this.changeEmitter.fire(t);
    this.treeEmitter.fire(undefined);
    void vscode.commands.executeCommand("setContext", "tandem.running", this.running().length > 0);
  }

  /** A cancellable notification for the task's turn; cancelling it interrupts the turn. */
  private progress(taskId: string): void {
    const t = this.tasks.get(taskId);
    const title = `Tandem: ${firstLine(t?.prompt ?? taskId, 50)}`;
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) =>
        new Promise<void>((resolve) => {
          const end = () => {
            this.turnEnds.delete(taskId);
            sub.dispose();
            resolve();
          };
          this.turnEnds.set(taskId, end);
          token.onCancellationRequested(() => void this.cancel(taskId).catch(() => end()));
          const sub = this.onDidChange((changed) => {
            if (changed?.taskId !== taskId) return;
            const last = changed.items.get(changed.order[changed.order.length - 1] ?? "");
            if (last) progress.report({ message: summary(last) });
          });
        }),
    );
  }

  // --- The tree: tasks, and under each the files it changed. --------------------------------

  getChildren(node?: TaskNode): TaskNode[] {
    if (!node) return this.list().map((t) => ({ kind: "task", taskId: t.taskId }));
    if (node.kind !== "task") return [];
    const t = this.tasks.get(node.taskId);
    const files = new Set<string>();
    for (const id of t?.order ?? []) {
      const item = t?.items.get(id);
      if (item?.type === "file_change") for (const c of item.changes) files.add(c.path);
    }
    return [...files].map((path) => ({ kind: "file", taskId: node.taskId, path }));
  }

  getTreeItem(node: TaskNode): vscode.TreeItem {
    if (node.kind === "file") {
      const item = new vscode.TreeItem(vscode.Uri.file(node.path));
      item.description = vscode.workspace.asRelativePath(node.path);
      item.command = { command: "vscode.open", title: "Open", arguments: [vscode.Uri.file(node.path)] };
      return item;
    }
    const t = this.tasks.get(node.taskId)!;
    const item = new vscode.TreeItem(firstLine(t.prompt || t.taskId, 60), this.getChildren(node).length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = t.taskId;
    item.description = STATUS_LABEL[t.status];
    item.tooltip = `${t.taskId}: ${t.prompt}\n${STATUS_LABEL[t.status]}${t.error ? `\n${t.error}` : ""}`;
    item.iconPath = STATUS_ICON[t.status];
    item.contextValue = DONE.includes(t.status) ? "task.done" : "task.running";
    item.command = { command: "tandem.showTask", title: "Show Task", arguments: [t.taskId] };
    return item;
  }

  dispose(): void {
    for (const end of this.turnEnds.values()) end();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

export type TaskNode = { kind: "task"; taskId: string } | { kind: "file"; taskId: string; path: string };


const STATUS_ICON: Record<TaskStatus, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon("sync~spin"),
  waitingForApproval: new vscode.ThemeIcon("bell-dot", new vscode.ThemeColor("notificationsWarningIcon.foreground")),
  waitingForReview: new vscode.ThemeIcon("diff", new vscode.ThemeColor("notificationsWarningIcon.foreground")),
  completed: new vscode.ThemeIcon("pass", new vscode.ThemeColor("testing.iconPassed")),
  failed: new vscode.ThemeIcon("error", new vscode.ThemeColor("testing.iconFailed")),
  cancelled: new vscode.ThemeIcon("circle-slash"),
};

export function firstLine(s: string, max: number): string {
  const line = s.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** One line about an item, for the progress notification. */
export function summary(item: ThreadItem): string {
  switch (item.type) {
    case "agent_message":
      return firstLine(item.text || "…", 60);
    case "reasoning":
      return "Thinking…";
    case "command_execution":
      return `$ ${firstLine(item.command, 50)}`;
    case "file_change":
      return `Changing ${item.changes.map((c) => c.path.split("/").pop()).join(", ")}`;
    case "todo_list":
      return `Plan: ${item.items.filter((i) => i.completed).length}/${item.items.length}`;
    case "mcp_tool_call":
      return `${item.server}.${item.tool}`;
    case "error":
      return item.message;
  }
}
