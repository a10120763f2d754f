//! `tandem/context/preview` and `tandem/context/setEnabled`.
//!
//! The preview is computed by the same call that builds a turn's context blocks, so what a
//! person sees is what the model gets.

use crate::convert;
use crate::state::Shared;
use tandem_protocol_ext::context::{
    ContextPreviewResult, SetContextEnabledParams, SetContextEnabledResult,
};

pub fn preview(shared: &Shared) -> ContextPreviewResult {
    let preview = shared.lock().ws.context_preview();
    convert::context_preview(&preview)
}

pub fn set_enabled(shared: &Shared, params: SetContextEnabledParams) -> SetContextEnabledResult {
    let mut s = shared.lock();
    s.settings.auto_context = params.enabled;
    s.ws.set_context_enabled(params.enabled);
    SetContextEnabledResult {
        enabled: s.ws.context().config().enabled,
    }
}
