// Finds the `tandem` binary: the setting, else the workspace's own build, else PATH.
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";

export interface Found {
  path: string;
  from: "setting" | "workspace" | "PATH";
}

function executable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

export function find(setting: string): Found | undefined {
  if (setting) {
    const p = setting.startsWith("~/") ? path.join(process.env.HOME ?? "", setting.slice(2)) : setting;
    const abs = path.isAbsolute(p) ? p : path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? "", p);
    // An explicit setting is never second-guessed: a wrong path is an error, not a fallback.
    return { path: abs, from: "setting" };
  }
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    for (const profile of ["debug", "release"]) {
      const p = path.join(folder.uri.fsPath, "target", profile, "tandem");
      if (executable(p)) return { path: p, from: "workspace" };
    }
  }
  const p = onPath("tandem");
  return p ? { path: p, from: "PATH" } : undefined;
}
