//! Where a model lives and how to talk to it: one `[model_providers.NAME]` table.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which wire API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// `POST {base_url}/responses`, the OpenAI Responses API.
    #[default]
    Responses,
    /// `POST {base_url}/chat/completions`, served by nearly every OpenAI-compatible server.
    Chat,
}

/// A model provider, as configured under `[model_providers.NAME]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInfo {
    /// A human-readable name, used in messages.
    pub name: String,
    /// For example `https://api.openai.com/v1` or `http://localhost:11434/v1`.
    pub base_url: String,
    /// The environment variable that holds the API key. `None` means no key is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_key: Option<String>,
    #[serde(default)]
    pub wire_api: WireApi,
    /// Extra query parameters on every request (Azure's `api-version`, for example).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub query_params: BTreeMap<String, String>,
    /// Extra headers on every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub http_headers: BTreeMap<String, String>,
    /// How often a request that failed with 429 or 5xx (or could not connect) is retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_max_retries: Option<u32>,
    /// How long a stream may stay silent before it is given up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_idle_timeout_ms: Option<u64>,
}

impl ProviderInfo {
    pub const DEFAULT_REQUEST_MAX_RETRIES: u32 = 4;
    pub const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;

    /// The built-in `openai` provider. `OPENAI_BASE_URL` overrides its URL.
    pub fn openai() -> Self {
        ProviderInfo {
            name: "OpenAI".into(),
            base_url: "https://api.openai.com/v1".into(),
            env_key: Some("OPENAI_API_KEY".into()),
            wire_api: WireApi::Responses,
            query_params: BTreeMap::new(),
            http_headers: BTreeMap::new(),
            request_max_retries: None,
            stream_idle_timeout_ms: None,
        }
    }

    /// The built-in `ollama` provider: a local server that speaks Chat Completions.
    pub fn ollama() -> Self {
        ProviderInfo {
            name: "Ollama".into(),
            base_url: "http://localhost:11434/v1".into(),
            env_key: None,
            wire_api: WireApi::Chat,
            query_params: BTreeMap::new(),
            http_headers: BTreeMap::new(),
            request_max_retries: None,
            stream_idle_timeout_ms: None,
        }
    }

    pub fn request_max_retries(&self) -> u32 {
        self.request_max_retries
            .unwrap_or(Self::DEFAULT_REQUEST_MAX_RETRIES)
    }

    pub fn stream_idle_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.stream_idle_timeout_ms
                .unwrap_or(Self::DEFAULT_STREAM_IDLE_TIMEOUT_MS),
        )
    }
}
