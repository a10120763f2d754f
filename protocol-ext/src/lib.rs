//! Every custom LSP method Tandem speaks: its name, direction, params and result.
//!
//! This crate is the single source of truth for the wire. The LSP server and the editors both
//! build on it: the TypeScript types in `editor-vscode/src/protocol.generated.ts` and the JSON
//! Schema in `protocol-ext/schema/protocol.schema.json` are generated from these types
//! (`cargo run -p tandem-protocol-ext --bin gen-protocol`), and a test fails when the
//! checked-in copies drift. `docs/protocol.md` documents each method; another test fails when
//! this crate's source changes and that page was not updated.
//!
//! Conventions (as in the Codex app-server protocol): methods are `tandem/<resource>/<verb>`
//! with a singular resource; fields are camelCase; unions carry a `type` tag; ids are strings;
//! times are Unix seconds in `*At` fields. Task events are the one exception: they are the
//! `tandem exec --json` lines verbatim (snake_case), so one parser serves both.
//!
//! Each method is a zero-sized type implementing [`Method`]; the server's dispatch table and
//! the client's typed request helpers are written against that trait.

pub mod approval;
pub mod capabilities;
pub mod context;
pub mod generate;
pub mod review;
pub mod task;
pub mod types;
pub mod wire;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use ts_rs::TS;

/// The version of this protocol, advertised in `initialize` under
/// `capabilities.experimental.tandem.protocolVersion`. Bumped on any incompatible change; a
/// client that sees a different major version should warn and disable the extensions.
pub const PROTOCOL_VERSION: u32 = 1;

/// Requests expect a response; notifications do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Request,
    Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    ClientToServer,
    ServerToClient,
}

/// One custom method. Notifications have `Result = ()`.
pub trait Method {
    const METHOD: &'static str;
    const KIND: Kind;
    const DIRECTION: Direction;
    type Params: Serialize + DeserializeOwned + TS + JsonSchema + 'static;
    type Result: Serialize + DeserializeOwned + TS + JsonSchema + 'static;
}

/// A method described as data, for documentation, schema generation and dispatch tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodInfo {
    pub method: &'static str,
    pub kind: Kind,
    pub direction: Direction,
    /// Rust names of the params and result types.
    pub params: &'static str,
    pub result: &'static str,
}

/// Calls `$visit!(Type)` once per method type; used by the generators.
macro_rules! methods {
    ($( $(#[$doc:meta])* $name:ident = $method:literal, $kind:ident, $dir:ident, $params:ty => $result:ty; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl Method for $name {
                const METHOD: &'static str = $method;
                const KIND: Kind = Kind::$kind;
                const DIRECTION: Direction = Direction::$dir;
                type Params = $params;
                type Result = $result;
            }
        )*
        /// Every method, in documentation order.
        pub const METHODS: &[MethodInfo] = &[$(
            MethodInfo {
                method: $method,
                kind: Kind::$kind,
                direction: Direction::$dir,
                params: stringify!($params),
                result: stringify!($result),
            },
        )*];
        /// Visits every method type (for the generators).
        pub(crate) fn visit_methods(v: &mut impl MethodVisitor) {
            $( v.visit::<$name>(); )*
        }
    };
}

/// Something that walks the method types, such as a schema generator.
pub(crate) trait MethodVisitor {
    fn visit<M: Method>(&mut self);
}

use types::Empty;

methods! {
    /// Where the user is: cursor, selections, visible ranges.
    Focus = "tandem/focus", Notification, ClientToServer, context::FocusParams => ();
    /// Diagnostics the client sees, from any server, for one document.
    ForwardDiagnostics = "tandem/diagnostics/forward", Notification, ClientToServer, context::ForwardDiagnosticsParams => ();
    /// Exactly what Auto Context would attach to the next turn.
    ContextPreview = "tandem/context/preview", Request, ClientToServer, Empty => context::ContextPreviewResult;
    /// The user's Auto Context toggle.
    SetContextEnabled = "tandem/context/setEnabled", Request, ClientToServer, context::SetContextEnabledParams => context::SetContextEnabledResult;
    /// Start a task.
    TaskStart = "tandem/task/start", Request, ClientToServer, task::TaskStartParams => task::TaskStartResult;
    /// One event of a task.
    TaskEventNotification = "tandem/task/event", Notification, ServerToClient, task::TaskEventParams => ();
    /// Interrupt a task's running turn.
    TaskCancel = "tandem/task/cancel", Request, ClientToServer, task::TaskCancelParams => Empty;
    /// The tasks of this connection.
    TaskList = "tandem/task/list", Request, ClientToServer, Empty => task::TaskListResult;
    /// Continue a recorded session as a new task.
    TaskResume = "tandem/task/resume", Request, ClientToServer, task::TaskResumeParams => task::TaskStartResult;
    /// The pending changes, with their hunks.
    ReviewList = "tandem/review/list", Request, ClientToServer, review::ReviewListParams => review::ReviewListResult;
    /// The set of changes or their hunks changed.
    ReviewChanged = "tandem/review/changed", Notification, ServerToClient, review::ReviewChangedParams => ();
    /// Accept a hunk, a file's hunks, or a whole change.
    ReviewAccept = "tandem/review/accept", Request, ClientToServer, review::ReviewDecisionParams => review::ReviewDecisionResult;
    /// Reject a hunk, a file's hunks, or a whole change.
    ReviewReject = "tandem/review/reject", Request, ClientToServer, review::ReviewDecisionParams => review::ReviewDecisionResult;
    /// Undo everything a turn changed.
    ReviewUndoTurn = "tandem/review/undoTurn", Request, ClientToServer, review::ReviewUndoTurnParams => review::ReviewDecisionResult;
    /// Ask the person to approve a command, patch, network access or escalation.
    ApprovalRequest = "tandem/approval/request", Request, ServerToClient, approval::ApprovalRequestParams => approval::ApprovalRequestResult;
}

/// JSON-RPC error codes of the custom methods (the range LSP leaves to servers).
pub mod error_codes {
    /// A hunk's base text changed; it was not applied.
    pub const STALE_HUNK: i32 = -32_901;
    /// No change, hunk, file or task has the given id.
    pub const UNKNOWN_ID: i32 = -32_902;
    /// The hunk's previous decision is still being applied.
    pub const IN_FLIGHT: i32 = -32_903;
    /// A turn cannot be undone because files were edited under its hunks.
    pub const TURN_CONFLICT: i32 = -32_904;
    /// The hunk was already accepted or rejected.
    pub const ALREADY_DECIDED: i32 = -32_905;
}
