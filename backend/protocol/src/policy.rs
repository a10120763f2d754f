//! The two independent axes of latitude, and the answers a user can give to an approval.
//!
//! `SandboxMode` says what a command *can* do (enforced by the OS); `ApprovalPolicy` says when a
//! person is asked first. They are deliberately separate: a read-only sandbox with no approvals
//! is as valid as full access with approval for everything.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What the operating system lets a command touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// The whole filesystem is readable; nothing is writable but `/dev/null` and a private `/tmp`.
    #[default]
    ReadOnly,
    /// The cwd and configured writable roots are writable, minus `.git`, `.tandem` and `.agents`.
    WorkspaceWrite,
    /// No sandbox at all. Commands run as the user.
    DangerFullAccess,
}

/// When a person is asked before the agent acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Only known-safe, read-only commands run without asking.
    Untrusted,
    /// Commands run in the sandbox; ask only when the model requests escalation or the command
    /// must leave the sandbox. `on-failure` is accepted as an alias, as Codex does.
    #[serde(alias = "on-failure")]
    OnRequest,
    /// Never ask. Failures and denials go back to the model.
    #[default]
    Never,
}

/// A person's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Run (or write) this once.
    AllowOnce,
    /// Run this, and anything with the same command prefix, for the rest of the session.
    AllowSession,
    /// Do not run it; tell the model it was denied and let the turn go on.
    Deny,
    /// Do not run it, and stop the turn.
    Cancel,
}

impl ReviewDecision {
    pub fn is_allowed(self) -> bool {
        matches!(
            self,
            ReviewDecision::AllowOnce | ReviewDecision::AllowSession
        )
    }
}

macro_rules! kebab_enum_str {
    ($ty:ty, $($variant:path => $text:literal),+ $(,)?) => {
        impl $ty {
            /// The spelling used in config files, on the command line and on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($variant => $text),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($variant),)+
                    other => Err(format!(
                        "unknown value `{other}`; expected one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

kebab_enum_str!(SandboxMode,
    SandboxMode::ReadOnly => "read-only",
    SandboxMode::WorkspaceWrite => "workspace-write",
    SandboxMode::DangerFullAccess => "danger-full-access",
);

kebab_enum_str!(ApprovalPolicy,
    ApprovalPolicy::Untrusted => "untrusted",
    ApprovalPolicy::OnRequest => "on-request",
    ApprovalPolicy::Never => "never",
);

kebab_enum_str!(ReviewDecision,
    ReviewDecision::AllowOnce => "allow_once",
    ReviewDecision::AllowSession => "allow_session",
    ReviewDecision::Deny => "deny",
    ReviewDecision::Cancel => "cancel",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_through_their_spelling() {
        for mode in [
            SandboxMode::ReadOnly,
            SandboxMode::WorkspaceWrite,
            SandboxMode::DangerFullAccess,
        ] {
            assert_eq!(mode.as_str().parse::<SandboxMode>(), Ok(mode));
            assert_eq!(serde_json::to_string(&mode).unwrap(), format!("\"{mode}\""));
        }
        for policy in [
            ApprovalPolicy::Untrusted,
            ApprovalPolicy::OnRequest,
            ApprovalPolicy::Never,
        ] {
            assert_eq!(policy.as_str().parse::<ApprovalPolicy>(), Ok(policy));
        }
    }

    #[test]
    fn on_failure_is_an_alias_of_on_request() {
        let p: ApprovalPolicy = serde_json::from_str("\"on-failure\"").unwrap();
        assert_eq!(p, ApprovalPolicy::OnRequest);
    }

    #[test]
    fn unknown_values_name_the_choices() {
        let err = "sometimes".parse::<ApprovalPolicy>().unwrap_err();
        assert!(err.contains("untrusted, on-request, never"), "{err}");
    }
}
