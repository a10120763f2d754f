// Typed reader over the `tandem.*` settings, and the part of them the backend receives.
import * as vscode from "vscode";
import type { ApprovalPolicy, SandboxMode, ReviewModel } from "./protocol.generated";

export const SECTION = "tandem";

export interface Settings {
  serverPath: string;
  model: string;
  profile: string;
  sandboxMode: SandboxMode | "";
  approvalPolicy: ApprovalPolicy | "";
  reviewModel: ReviewModel | "";
  autoContext: boolean;
  approvalTimeoutSeconds: number;
}

export function read(): Settings {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    serverPath: c.get<string>("server.path", ""),
    model: c.get<string>("model", ""),
    profile: c.get<string>("profile", ""),
    sandboxMode: c.get<SandboxMode | "">("sandboxMode", ""),
    approvalPolicy: c.get<ApprovalPolicy | "">("approvalPolicy", ""),
    reviewModel: c.get<ReviewModel | "">("reviewModel", ""),
    autoContext: c.get<boolean>("autoContext.enabled", true),
    approvalTimeoutSeconds: c.get<number>("approvalTimeoutSeconds", 120),
  };
}

/** What `tandem lsp` gets in `initializationOptions` and `workspace/didChangeConfiguration`
 * (as `settings.tandem`): the server-side settings, unset ones left out. */
export function serverSettings(s: Settings = read()): Record<string, unknown> {
  const out: Record<string, unknown> = { autoContext: s.autoContext, approvalTimeoutSeconds: s.approvalTimeoutSeconds };
  // An empty model or profile clears it on the server; the enums have no such value, and
  // an absent field leaves the server's value alone.
  out.model = s.model;
  out.profile = s.profile;
  if (s.sandboxMode) out.sandboxMode = s.sandboxMode;
  if (s.approvalPolicy) out.approvalPolicy = s.approvalPolicy;
  if (s.reviewModel) out.reviewModel = s.reviewModel;
  return out;
}

/** Settings whose change needs a new server process (everything else is sent live): the
 * binary, and clearing an enum setting, which `didChangeConfiguration` cannot express (an absent
 * or null field leaves the server's value alone, and "" is not a valid value). */
export function needsRestart(e: vscode.ConfigurationChangeEvent, now: Settings = read()): boolean {
  if (e.affectsConfiguration(`${SECTION}.server.path`)) return true;
  const cleared = (key: string, value: string) => e.affectsConfiguration(`${SECTION}.${key}`) && value === "";
  return cleared("sandboxMode", now.sandboxMode) || cleared("approvalPolicy", now.approvalPolicy) || cleared("reviewModel", now.reviewModel);
}
