//! The dispatch table: every method the server handles, standard and custom, on one screen.
//!
//! Each entry names its handler; each handler is `from_proto` → one call → `to_proto`.
//! Handlers that only touch the state run to completion before their first await (documents,
//! focus, preview); those that wait on the client or a kernel (review decisions, task start)
//! await outside the state lock.

use crate::ServerOptions;
use crate::error::LspError;
use crate::handlers::{code_actions, context, documents, focus, lifecycle, review, tasks};
use crate::state::Shared;
use serde_json::Value;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};
use tandem_protocol_ext as ext;
use tandem_protocol_ext::Method;
use tower_lsp_server::jsonrpc::{self, Request, Response};
use tower_lsp_server::lsp_types as lsp;
use tower_lsp_server::{ClientSocket, LanguageServer, LspService};

/// A `tandem-protocol-ext` method as an lsp-types request or notification, so the client can
/// send it typed.
pub struct Ext<M>(PhantomData<M>);

impl<M: Method> lsp::request::Request for Ext<M>
where
    M::Params: Send + Sync,
    M::Result: Send + Sync,
{
    type Params = M::Params;
    type Result = M::Result;
    const METHOD: &'static str = M::METHOD;
}

impl<M: Method> lsp::notification::Notification for Ext<M>
where
    M::Params: Send + Sync,
{
    type Params = M::Params;
    const METHOD: &'static str = M::METHOD;
}

type Reply<T> = jsonrpc::Result<T>;

fn reply<T>(r: Result<T, LspError>) -> Reply<T> {
    r.map_err(|e| {
        tracing::debug!("request failed: {e}");
        e.into()
    })
}

pub struct Backend {
    shared: Arc<Shared>,
}

#[rustfmt::skip]
impl LanguageServer for Backend {
    async fn initialize(&self, p: lsp::InitializeParams) -> Reply<lsp::InitializeResult> { reply(lifecycle::initialize(&self.shared, p)) }
    async fn initialized(&self, _: lsp::InitializedParams) { lifecycle::initialized(&self.shared).await }
    async fn shutdown(&self) -> Reply<()> { lifecycle::shutdown(&self.shared); Ok(()) }
    async fn did_change_configuration(&self, p: lsp::DidChangeConfigurationParams) { lifecycle::did_change_configuration(&self.shared, p).await }
    async fn did_open(&self, p: lsp::DidOpenTextDocumentParams) { documents::did_open(&self.shared, p).await }
    async fn did_change(&self, p: lsp::DidChangeTextDocumentParams) { documents::did_change(&self.shared, p).await }
    async fn did_close(&self, p: lsp::DidCloseTextDocumentParams) { documents::did_close(&self.shared, p).await }
    async fn did_save(&self, p: lsp::DidSaveTextDocumentParams) { documents::did_save(&self.shared, p).await }
    async fn code_action(&self, p: lsp::CodeActionParams) -> Reply<Option<lsp::CodeActionResponse>> { reply(code_actions::code_action(&self.shared, p)) }
    async fn code_lens(&self, p: lsp::CodeLensParams) -> Reply<Option<Vec<lsp::CodeLens>>> { reply(code_actions::code_lens(&self.shared, p)) }
    async fn execute_command(&self, p: lsp::ExecuteCommandParams) -> Reply<Option<Value>> { reply(code_actions::execute_command(&self.shared, p).await) }
}

