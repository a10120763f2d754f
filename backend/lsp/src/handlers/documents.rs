//! Document sync: `didOpen`, `didChange` (incremental and full), `didClose`, `didSave`.
//!
//! These are the hot path (one `didChange` per keystroke), so each takes the lock once, makes
//! one workspace call, and only goes on to review bookkeeping when the review generation moved
//! (a hunk under review was edited or re-anchored).

use crate::apply;
use crate::convert;
use crate::state::Shared;
use std::sync::Arc;
use tandem_workspace::TextChange;
use tower_lsp_server::lsp_types as lsp;

pub async fn did_open(shared: &Arc<Shared>, params: lsp::DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let Ok(path) = convert::lsp_uri_to_path(&doc.uri) else {
        return;
    };
    let moved = {
        let mut s = shared.lock();
        if let Err(e) = s.ws.did_open(&path, doc.version, &doc.text) {
            tracing::warn!("didOpen: {e}");
        }
        s.ws.review().generation() != s.told_generation
    };
    shared.overlay.clear(&path);
    if moved {
        apply::sync_review(shared).await;
    }
}

pub async fn did_change(shared: &Arc<Shared>, params: lsp::DidChangeTextDocumentParams) {
    let Ok(path) = convert::lsp_uri_to_path(&params.text_document.uri) else {
        return;
    };
    let changes: Vec<TextChange> = params
        .content_changes
        .into_iter()
        .map(|c| match c.range {
            Some(r) => TextChange::edit(convert::lsp_range(r), c.text),
            None => TextChange::replace_all(c.text),
        })
        .collect();
    let moved = {
        let mut s = shared.lock();
        if let Err(e) =
            s.ws.did_change(&path, params.text_document.version, &changes)
        {
            // A stale or unknown document: nothing was applied, and the client's next full
            // open or change puts us right. Saying so is all we can do.
            tracing::warn!("didChange: {e}");
        }
        s.ws.review().generation() != s.told_generation
    };
    shared.overlay.clear(&path);
    if moved {
        apply::sync_review(shared).await;
    }
}

pub async fn did_close(shared: &Arc<Shared>, params: lsp::DidCloseTextDocumentParams) {
    let Ok(path) = convert::lsp_uri_to_path(&params.text_document.uri) else {
        return;
    };
    let moved = {
        let mut s = shared.lock();
        s.ws.did_close(&path);
        s.ws.review().generation() != s.told_generation
    };
    shared.overlay.clear(&path);
    if moved {
        apply::sync_review(shared).await;
    }
}

/// A save makes the disk equal the buffer; a file under review is re-read so its hunks are
/// judged against what is there now.
pub async fn did_save(shared: &Arc<Shared>, params: lsp::DidSaveTextDocumentParams) {
    let Ok(path) = convert::lsp_uri_to_path(&params.text_document.uri) else {
        return;
    };
    let moved = {
        let mut s = shared.lock();
        if s.ws.review().tracks(&path)
            && let Err(e) = s.ws.refresh(&path)
        {
            tracing::warn!("didSave: {e}");
        }
        s.ws.review().generation() != s.told_generation
    };
    if moved {
        apply::sync_review(shared).await;
    }
}
