// Owns the LanguageClient for `tandem lsp`: start, restart, the `tandem` capability handshake,
// settings sync, and typed access to the custom methods of protocol.generated.ts.
import * as vscode from "vscode";
import {
  CancellationToken,
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  StaticFeature,
} from "vscode-languageclient/node";
import * as binary from "./binary";
import * as config from "./config";
import { EXPERIMENTAL_KEY, Methods, PROTOCOL_VERSION, ServerCapabilities } from "./protocol.generated";

type Dir<D extends string, K extends string> = {
  [M in keyof Methods]: Methods[M]["direction"] extends D ? (Methods[M]["kind"] extends K ? M : never) : never;
}[keyof Methods];
export type ClientRequest = Dir<"clientToServer", "request">;
export type ClientNotification = Dir<"clientToServer", "notification">;
export type ServerNotification = Dir<"serverToClient", "notification">;
export type ServerRequest = Dir<"serverToClient", "request">;
type Params<M extends keyof Methods> = Methods[M]["params"];
type Result<M extends keyof Methods> = Methods[M]["result"];

type Registration = (c: LanguageClient) => vscode.Disposable;

/** Announces what this client handles, and checks the server speaks our protocol version. */
class TandemFeature implements StaticFeature {
  server: ServerCapabilities | undefined;
  constructor(private readonly out: vscode.OutputChannel) {}
  fillClientCapabilities(caps: { experimental?: unknown }): void {
    const experimental = (caps.experimental ?? {}) as Record<string, unknown>;
    experimental[EXPERIMENTAL_KEY] = { protocolVersion: PROTOCOL_VERSION, approvalRequest: true, reviewChanged: true, taskEvents: true };
    caps.experimental = experimental;
  }
  initialize(caps: { experimental?: unknown }): void {
    const ext = (caps.experimental as Record<string, ServerCapabilities> | undefined)?.[EXPERIMENTAL_KEY];
    this.server = ext;
    if (!ext) {
      this.out.appendLine("The server announced no Tandem extensions: only plain LSP features are available.");
    } else if (ext.protocolVersion !== PROTOCOL_VERSION) {
      void vscode.window.showWarningMessage(
        `Tandem: the server speaks protocol ${ext.protocolVersion}, this extension ${PROTOCOL_VERSION}. Update one of them.`,
      );
    }
  }
  getState() {
    return { kind: "static" as const };
  }
  clear(): void {
    this.server = undefined;
  }
}

export class Backend implements vscode.Disposable {
  readonly out = vscode.window.createOutputChannel("Tandem");
  private client: LanguageClient | undefined;
  private feature = new TandemFeature(this.out);
  private registrations: Registration[] = [];
  private live: vscode.Disposable[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<boolean>();
  /** Fires true when the server is ready, false when it stops. */
  readonly onDidChangeState = this.stateEmitter.event;
  binary: binary.Found | undefined;
  /** How many server processes were started (a settings change must not add one). */
  starts = 0;

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  /** Whether the running server handles a custom method. */
  supports(method: keyof Methods): boolean {
    return this.feature.server?.methods.includes(method) ?? false;
  }

  async start(): Promise<void> {
    const settings = config.read();
    this.binary = binary.find(settings.serverPath);
    if (!this.binary) {
      const pick = await vscode.window.showErrorMessage(
        "Tandem: no `tandem` binary found. Set tandem.server.path, build the workspace (cargo build -p tandem-cli), or put tandem on PATH.",
        "Open Settings",
      );
      if (pick) await vscode.commands.executeCommand("workbench.action.openSettings", "tandem.server.path");
      return;
    }
    this.out.appendLine(`Starting ${this.binary.path} lsp (found via ${this.binary.from})`);
    this.starts++;
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const server: ServerOptions = { command: this.binary.path, args: ["lsp"], options: { cwd, env: process.env } };
    const options: LanguageClientOptions = {
      documentSelector: [{ scheme: "file" }],
      outputChannel: this.out,
      initializationOptions: config.serverSettings(settings),
      middleware: {
        // Review CodeLens come from review/codelens.ts, which re-renders on every
        // `tandem/review/changed`; the server's own lenses would show each action twice.
        provideCodeLenses: () => [],
        workspace: {
          // Answer `workspace/configuration` for our section with the server view of the settings.
          configuration: async (params, token, next) => {
            const raw = await next(params, token);
            if (!Array.isArray(raw)) return raw;
            return params.items.map((item, i) => (item.section === config.SECTION ? config.serverSettings() : raw[i]));
          },
        },
      },
    };
    const client = new LanguageClient("tandem", "Tandem", server, options);
    client.registerFeature(this.feature);
    this.client = client;
    this.live = this.registrations.map((r) => r(client));
    this.live.push(client.onDidChangeState((e) => this.stateEmitter.fire(e.newState === State.Running)));
    try {
      await client.start();
    } catch (e) {
      this.out.appendLine(`tandem lsp failed to start: ${String(e)}`);
      void vscode.window.showErrorMessage(`Tandem: the server failed to start (${String(e)}). See the Tandem output.`);
    }
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    this.feature.clear();
    vscode.Disposable.from(...this.live).dispose();
    this.live = [];
    if (c) {
      try {
        await c.stop(5000);
      } catch {
        // A server that died already cannot be stopped; nothing is left to clean up.
      }
    }
    this.stateEmitter.fire(false);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Sends the server view of the settings (live; no restart needed). */
  pushSettings(): void {
    void this.client?.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { [config.SECTION]: config.serverSettings() },
    });
  }

  request<M extends ClientRequest>(method: M, params: Params<M>, token?: CancellationToken): Promise<Result<M>> {
    if (!this.client || !this.running) return Promise.reject(new Error("Tandem: the server is not running"));
    // An explicit `undefined` token would be sent as a second positional parameter.
    const sent = token ? this.client.sendRequest(method, params, token) : this.client.sendRequest(method, params);
    return sent as Promise<Result<M>>;
  }

  notify<M extends ClientNotification>(method: M, params: Params<M>): void {
    if (this.client && this.running) void this.client.sendNotification(method, params);
  }

  /** Handles a server notification on this and every later server process. */
  onNotification<M extends ServerNotification>(method: M, handler: (p: Params<M>) => void): vscode.Disposable {
    return this.register((c) => c.onNotification(method, handler));
  }

  /** Answers a server request on this and every later server process. */
  onRequest<M extends ServerRequest>(
    method: M,
    handler: (p: Params<M>, token: CancellationToken) => Promise<Result<M>>,
  ): vscode.Disposable {
    return this.register((c) => c.onRequest(method, handler));
  }

  /** The LanguageClient's converters, for positions and ranges. */
  get protocol2Code() {
    return this.client?.protocol2CodeConverter;
  }

  /** Diagnostics the server itself published, so they are not forwarded back to it. */
  ownDiagnostics(uri: vscode.Uri): readonly vscode.Diagnostic[] {
    return this.client?.diagnostics?.get(uri) ?? [];
  }

  private register(r: Registration): vscode.Disposable {
    this.registrations.push(r);
    const now = this.client ? r(this.client) : undefined;
    if (now) this.live.push(now);
    return new vscode.Disposable(() => {
      this.registrations = this.registrations.filter((x) => x !== r);
      now?.dispose();
    });
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.out.dispose();
  }
}
