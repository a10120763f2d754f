//! `initialize`, `initialized`, `shutdown` and `workspace/didChangeConfiguration`.
//!
//! `initialize` fixes what lasts for the connection: the position encoding (UTF-8 when the
//! client offers it, else UTF-16), the workspace roots, what the client announced under
//! `experimental.tandem`, and the first settings (`initializationOptions`). It answers with
//! `experimental.tandem` (the protocol version and every custom method) and `serverInfo`
//! (name and version), which is the handshake a health check reads.

use crate::convert;
use crate::error::{LspError, Result};
use crate::handlers::code_actions::{ACCEPT_COMMAND, REJECT_COMMAND};
use crate::state::{ClientCaps, Shared};
use std::path::PathBuf;
use std::sync::Arc;
use tandem_protocol_ext::capabilities::{self as pcap, EXPERIMENTAL_KEY};
use tandem_workspace::{Encoding, Workspace};
use tower_lsp_server::lsp_types as lsp;

/// The config a new task would load now, or why it cannot be loaded.
pub fn check_config(shared: &Shared) -> std::result::Result<tandem_config::Config, LspError> {
    let overrides = {
        let s = shared.lock();
        let mut base = shared.options.defaults.clone();
        base.cwd = Some(s.root.clone());
        s.settings.overrides(base)
    };
    tandem_config::Config::load(overrides).map_err(|e| LspError::Config(e.to_string()))
}

fn encoding_of(params: &lsp::InitializeParams) -> (Encoding, lsp::PositionEncodingKind) {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|e| e.contains(&lsp::PositionEncodingKind::UTF8));
    if offered {
        (Encoding::Utf8, lsp::PositionEncodingKind::UTF8)
    } else {
        (Encoding::Utf16, lsp::PositionEncodingKind::UTF16)
    }
}

fn roots_of(params: &lsp::InitializeParams) -> Vec<PathBuf> {
    let folders = params.workspace_folders.iter().flatten();
    let mut roots: Vec<PathBuf> = folders
        .filter_map(|f| convert::lsp_uri_to_path(&f.uri).ok())
        .collect();
    #[allow(deprecated, reason = "rootUri is still what many clients send")]
    if roots.is_empty()
        && let Some(uri) = &params.root_uri
        && let Ok(path) = convert::lsp_uri_to_path(uri)
    {
        roots.push(path);
    }
    roots
}

fn caps_of(params: &lsp::InitializeParams) -> ClientCaps {
    let c = &params.capabilities;
    let tandem = c
        .experimental
        .as_ref()
        .and_then(|e| e.get(EXPERIMENTAL_KEY))
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    let ws = c.workspace.as_ref();
    let edit = ws.and_then(|w| w.workspace_edit.as_ref());
    let document_changes = edit.and_then(|e| e.document_changes).unwrap_or(false);
    // Resource operations only travel in `documentChanges`.
    let resource_op = |kind: lsp::ResourceOperationKind| {
        document_changes
            && edit
                .and_then(|e| e.resource_operations.as_ref())
                .is_some_and(|ops| ops.contains(&kind))
    };
    ClientCaps {
        tandem,
        document_changes,
        code_lens_refresh: ws
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|l| l.refresh_support)
            .unwrap_or(false),
        delete_files: resource_op(lsp::ResourceOperationKind::Delete),
        rename_files: resource_op(lsp::ResourceOperationKind::Rename),
        work_done_progress: c
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false),
    }
}

pub fn initialize(shared: &Shared, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
    let (encoding, kind) = encoding_of(&params);
    let roots = roots_of(&params);
    let mut s = shared.lock();
    // A bad setting must not cost the connection: it is shown once initialized, and the
    // settings that were there stay in force.
    if let Some(options) = &params.initialization_options
        && let Err(e) = s.settings.apply(options)
    {
        s.startup_error = Some(e);
    }
    if let Some(first) = roots.first() {
        s.root = first.clone();
        s.roots = roots;
    }
    s.caps = caps_of(&params);
    let mut ws = Workspace::new(s.context_config())
        .map_err(|e| LspError::InvalidParams(format!("contextDenyGlobs: {e}")))?;
    ws.set_encoding(encoding);
    s.ws = ws;
    drop(s);
    let tandem = serde_json::to_value(pcap::ServerCapabilities::current())
        .map_err(|e| LspError::Internal(e.to_string()))?;
    Ok(lsp::InitializeResult {
        capabilities: lsp::ServerCapabilities {
            position_encoding: Some(kind),
            text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
                lsp::TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                    save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(
                        lsp::SaveOptions {
                            include_text: Some(false),
                        },
                    )),
                    ..Default::default()
                },
            )),
            code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
                lsp::CodeActionOptions {
                    code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                    ..Default::default()
                },
            )),
            code_lens_provider: Some(lsp::CodeLensOptions {
                resolve_provider: Some(false),
            }),
            execute_command_provider: Some(lsp::ExecuteCommandOptions {
                commands: vec![ACCEPT_COMMAND.into(), REJECT_COMMAND.into()],
                ..Default::default()
            }),
            experimental: Some(serde_json::json!({ EXPERIMENTAL_KEY: tandem })),
            ..Default::default()
        },
        server_info: Some(lsp::ServerInfo {
            name: "tandem".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    })
}

/// Says at once, where the person sees it, when the config cannot be loaded: every task
/// would fail with the same message.
pub async fn initialized(shared: &Arc<Shared>) {
    let startup = shared.lock().startup_error.take();
    let errors = startup
        .into_iter()
        .chain(check_config(shared).err().map(|e| e.to_string()));
    for e in errors {
        tracing::warn!("{e}");
        shared
            .client
            .show_message(lsp::MessageType::ERROR, format!("Tandem: {e}"))
            .await;
    }
}

pub async fn did_change_configuration(
    shared: &Arc<Shared>,
    params: lsp::DidChangeConfigurationParams,
) {
    let outcome = {
        let mut s = shared.lock();
        match s.settings.apply(&params.settings) {
            Ok(changed) => {
                if changed.auto_context {
                    let on = s.settings.auto_context;
                    s.ws.set_context_enabled(on);
                }
                if changed.context_config {
                    let config = s.context_config();
                    s.ws.reconfigure_context(config)
                        .map_err(|e| format!("invalid settings: contextDenyGlobs: {e}"))
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    };
    let message = match outcome {
        Err(e) => Some(e),
        Ok(()) => check_config(shared).err().map(|e| e.to_string()),
    };
    if let Some(message) = message {
        tracing::warn!("{message}");
        shared
            .client
            .show_message(lsp::MessageType::ERROR, format!("Tandem: {message}"))
            .await;
    }
}

/// Ends every task's kernel: its running turn is interrupted and its record closed.
pub fn shutdown(shared: &Shared) {
    let s = shared.lock();
    for task in s.tasks.iter() {
        let _ = task.ops.submit(tandem_protocol::ops::Op::Interrupt);
        let _ = task.ops.submit(tandem_protocol::ops::Op::Shutdown);
    }
}
