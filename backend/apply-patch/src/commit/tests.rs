//! Unit tests of commit_to_disk.
use super::*;
