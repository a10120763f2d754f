//! What can go wrong when talking to a model, worded so the user knows what to do next.
//!
//! Every variant's message names the provider or the setting involved. A user who sees
//! "cannot reach Ollama at http://localhost:11434/v1: connection refused; is the server
//! running (`ollama serve`)?" can fix it; one who sees "error sending request" cannot.

use std::time::Duration;
use tandem_protocol::events::TurnErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The provider needs a key and its environment variable is unset or empty.
    #[error(
        "no API key for {provider}: set the environment variable {env_key} (or change env_key \
         in the provider's [model_providers.*] table)"
    )]
    MissingApiKey { provider: String, env_key: String },

    /// No HTTP response at all: connection refused, DNS failure, TLS failure, connect timeout.
    /// `detail` says what happened and what to change.
    #[error("cannot reach {provider} at {url}: {detail}")]
    Unreachable {
        provider: String,
        url: String,
        detail: String,
    },

    /// The provider refused the request (a 4xx other than 429, or a status we do not retry).
    /// `body_excerpt` is the provider's own error message when we could extract it.
    #[error("{provider} answered HTTP {status}: {body_excerpt}{}", http_hint(*.status))]
    Http {
        provider: String,
        status: u16,
        body_excerpt: String,
    },

    /// A retryable failure (429, 5xx) persisted through every retry, or the provider asked us
    /// to wait longer than we are willing to.
    #[error("gave up after {attempts} attempt(s): {last}")]
    RetriesExhausted {
        attempts: u32,
        last: Box<ModelError>,
    },

    /// The stream (or the wait for the response headers) was silent for longer than the
    /// provider's `stream_idle_timeout_ms`.
    #[error(
        "the model stream was silent for {secs}s, longer than stream_idle_timeout_ms allows; \
         giving up"
    )]
    IdleTimeout { secs: f64 },

    /// The stream closed before the response was complete (no `response.completed` or
    /// `[DONE]`), for example in the middle of an item.
    #[error("the model stream ended early: {detail}")]
    StreamEnded { detail: String },

    /// The prompt does not fit the model's context window. The kernel reacts by compacting.
    #[error("the conversation does not fit the model's context window: {detail}")]
    ContextWindowExceeded { detail: String },

    /// The provider reported a failure inside an otherwise healthy stream
    /// (`response.failed`, an `error` event, or an error chunk on Chat Completions).
    #[error("the provider reported an error{}: {message}", code_suffix(.code))]
    Failed {
        code: Option<String>,
        message: String,
    },

    /// The provider sent something we could not parse.
    #[error("could not decode the model's reply: {detail}")]
    Decode { detail: String },
}

impl ModelError {
    /// Whether trying the same request again may succeed.
    ///
    /// The client already retries connection failures and retryable statuses itself, so
    /// `RetriesExhausted` is not retryable: the budget is spent. Errors inside a stream
    /// (`StreamEnded`, `IdleTimeout`, transient `Failed` codes) are retryable, but the client
    /// does not retry them, since part of the reply may already have been shown; the kernel
    /// decides.
    pub fn is_retryable(&self) -> bool {
        match self {
            ModelError::Unreachable { .. }
            | ModelError::StreamEnded { .. }
            | ModelError::IdleTimeout { .. } => true,
            ModelError::Http { status, .. } => is_retryable_status(*status),
            ModelError::Failed { code, .. } => matches!(
                code.as_deref(),
                Some(
                    "server_error"
                        | "rate_limit_exceeded"
                        | "server_is_overloaded"
                        | "slow_down"
                        | "internal_error"
                )
            ),
            ModelError::MissingApiKey { .. }
            | ModelError::RetriesExhausted { .. }
            | ModelError::ContextWindowExceeded { .. }
            | ModelError::Decode { .. } => false,
        }
    }

    /// The code a failed turn carries when this error ends it.
    pub fn turn_error_code(&self) -> TurnErrorCode {
        match self {
            ModelError::MissingApiKey { .. } => TurnErrorCode::MissingApiKey,
            ModelError::Unreachable { .. } => TurnErrorCode::ModelUnreachable,
            ModelError::Http { status, .. } => match status {
                401 | 403 => TurnErrorCode::Unauthorized,
                429 => TurnErrorCode::RateLimited,
                s if is_retryable_status(*s) => TurnErrorCode::ServerError,
                _ => TurnErrorCode::BadRequest,
            },
            ModelError::RetriesExhausted { last, .. } => last.turn_error_code(),
            ModelError::IdleTimeout { .. } | ModelError::StreamEnded { .. } => {
                TurnErrorCode::StreamInterrupted
            }
            ModelError::ContextWindowExceeded { .. } => TurnErrorCode::ContextWindowExceeded,
            ModelError::Failed { .. } => TurnErrorCode::ProviderError,
            ModelError::Decode { .. } => TurnErrorCode::BadResponse,
        }
    }

    pub(crate) fn idle_timeout(idle: Duration) -> Self {
        ModelError::IdleTimeout {
            secs: idle.as_secs_f64(),
        }
    }

