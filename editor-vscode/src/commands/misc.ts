// Auto Context, approval and server commands.
import * as vscode from "vscode";
import type { Ext } from "../ext";

export function register(ext: Ext): vscode.Disposable[] {
  const c = vscode.commands;
  return [
    c.registerCommand("tandem.showContext", () => ext.context.show()),
    c.registerCommand("tandem.toggleAutoContext", () => ext.context.setEnabled(!ext.context.enabled)),
    c.registerCommand("tandem.disableAutoContext", () => ext.context.setEnabled(false)),
    c.registerCommand("tandem.enableAutoContext", () => ext.context.setEnabled(true)),
    c.registerCommand("tandem.showApprovals", () => ext.approvals.pick()),
    c.registerCommand("tandem.restartServer", () => ext.backend.restart()),
    c.registerCommand("tandem.showLog", () => ext.backend.out.show(true)),
  ];
}
