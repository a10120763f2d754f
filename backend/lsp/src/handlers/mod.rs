//! One file per request family. Each handler converts its params (`crate::convert`), makes
//! one call into the workspace or a kernel under the state lock, and converts the answer back.

pub mod approvals;
pub mod code_actions;
pub mod context;
pub mod documents;
pub mod focus;
pub mod lifecycle;
pub mod review;
pub mod tasks;
