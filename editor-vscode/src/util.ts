// Small shared helpers: range conversion between the protocol and VS Code, and debouncing.
import * as vscode from "vscode";
import type { DiagnosticSeverity, Range } from "./protocol.generated";

// vscode-languageclient offers only UTF-16 positions, which are VS Code's own: no conversion.
export function toRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function fromRange(r: vscode.Range): Range {
  return { start: fromPosition(r.start), end: fromPosition(r.end) };
}

export function fromPosition(p: vscode.Position): Range["start"] {
  return { line: p.line, character: p.character };
}

export function severity(s: vscode.DiagnosticSeverity): DiagnosticSeverity {
  switch (s) {
    case vscode.DiagnosticSeverity.Error:
      return "error";
    case vscode.DiagnosticSeverity.Warning:
      return "warning";
    case vscode.DiagnosticSeverity.Information:
      return "information";
    default:
      return "hint";
  }
}

/** Calls `fn` once, `ms` after the last of a burst of calls. */
export function debounce<A extends unknown[]>(ms: number, fn: (...args: A) => void): ((...args: A) => void) & vscode.Disposable {
  let timer: NodeJS.Timeout | undefined;
  const call = (...args: A) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fn(...args);
    }, ms);
  };
  return Object.assign(call, { dispose: () => timer && clearTimeout(timer) });
}

/** The text of a file URI relative to the first workspace folder, for labels. */
export function label(uri: string | vscode.Uri): string {
  const u = typeof uri === "string" ? vscode.Uri.parse(uri) : uri;
  return vscode.workspace.asRelativePath(u, false);
}
