//! The headless shell: tandem exec.
