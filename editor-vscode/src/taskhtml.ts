// Renders one task as HTML for the task view: agent messages as they stream, the plan as a
// checklist, commands with collapsible output, and file changes. Pure: no vscode API.
import type { TaskStatus, ThreadItem } from "./protocol.generated";
import type { TaskModel } from "./tasks";

export const STATUS_LABEL: Record<TaskStatus, string> = {
  running: "running",
  waitingForApproval: "waiting for approval",
  waitingForReview: "waiting for review",
  completed: "completed",
  failed: "failed",
  cancelled: "cancelled",
};

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function item(t: TaskModel, it: ThreadItem): string {
  const streamed = t.streamed.get(it.id);
  switch (it.type) {
    case "agent_message":
      return `<div class="msg" data-item="${esc(it.id)}">${esc(streamed ?? it.text)}</div>`;
    case "reasoning":
      return `<details class="reasoning"><summary>Thinking</summary><div>${esc(streamed ?? it.text)}</div></details>`;
    case "command_execution": {
      const output = streamed ?? it.aggregated_output;
      const exit = it.exit_code === null ? it.status.replace("_", " ") : `exit ${it.exit_code}`;
      const cls = it.status === "failed" || (it.exit_code ?? 0) !== 0 ? "cmd failed" : "cmd";
      return `<details class="${cls}"${it.status === "in_progress" ? " open" : ""}><summary><code>$ ${esc(it.command)}</code> <span class="dim">${esc(exit)}</span></summary><pre>${esc(output)}</pre></details>`;
    }
    case "file_change":
      return `<div class="files"><span class="dim">${esc(it.status.replace("_", " "))}:</span> ${it.changes
        .map((c) => `<a href="#" data-open="${esc(c.path)}" class="file ${c.kind}">${esc(c.kind === "add" ? "+" : c.kind === "delete" ? "−" : "~")} ${esc(c.path)}</a>`)
        .join(" ")}</div>`;
    case "todo_list":
      return `<ul class="plan">${it.items
        .map((i) => `<li><input type="checkbox" disabled${i.completed ? " checked" : ""}> ${esc(i.text)}</li>`)
        .join("")}</ul>`;
    case "mcp_tool_call":
      return `<details class="cmd"><summary><code>${esc(it.server)}.${esc(it.tool)}</code> <span class="dim">${esc(it.status)}</span></summary><pre>${esc(JSON.stringify(it.result ?? it.error ?? it.arguments, null, 2))}</pre></details>`;
    case "error":
      return `<div class="error">${esc(it.message)}</div>`;
  }
}

/** The body of the task view (the page shell with styles is in taskview.ts). */
export function renderTask(t: TaskModel | undefined): string {
  if (!t) return `<p class="dim">No task selected. Run <b>Tandem: New Task</b>.</p>`;
  const parts = [
    `<div class="head"><b>${esc(t.taskId)}</b> <span class="status ${t.status}">${esc(STATUS_LABEL[t.status])}</span></div>`,
    `<div class="prompt">${esc(t.prompt)}</div>`,
  ];
  for (const id of t.order) {
    const it = t.items.get(id);
    if (it) parts.push(item(t, it));
  }
  if (t.error) parts.push(`<div class="error">${esc(t.error)}</div>`);
  if (t.usage) parts.push(`<div class="dim">${t.usage.input_tokens} tokens in, ${t.usage.output_tokens} out</div>`);
  return parts.join("\n");
}