#[rustfmt::skip]
impl Backend {
    async fn focus(&self, p: ext::context::FocusParams) { focus::focus(&self.shared, p) }
    async fn forward_diagnostics(&self, p: ext::context::ForwardDiagnosticsParams) { focus::forward_diagnostics(&self.shared, p) }
    async fn context_preview(&self, _: Value) -> Reply<ext::context::ContextPreviewResult> { Ok(context::preview(&self.shared)) }
    async fn set_context_enabled(&self, p: ext::context::SetContextEnabledParams) -> Reply<ext::context::SetContextEnabledResult> { Ok(context::set_enabled(&self.shared, p)) }
    async fn task_start(&self, p: ext::task::TaskStartParams) -> Reply<ext::task::TaskStartResult> { reply(tasks::start(&self.shared, p).await) }
    async fn task_cancel(&self, p: ext::task::TaskCancelParams) -> Reply<ext::types::Empty> { reply(tasks::cancel(&self.shared, p)) }
    async fn progress_cancel(&self, p: lsp::WorkDoneProgressCancelParams) { tasks::cancel_progress(&self.shared, p) }
    async fn task_list(&self, _: Value) -> Reply<ext::task::TaskListResult> { Ok(tasks::list(&self.shared)) }
    async fn task_resume(&self, p: ext::task::TaskResumeParams) -> Reply<ext::task::TaskStartResult> { reply(tasks::resume(&self.shared, p).await) }
    async fn review_list(&self, p: ext::review::ReviewListParams) -> Reply<ext::review::ReviewListResult> { reply(review::list(&self.shared, p)) }
    async fn review_accept(&self, p: ext::review::ReviewDecisionParams) -> Reply<ext::review::ReviewDecisionResult> { reply(review::decide(&self.shared, p, true).await) }
    async fn review_reject(&self, p: ext::review::ReviewDecisionParams) -> Reply<ext::review::ReviewDecisionResult> { reply(review::decide(&self.shared, p, false).await) }
    async fn review_undo_turn(&self, p: ext::review::ReviewUndoTurnParams) -> Reply<ext::review::ReviewDecisionResult> { reply(review::undo_turn(&self.shared, p).await) }
}

/// The custom methods a client sends (the server sends `tandem/task/event`,
/// `tandem/review/changed` and `tandem/approval/request` itself).
#[rustfmt::skip]
pub fn build(options: ServerOptions) -> (FillParams, ClientSocket) {
    let (service, socket) = LspService::build(|client| Backend { shared: Shared::new(client, options) })
        .custom_method(ext::Focus::METHOD, Backend::focus)
        .custom_method(ext::ForwardDiagnostics::METHOD, Backend::forward_diagnostics)
        .custom_method(ext::ContextPreview::METHOD, Backend::context_preview)
        .custom_method(ext::SetContextEnabled::METHOD, Backend::set_context_enabled)
        .custom_method(ext::TaskStart::METHOD, Backend::task_start)
        .custom_method(ext::TaskCancel::METHOD, Backend::task_cancel)
        // tower-lsp-server has no trait method for it yet.
        .custom_method(<lsp::notification::WorkDoneProgressCancel as lsp::notification::Notification>::METHOD, Backend::progress_cancel)
        .custom_method(ext::TaskList::METHOD, Backend::task_list)
        .custom_method(ext::TaskResume::METHOD, Backend::task_resume)
        .custom_method(ext::ReviewList::METHOD, Backend::review_list)
        .custom_method(ext::ReviewAccept::METHOD, Backend::review_accept)
        .custom_method(ext::ReviewReject::METHOD, Backend::review_reject)
        .custom_method(ext::ReviewUndoTurn::METHOD, Backend::review_undo_turn)
        .finish();
    (FillParams(service), socket)
}

/// Gives `{}` to `tandem/*` requests that arrive without params, or with `[]`. tower-lsp
/// insists on params for a method that takes any, while JSON-RPC clients commonly omit them
/// for `{}`-shaped ones (`tandem/task/list`, `tandem/review/list`, `tandem/context/preview`),
/// and Neovim encodes an empty Lua table `{}` as `[]`.
pub struct FillParams(LspService<Backend>);

impl tower_service::Service<Request> for FillParams {
    type Response = Option<Response>;
    type Error = <LspService<Backend> as tower_service::Service<Request>>::Error;
    type Future = <LspService<Backend> as tower_service::Service<Request>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let empty = |v: &Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
        let needs = req.params().is_none_or(empty)
            && req.id().is_some()
            && req.method().starts_with("tandem/");
        if !needs {
            return self.0.call(req);
        }
        let (method, id, _) = req.into_parts();
        let mut b = Request::build(method).params(Value::Object(Default::default()));
        if let Some(id) = id {
            b = b.id(id);
        }
        self.0.call(b.finish())
    }
}
