//! The MCP client side of Tandem (work in progress).
