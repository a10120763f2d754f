//! What the manager reports about its servers while the session runs, and how it restarts them.

use std::path::PathBuf;
use std::time::Duration;

/// A change in one server's life, sent on the channel [`crate::McpManager::start`] returns.
///
/// None of these is fatal to the session; the kernel turns them into warnings or status lines.
#[derive(Debug, Clone, PartialEq)]
pub enum McpEvent {
    /// The server is being started (first start, or after a restart delay).
    Starting { server: String },
    /// `initialize` and `tools/list` succeeded; `tools` is how many are exposed after filtering.
    Ready { server: String, tools: usize },
    /// The server could not be started, or gave up restarting. Its tools are gone for the
    /// session. `error` says what to fix.
    Failed { server: String, error: String },
    /// A running server died or lost its connection. A `Restarting` or `Failed` follows.
    Exited { server: String, error: String },
    /// The server will be started again after `delay` (`attempt` counts from 1).
    Restarting {
        server: String,
        attempt: u32,
        delay: Duration,
    },
}

impl McpEvent {
    /// The server the event is about.
    pub fn server(&self) -> &str {
        match self {
            McpEvent::Starting { server }
            | McpEvent::Ready { server, .. }
            | McpEvent::Failed { server, .. }
            | McpEvent::Exited { server, .. }
            | McpEvent::Restarting { server, .. } => server,
        }
    }

    /// One line for people, for the shells to print as they see fit.
    pub fn message(&self) -> String {
        match self {
            McpEvent::Starting { server } => format!("MCP server `{server}` is starting"),
            McpEvent::Ready { server, tools } => {
                let s = if *tools == 1 { "" } else { "s" };
                format!("MCP server `{server}` is ready ({tools} tool{s})")
            }
            McpEvent::Failed { server, error } => format!("MCP server `{server}` failed: {error}"),
            McpEvent::Exited { server, error } => format!("MCP server `{server}` stopped: {error}"),
            McpEvent::Restarting {
                server,
                attempt,
                delay,
            } => format!(
                "restarting MCP server `{server}` in {:.1}s (attempt {attempt})",
                delay.as_secs_f64()
            ),
        }
    }
}

/// How a crashed server is restarted: exponential backoff, a cap, and a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct RestartPolicy {
    /// The delay before the first restart; doubled for each further attempt.
    pub initial_delay: Duration,
    /// The longest delay between attempts.
    pub max_delay: Duration,
    /// Restarts allowed in a row before the server is given up on (`Failed`).
    pub max_attempts: u32,
    /// A server that stayed up this long has its attempt count reset, so one crash a day does
    /// not use up the budget meant for crash loops.
    pub stable_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_attempts: 5,
            stable_after: Duration::from_secs(60),
        }
    }
}

impl RestartPolicy {
    /// The delay before restart number `attempt` (from 1): initial × 2^(attempt-1), capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }
}

/// Settings beyond the server table, with defaults for everything.
#[derive(Debug, Clone, Default)]
pub struct McpOptions {
    /// The session's working directory: relative `cwd`s of stdio servers are taken from it.
    /// `None` uses the process's current directory.
    pub cwd: Option<PathBuf>,
    pub restart: RestartPolicy,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RestartPolicy::default();
        let delays: Vec<u64> = (1..=7).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(policy.delay(100), Duration::from_secs(30));
    }
}
