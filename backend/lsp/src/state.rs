//! The one owner of the server's mutable state.
//!
//! Everything that changes — documents, Auto Context, reviews, tasks, settings — sits in one
//! [`State`] behind one `std::sync::Mutex`, locked for short sections that never await.
//!
//! Why a mutex and not an actor task: every workspace call is synchronous and takes
//! microseconds (a `didChange` on a 5 MB file is well under a millisecond), so a channel hop
//! and a reply per message would add latency and code for no concurrency gain. The
//! std mutex's guard is not `Send`, so the compiler rejects any handler that would hold it
//! across an `.await`: the "short, non-awaiting section" rule is checked, not hoped for.
//! Ordering is kept because notification handlers do all their work before their first
//! await, in the order tower-lsp polls them (the order they arrived).

use crate::ServerOptions;
use crate::overlay::Overlay;
use crate::settings::Settings;
use crate::task::Tasks;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use tandem_core::OpSender;
use tandem_protocol_ext::capabilities::ClientCapabilities;
use tandem_workspace::Workspace;
use tandem_workspace::context::ContextConfig;
use tower_lsp_server::Client;

/// What the client said it can do, at `initialize`.
#[derive(Debug, Clone, Default)]
pub struct ClientCaps {
    pub tandem: ClientCapabilities,
    /// `workspace.workspaceEdit.documentChanges`: versioned edits.
    pub document_changes: bool,
    /// `workspace.codeLens.refreshSupport`.
    pub code_lens_refresh: bool,
    /// `workspace.workspaceEdit.resourceOperations` with "delete" (and `documentChanges`, which
    /// carries resource operations): the client can be sent a `DeleteFile`.
    pub delete_files: bool,
    /// The same with "rename": the client can be sent a `RenameFile`.
    pub rename_files: bool,
    /// `window.workDoneProgress`: the client shows progress the server creates.
    pub work_done_progress: bool,
}

/// Who waits for a change under review to be resolved.
#[derive(Clone)]
pub struct ReviewLink {
    pub task_id: String,
    /// The kernel to answer; `None` once its task is gone.
    pub kernel: Option<OpSender>,
    /// The patch approval the kernel waits on (approve-before-write); `None` after a write.
    pub approval_id: Option<String>,
    /// The kernel's cwd, for the relative paths it reports.
    pub cwd: PathBuf,
    pub thread_id: Option<String>,
}

pub struct State {
    pub ws: Workspace,
    pub settings: Settings,
    pub caps: ClientCaps,
    /// A setting in `initializationOptions` that did not fit, shown once initialized.
    pub startup_error: Option<String>,
    /// The first workspace folder: the cwd of every task.
    pub root: PathBuf,
    pub roots: Vec<PathBuf>,
    /// Changes under review, by change id.
    pub reviews: HashMap<String, ReviewLink>,
    /// The review generation last told to the client, and the change ids it was told about.
    pub told_generation: u64,
    pub told_changes: BTreeSet<String>,
    /// Reports of resolved apply-then-review changes, by thread, for that thread's next turn.
    pub notes: HashMap<String, Vec<String>>,
    pub tasks: Tasks,
}

impl State {
    /// The Auto Context settings for the current roots and settings.
    pub fn context_config(&self) -> ContextConfig {
        let defaults = ContextConfig::default();
        ContextConfig {
            enabled: self.settings.auto_context,
            budget_tokens: self
                .settings
                .context_budget_tokens
                .unwrap_or(defaults.budget_tokens),
            deny_globs: self.settings.context_deny_globs.clone(),
            roots: self.roots.clone(),
            ..defaults
        }
    }
}

/// Shared by every handler and task driver.
pub struct Shared {
    pub client: Client,
    pub options: ServerOptions,
    /// Pending apply-then-review writes the kernels must see before the buffers show them.
    pub overlay: Overlay,
    state: Mutex<State>,
}

impl Shared {
    pub fn new(client: Client, options: ServerOptions) -> Arc<Self> {
        let root = options
            .fallback_root
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("/"));
        let state = State {
            // Replaced at `initialize`, once the roots are known.
            ws: Workspace::new(ContextConfig::default())
                .expect("the default context config is valid"),
            settings: Settings::default(),
            caps: ClientCaps::default(),
            startup_error: None,
            roots: vec![root.clone()],
            root,
            reviews: HashMap::new(),
            told_generation: 0,
            told_changes: BTreeSet::new(),
            notes: HashMap::new(),
            tasks: Tasks::default(),
        };
        Arc::new(Self {
            client,
            options,
            overlay: Overlay::default(),
            state: Mutex::new(state),
        })
    }

    /// Locks the state. A poisoned lock is recovered: a panicking handler leaves the state as
    /// consistent as each workspace call leaves it, and refusing every later request would turn
    /// one bug into a dead server.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
