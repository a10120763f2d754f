//! The client's settings: `initializationOptions` at start, then every
//! `workspace/didChangeConfiguration`. They reach the next task started, without a restart.
//!
//! Both shapes clients use are accepted: the settings object itself, or the object under a
//! `tandem` key (VS Code's `synchronize.configurationSection`). A field that is absent or
//! `null` leaves the current value alone, so a client may send only what changed.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

/// Which review model applies to patches under the `on-request` approval policy. Under
/// `untrusted` every patch is reviewed before it is written; under `never` patches are written
/// at once and reviewed afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReviewModelSetting {
    /// The kernel writes the patch; every hunk can still be reverted, and the turn undone.
    #[default]
    ApplyThenReview,
    /// Nothing is written until a person accepts it, hunk by hunk.
    ApproveBeforeWrite,
}

/// The settings in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub sandbox_mode: Option<SandboxMode>,
    pub approval_policy: Option<ApprovalPolicy>,
    pub model: Option<String>,
    pub profile: Option<String>,
    /// Auto Context on or off (the user's toggle, `tandem/context/setEnabled`, changes it too).
    pub auto_context: bool,
    pub review_model: ReviewModelSetting,
    /// How long an approval may wait for an answer before it counts as `deny`.
    pub approval_timeout: Duration,
    /// Extra globs Auto Context never sends (on top of the built-in secret patterns).
    pub context_deny_globs: Vec<String>,
    pub context_budget_tokens: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            sandbox_mode: None,
            approval_policy: None,
            model: None,
            profile: None,
            auto_context: true,
            review_model: ReviewModelSetting::default(),
            approval_timeout: Duration::from_secs(120),
            context_deny_globs: Vec::new(),
            context_budget_tokens: None,
        }
    }
}

/// One update, as sent. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SettingsUpdate {
    sandbox_mode: Option<SandboxMode>,
    approval_policy: Option<ApprovalPolicy>,
    model: Option<String>,
    profile: Option<String>,
    auto_context: Option<bool>,
    review_model: Option<ReviewModelSetting>,
    approval_timeout_seconds: Option<f64>,
    context_deny_globs: Option<Vec<String>>,
    context_budget_tokens: Option<usize>,
}

/// What an update changed that needs more than a new value (the context engine is rebuilt).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Changed {
    pub auto_context: bool,
    pub context_config: bool,
}

impl Settings {
    /// Applies an update; an error names the field that does not fit and changes nothing.
    pub fn apply(&mut self, value: &serde_json::Value) -> Result<Changed, String> {
        let value = match value.get("tandem") {
            Some(inner) if inner.is_object() => inner,
            _ => value,
        };
        if value.is_null() {
            return Ok(Changed::default());
        }
        let u: SettingsUpdate =
            serde_json::from_value(value.clone()).map_err(|e| format!("invalid settings: {e}"))?;
        let timeout = match u.approval_timeout_seconds {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                return Err(format!(
                    "invalid settings: approvalTimeoutSeconds must be a positive number, not {s}"
                ));
            }
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        let mut changed = Changed::default();
        if u.sandbox_mode.is_some() {
            self.sandbox_mode = u.sandbox_mode;
        }
        if u.approval_policy.is_some() {
            self.approval_policy = u.approval_policy;
        }
        if u.model.is_some() {
            self.model = u.model.filter(|m| !m.is_empty());
        }
        if u.profile.is_some() {
            self.profile = u.profile.filter(|p| !p.is_empty());
        }
        if let Some(on) = u.auto_context {
            changed.auto_context = on != self.auto_context;
            self.auto_context = on;
        }
        if let Some(m) = u.review_model {
            self.review_model = m;
        }
        if let Some(t) = timeout {
            self.approval_timeout = t;
        }
        if let Some(globs) = u.context_deny_globs {
            changed.context_config |= globs != self.context_deny_globs;
            self.context_deny_globs = globs;
        }
        if u.context_budget_tokens.is_some() {
            changed.context_config |= u.context_budget_tokens != self.context_budget_tokens;
            self.context_budget_tokens = u.context_budget_tokens;
        }
        Ok(changed)
    }

    /// The config overrides these settings make, on top of the command line's.
    pub fn overrides(
        &self,
        mut base: tandem_config::ConfigOverrides,
    ) -> tandem_config::ConfigOverrides {
        if self.sandbox_mode.is_some() {
            base.sandbox_mode = self.sandbox_mode;
        }
        if self.approval_policy.is_some() {
            base.approval_policy = self.approval_policy;
        }
        if self.model.is_some() {
            base.model.clone_from(&self.model);
        }
        if self.profile.is_some() {
            base.profile.clone_from(&self.profile);
        }
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn updates_merge_and_accept_both_shapes() {
        let mut s = Settings::default();
        s.apply(&json!({"approvalPolicy": "untrusted", "approvalTimeoutSeconds": 0.5}))
            .unwrap();
        s.apply(&json!({"tandem": {"model": "m2", "reviewModel": "approveBeforeWrite"}}))
            .unwrap();
        assert_eq!(s.approval_policy, Some(ApprovalPolicy::Untrusted));
        assert_eq!(s.model.as_deref(), Some("m2"));
        assert_eq!(s.review_model, ReviewModelSetting::ApproveBeforeWrite);
        assert_eq!(s.approval_timeout, Duration::from_millis(500));
        let changed = s.apply(&json!({"autoContext": false})).unwrap();
        assert!(changed.auto_context && !s.auto_context);
    }

    #[test]
    fn a_bad_value_names_the_field_and_changes_nothing() {
        let mut s = Settings::default();
        let err = s
            .apply(&json!({"sandboxMode": "yolo", "model": "x"}))
            .unwrap_err();
        assert!(err.contains("yolo"), "{err}");
        assert_eq!(s, Settings::default());
        assert!(s.apply(&json!({"approvalTimeoutSeconds": -1})).is_err());
    }
}