    /// Maps a provider error code and message onto our variants: context-window overflows
    /// get their own variant (they need compaction, not a retry), everything else is `Failed`.
    pub(crate) fn from_provider(code: Option<String>, message: String) -> Self {
        if is_context_window_error(code.as_deref(), &message) {
            ModelError::ContextWindowExceeded { detail: message }
        } else {
            ModelError::Failed { code, message }
        }
    }
}

/// 408 (request timeout), 409 (OpenAI's "conflict, try again"), 429 and every 5xx.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429) || (500..600).contains(&status)
}

/// Recognises a context-window overflow across providers: OpenAI and OpenRouter send the code
/// `context_length_exceeded`, llama.cpp `exceed_context_size_error`, and vLLM only says
/// "maximum context length" in the message.
pub(crate) fn is_context_window_error(code: Option<&str>, message: &str) -> bool {
    if matches!(
        code,
        Some("context_length_exceeded" | "exceed_context_size_error")
    ) {
        return true;
    }
    let lower = message.to_ascii_lowercase();
    lower.contains("maximum context length")
        || lower.contains("context window")
        || lower.contains("context length exceeded")
        || lower.contains("exceeds the available context size")
}

fn http_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (check the API key in the provider's env_key variable)",
        404 => " (check base_url and the model name)",
        _ => "",
    }
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_gets_the_code_a_program_can_act_on() {
        let http = |status| ModelError::Http {
            provider: "p".into(),
            status,
            body_excerpt: String::new(),
        };
        let exhausted = |last| ModelError::RetriesExhausted {
            attempts: 5,
            last: Box::new(last),
        };
        let cases = [
            (http(401), TurnErrorCode::Unauthorized),
            (http(403), TurnErrorCode::Unauthorized),
            (http(404), TurnErrorCode::BadRequest),
            (http(400), TurnErrorCode::BadRequest),
            (exhausted(http(429)), TurnErrorCode::RateLimited),
            (exhausted(http(503)), TurnErrorCode::ServerError),
            (
                exhausted(ModelError::Unreachable {
                    provider: "p".into(),
                    url: "u".into(),
                    detail: "refused".into(),
                }),
                TurnErrorCode::ModelUnreachable,
            ),
            (
                ModelError::MissingApiKey {
                    provider: "p".into(),
                    env_key: "K".into(),
                },
                TurnErrorCode::MissingApiKey,
            ),
            (
                ModelError::idle_timeout(Duration::from_secs(1)),
                TurnErrorCode::StreamInterrupted,
            ),
            (
                ModelError::StreamEnded { detail: "d".into() },
                TurnErrorCode::StreamInterrupted,
            ),
            (
                ModelError::from_provider(Some("context_length_exceeded".into()), "m".into()),
                TurnErrorCode::ContextWindowExceeded,
            ),
            (
                ModelError::from_provider(Some("server_error".into()), "m".into()),
                TurnErrorCode::ProviderError,
            ),
            (
                ModelError::Decode { detail: "d".into() },
                TurnErrorCode::BadResponse,
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.turn_error_code(), code, "{err}");
        }
    }

    #[test]
    fn messages_name_what_to_change() {
        let err = ModelError::MissingApiKey {
            provider: "OpenAI".into(),
            env_key: "OPENAI_API_KEY".into(),
        };
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
        assert!(err.to_string().contains("OpenAI"), "{err}");
        let err = ModelError::Http {
            provider: "OpenAI".into(),
            status: 401,
            body_excerpt: "Incorrect API key provided".into(),
        };
        assert_eq!(
            err.to_string(),
            "OpenAI answered HTTP 401: Incorrect API key provided (check the API key in the \
             provider's env_key variable)"
        );
        let err = ModelError::Failed {
            code: Some("server_error".into()),
            message: "boom".into(),
        };
        assert_eq!(
            err.to_string(),
            "the provider reported an error (server_error): boom"
        );
    }

    #[test]
    fn retryability() {
        let http = |status| ModelError::Http {
            provider: "p".into(),
            status,
            body_excerpt: String::new(),
        };
        assert!(http(429).is_retryable());
        assert!(http(503).is_retryable());
        assert!(!http(400).is_retryable());
        assert!(!http(401).is_retryable());
        let exhausted = ModelError::RetriesExhausted {
            attempts: 3,
            last: Box::new(http(500)),
        };
        assert!(!exhausted.is_retryable());
        assert!(ModelError::StreamEnded { detail: "x".into() }.is_retryable());
    }

    #[test]
    fn context_window_errors_are_recognised() {
        let err = ModelError::from_provider(
            None,
            "This model's maximum context length is 8192 tokens".into(),
        );
        assert!(matches!(err, ModelError::ContextWindowExceeded { .. }));
        let err = ModelError::from_provider(Some("context_length_exceeded".into()), "x".into());
        assert!(matches!(err, ModelError::ContextWindowExceeded { .. }));
        let err = ModelError::from_provider(Some("server_error".into()), "x".into());
        assert!(matches!(err, ModelError::Failed { .. }));
    }
}
