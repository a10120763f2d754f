//! `tandem/focus` and `tandem/diagnostics/forward`: where the user is, and what their other
//! language servers say. Both feed Auto Context.

use crate::convert;
use crate::state::Shared;
use tandem_protocol_ext::context::{FocusParams, ForwardDiagnosticsParams};
use tandem_workspace::{DiagnosticInput, FocusInput};

pub fn focus(shared: &Shared, params: FocusParams) {
    let Ok(path) = convert::uri_to_path(&params.uri) else {
        tracing::warn!("tandem/focus: not a file URI: {}", params.uri);
        return;
    };
    let input = FocusInput {
        path,
        position: convert::position(params.position),
        selections: params.selections.into_iter().map(convert::range).collect(),
        visible_ranges: params
            .visible_ranges
            .into_iter()
            .map(convert::range)
            .collect(),
    };
    shared.lock().ws.set_focus(input);
}

pub fn forward_diagnostics(shared: &Shared, params: ForwardDiagnosticsParams) {
    let Ok(path) = convert::uri_to_path(&params.uri) else {
        tracing::warn!("tandem/diagnostics/forward: not a file URI: {}", params.uri);
        return;
    };
    let diagnostics = params
        .diagnostics
        .into_iter()
        .map(|d| DiagnosticInput {
            range: convert::range(d.range),
            severity: convert::severity(d.severity),
            message: d.message,
            source: d.source,
        })
        .collect();
    shared.lock().ws.set_diagnostics(&path, diagnostics);
}
