//! The suites, one per request family.

mod approvals;
mod documents;
mod file_ops;
mod progress;
mod review;
mod tasks;
