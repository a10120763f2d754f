//! Kernel-enforced isolation for every command the agent runs.
