//! Shapes shared by several methods: positions and ranges with LSP's shape.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A position in a document: zero-based line, and a column in the encoding negotiated at
/// `initialize` (`positionEncoding`), exactly as in LSP.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS, JsonSchema,
)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

/// A range in a document, end exclusive, exactly as in LSP.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS, JsonSchema,
)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

/// An empty params or result object (`{}`), for methods that need no data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS, JsonSchema)]
pub struct Empty {}
