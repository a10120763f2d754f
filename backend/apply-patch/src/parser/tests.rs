//! Unit tests of the parser.
use super::*;
