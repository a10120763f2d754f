//! The suites, one per request family.

mod approvals;
mod documents;
mod review;
mod tasks;
