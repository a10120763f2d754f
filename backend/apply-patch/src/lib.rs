//! Parses and applies the apply_patch format, atomically.
