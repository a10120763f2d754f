//! The agent kernel: a queue pair of Op in and Event out.
