//! The tools the model can call: their names and JSON schemas (compatible with Codex's, so
//! models tuned on those work unchanged), and the parsing of a call's arguments.
//!
//! Parsing is lenient where a model's slip is unambiguous (a command given as one string) and
//! strict otherwise; a call that cannot be parsed becomes an error message for the model, never
//! a failed turn.

pub mod apply_patch;
pub mod mcp;
pub mod shell;
pub mod update_plan;

use serde::Deserialize;
use serde_json::json;
use tandem_model::ToolSpec;
use tandem_protocol::items::PlanStep;

/// A parsed tool call, ready to dispatch.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolCall {
    Shell(ShellArgs),
    ApplyPatch {
        input: String,
        workdir: Option<String>,
    },
    UpdatePlan {
        explanation: Option<String>,
        plan: Vec<PlanStep>,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ShellArgs {
    #[serde(deserialize_with = "command_vec")]
    pub command: Vec<String>,
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    #[serde(default)]
    pub with_escalated_permissions: Option<bool>,
    #[serde(default)]
    pub justification: Option<String>,
}

/// Accept `["ls","-l"]` (the schema) and also `"ls -l"`, which small models often send; the
/// string form runs through `bash -lc` exactly as written.
fn command_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Vec(Vec<String>),
        Str(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::Vec(v) => v,
        Either::Str(s) => vec!["bash".into(), "-lc".into(), s],
    })
}

#[derive(Deserialize)]
struct ApplyPatchArgs {
    input: String,
}

#[derive(Deserialize)]
struct UpdatePlanArgs {
    #[serde(default)]
    explanation: Option<String>,
    plan: Vec<PlanStep>,
}

/// Parse a call by tool name. `Ok(None)` means the name is not a built-in tool (it may be an MCP
/// tool); `Err` is a message to return to the model.
pub fn parse_call(name: &str, arguments: &str) -> Result<Option<ToolCall>, String> {
    let bad_args = |e: serde_json::Error| {
        format!(
            "failed to parse the arguments of `{name}`: {e}. Send a JSON object matching the tool's schema."
        )
    };
    let arguments = if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    };
    Ok(Some(match name {
        "shell" | "container.exec" => {
            let args: ShellArgs = serde_json::from_str(arguments).map_err(bad_args)?;
            if args.command.is_empty() {
                return Err("`shell` needs a non-empty `command` array".into());
            }
            // A patch sent through the shell is still a patch: route it to the patch tool so it
            // is checked, approved and applied atomically instead of run as a program.
            if let Some((input, dir)) = apply_patch::patch_from_shell_command(&args.command) {
                let workdir = match (args.workdir, dir) {
                    (Some(base), Some(dir)) => Some(format!("{base}/{dir}")),
                    (base, dir) => dir.or(base),
                };
                return Ok(Some(ToolCall::ApplyPatch { input, workdir }));
            }
            ToolCall::Shell(args)
        }
        "apply_patch" => {
            let args: ApplyPatchArgs = serde_json::from_str(arguments).map_err(bad_args)?;
            ToolCall::ApplyPatch {
                input: args.input,
                workdir: None,
            }
        }
        "update_plan" => {
            let args: UpdatePlanArgs = serde_json::from_str(arguments).map_err(bad_args)?;
            ToolCall::UpdatePlan {
                explanation: args.explanation,
                plan: args.plan,
            }
        }
        _ => return Ok(None),
    }))
}

/// The built-in tool specs.
pub fn builtin_specs(escalation_allowed: bool) -> Vec<ToolSpec> {
    let mut shell_props = json!({
        "command": {"type": "array", "items": {"type": "string"}, "description": "The command to execute, as an argument vector."},
        "workdir": {"type": "string", "description": "The working directory to run the command in."},
        "timeout_ms": {"type": "number", "description": "The timeout for the command in milliseconds."}
    });
    if escalation_allowed {
        shell_props["with_escalated_permissions"] = json!({"type": "boolean", "description": "Whether to request escalated permissions. Set to true if the command needs to run without sandbox restrictions."});
        shell_props["justification"] = json!({"type": "string", "description": "Only set if with_escalated_permissions is true. 1-sentence explanation of why we want to run this command."});
    }
    vec![
        ToolSpec {
            name: "shell".into(),
            description: "Runs a shell command and returns its output.".into(),
            parameters: json!({"type": "object", "properties": shell_props, "required": ["command"], "additionalProperties": false}),
        },
        ToolSpec {
            name: "apply_patch".into(),
            description: apply_patch::DESCRIPTION.into(),
            parameters: json!({"type": "object", "properties": {"input": {"type": "string", "description": "The entire contents of the apply_patch command"}}, "required": ["input"], "additionalProperties": false}),
        },
        ToolSpec {
            name: "update_plan".into(),
            description: "Updates the task plan.\nProvide an optional explanation and a list of plan items, each with a step and status.\nAt most one step can be in_progress at a time.".into(),
            parameters: json!({"type": "object", "properties": {
                "explanation": {"type": "string"},
                "plan": {"type": "array", "description": "The list of steps", "items": {"type": "object", "properties": {
                    "step": {"type": "string"},
                    "status": {"type": "string", "description": "One of: pending, in_progress, completed", "enum": ["pending", "in_progress", "completed"]}
                }, "required": ["step", "status"], "additionalProperties": false}}
            }, "required": ["plan"], "additionalProperties": false}),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_accepts_the_schema_and_a_plain_string() {
        let Ok(Some(ToolCall::Shell(a))) =
            parse_call("shell", r#"{"command":["ls","-l"],"timeout_ms":5}"#)
        else {
            panic!()
        };
        assert_eq!(a.command, ["ls", "-l"]);
        assert_eq!(a.timeout_ms, Some(5));
        let Ok(Some(ToolCall::Shell(a))) = parse_call("shell", r#"{"command":"ls | wc -l"}"#)
        else {
            panic!()
        };
        assert_eq!(a.command, ["bash", "-lc", "ls | wc -l"]);
    }

    #[test]
    fn malformed_arguments_become_a_message_for_the_model() {
        let err = parse_call("shell", r#"{"command": [1, 2"#).unwrap_err();
        assert!(
            err.contains("failed to parse the arguments of `shell`"),
            "{err}"
        );
        let err =
            parse_call("update_plan", r#"{"plan":[{"step":"a","status":"maybe"}]}"#).unwrap_err();
        assert!(err.contains("unknown variant"), "{err}");
    }

    #[test]
    fn unknown_tools_are_left_to_the_caller() {
        assert_eq!(parse_call("mcp__x__y", "{}"), Ok(None));
    }

    #[test]
    fn a_patch_through_the_shell_is_routed_to_apply_patch() {
        let args =
            serde_json::json!({"command": ["apply_patch", "*** Begin Patch\n*** End Patch"]})
                .to_string();
        assert!(matches!(
            parse_call("shell", &args),
            Ok(Some(ToolCall::ApplyPatch { .. }))
        ));
    }
}
