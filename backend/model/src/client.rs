//! [`ModelClient`]: one provider and model, sending prompts and returning event streams.
//!
//! `stream()` does everything up to the response headers, including retries, so its error
//! tells the kernel whether the request was accepted at all. Everything after the headers
//! arrives as events on the returned [`ResponseStream`].

use crate::error::{ModelError, is_context_window_error, is_retryable_status};
use crate::provider::{ProviderInfo, WireApi};
use crate::retry;
use crate::stream::{EventSink, ResponseStream, WireParser, sse_stream};
use crate::types::Prompt;
use futures::StreamExt;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// How long to wait for a TCP (and TLS) connection before calling the provider unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// The most of an error body we read: enough for any provider's error message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Reasoning options, for models that support them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReasoningConfig {
    /// `minimal`, `low`, `medium` or `high`. Responses: `reasoning.effort`;
    /// Chat: `reasoning_effort`.
    pub effort: Option<String>,
    /// `auto`, `concise` or `detailed` (Responses only).
    pub summary: Option<String>,
}

/// A retry that is about to happen, for callers that want to show it ("rate limited,
/// retrying in 2 s").
#[derive(Debug, Clone, PartialEq)]
pub struct RetryNotice {
    /// The retry about to be made, 1-based.
    pub retry: u32,
    pub max_retries: u32,
    pub delay: Duration,
    /// Why the previous attempt failed.
    pub reason: String,
}

type KeySource = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;
type RetryObserver = Arc<dyn Fn(&RetryNotice) + Send + Sync>;

/// A client for one provider and model. Cheap to clone.
#[derive(Clone)]
pub struct ModelClient {
    provider: ProviderInfo,
    model: String,
    /// Built once; an `Err` (TLS initialisation failed) is reported on each `stream()` call
    /// instead of panicking at construction.
    http: Result<reqwest::Client, String>,
    reasoning: Option<ReasoningConfig>,
    key_source: KeySource,
    retry_observer: Option<RetryObserver>,
}

impl std::fmt::Debug for ModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelClient")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("reasoning", &self.reasoning)
            .finish_non_exhaustive()
    }
}

impl ModelClient {
    pub fn new(provider: ProviderInfo, model: String) -> Self {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("tandem/", env!("CARGO_PKG_VERSION")));
        if provider
            .base_url
            .get(..7)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
        {
            // Plain HTTP (a local server, the scripted model): loading the system's root
            // certificates takes about 10 ms, most of the agent's start-up budget, for TLS
            // that will never be used.
            builder = builder.tls_certs_only(Vec::new());
        }
        let http = builder.build().map_err(|err| error_chain(&err));
        ModelClient {
            provider,
            model,
            http,
            reasoning: None,
            key_source: Arc::new(|name| std::env::var(name).ok()),
            retry_observer: None,
        }
    }

    /// Sends reasoning options with every request.
    pub fn with_reasoning(mut self, reasoning: ReasoningConfig) -> Self {
        self.reasoning = Some(reasoning);
        self
    }

    /// Replaces where API keys come from. The default reads the environment variable named
    /// by `env_key` at every call, so a key exported after start-up is picked up; embedders
    /// that keep keys elsewhere (and tests, which must not mutate the process environment)
    /// supply their own lookup.
    pub fn with_key_source(
        mut self,
        source: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.key_source = Arc::new(source);
        self
    }

    /// Calls `observer` before every retry wait.
    pub fn with_retry_observer(
        mut self,
        observer: impl Fn(&RetryNotice) + Send + Sync + 'static,
    ) -> Self {
        self.retry_observer = Some(Arc::new(observer));
        self
    }

    pub fn provider(&self) -> &ProviderInfo {
        &self.provider
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// The endpoint this client posts to, with the provider's query parameters.
    pub fn endpoint_url(&self) -> String {
        let path = match self.provider.wire_api {
            WireApi::Responses => "responses",
            WireApi::Chat => "chat/completions",
        };
        let base = self.provider.base_url.trim_end_matches('/');
        let url = format!("{base}/{path}");
        match reqwest::Url::parse(&url) {
            Ok(mut parsed) if !self.provider.query_params.is_empty() => {
                parsed
                    .query_pairs_mut()
                    .extend_pairs(self.provider.query_params.iter());
                parsed.to_string()
            }
            _ => url,
        }
    }

    /// Sends `prompt` and returns the response's events once the provider has accepted it.
    ///
    /// Connection failures, 429 and 5xx are retried with backoff up to
    /// `request_max_retries` times; a `Retry-After` is honoured up to a minute.
    pub async fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let api_key = self.api_key()?;
        let url = self.endpoint_url();
        let http = self
            .http
            .as_ref()
            .map_err(|detail| ModelError::Unreachable {
                provider: self.provider.name.clone(),
                url: url.clone(),
                detail: format!("could not initialise the HTTP client: {detail}"),
            })?;
        let body = match self.provider.wire_api {
            WireApi::Responses => {
                crate::responses::build_request(&self.model, prompt, self.reasoning.as_ref())
            }
            WireApi::Chat => {
                crate::chat::build_request(&self.model, prompt, self.reasoning.as_ref())
            }
        };
        let body = serde_json::to_vec(&body).map_err(|err| ModelError::Decode {
            detail: format!("could not encode the request: {err}"),
        })?;
        let idle = self.provider.stream_idle_timeout();
        let max_retries = self.provider.request_max_retries();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let request = self.request(http, &url, api_key.as_deref(), body.clone())?;
            let mut failure = match tokio::time::timeout(idle, request.send()).await {
                // The server took the request and went silent for the whole idle window.
                // Retrying would multiply an already long wait; report it instead.
                Err(_) => Failure::stop(ModelError::idle_timeout(idle)),
                Ok(Err(err)) => Failure::retry(self.unreachable(&url, &err), None),
                Ok(Ok(response)) if response.status().is_success() => {
                    return self.open_stream(response, idle).await;
                }
                Ok(Ok(response)) => self.classify_status(response).await,
            };
            if failure.retryable && attempt <= max_retries {
                let delay = match failure.retry_after {
                    Some(wait) if wait > retry::MAX_SERVER_WAIT => {
                        failure.note_long_wait(wait);
                        None
                    }
                    Some(wait) => Some(wait),
                    None => Some(retry::backoff(attempt)),
                };
                if let Some(delay) = delay {
                    self.wait(attempt, max_retries, delay, &failure.error).await;
                    continue;
                }
            }
            return Err(finish(failure, attempt));
        }
    }

    async fn wait(&self, retry: u32, max_retries: u32, delay: Duration, error: &ModelError) {
        let notice = RetryNotice {
            retry,
            max_retries,
            delay,
            reason: error.to_string(),
        };
        tracing::warn!(
            retry,
            max_retries,
            ?delay,
            reason = %notice.reason,
            "model request failed; retrying"
        );
        if let Some(observer) = &self.retry_observer {
            observer(&notice);
        }
        tokio::time::sleep(delay).await;
    }

    fn api_key(&self) -> Result<Option<String>, ModelError> {
        let Some(env_key) = &self.provider.env_key else {
            return Ok(None);
        };
        match (self.key_source)(env_key) {
            Some(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
            _ => Err(ModelError::MissingApiKey {
                provider: self.provider.name.clone(),
                env_key: env_key.clone(),
            }),
        }
    }

    fn request(
        &self,
        http: &reqwest::Client,
        url: &str,
        api_key: Option<&str>,
        body: Vec<u8>,
    ) -> Result<reqwest::RequestBuilder, ModelError> {
        let mut request = http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .body(body);
        if let Some(key) = api_key {
            let value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                ModelError::MissingApiKey {
                    provider: self.provider.name.clone(),
                    env_key: format!(
                        "{} (its value is not a valid header value)",
                        self.provider.env_key.as_deref().unwrap_or_default()
                    ),
                }
            })?;
            request = request.header(AUTHORIZATION, value);
        }
        for (name, value) in &self.provider.http_headers {
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                tracing::warn!(header = %name, "skipping an http_headers entry that is not a valid header");
                continue;
            };
            request = request.header(name, value);
        }
        Ok(request)
    }

    /// Turns a 2xx response into a stream. A JSON body (a server that ignored
    /// `stream: true`) is read whole and replayed as events.
    async fn open_stream(
        &self,
        response: reqwest::Response,
        idle: Duration,
    ) -> Result<ResponseStream, ModelError> {
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json {
            let bytes = tokio::time::timeout(idle, response.bytes())
                .await
                .map_err(|_| ModelError::idle_timeout(idle))?
                .map_err(|err| ModelError::StreamEnded {
                    detail: error_chain(&err),
                })?;
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|err| ModelError::Decode {
                    detail: format!("the response body is not JSON: {err}"),
                })?;
            let mut sink = EventSink::default();
            match self.provider.wire_api {
                WireApi::Responses => crate::responses::events_from_json(&value, &mut sink),
                WireApi::Chat => crate::chat_stream::events_from_json(&value, &mut sink),
            }
            return Ok(ResponseStream::from_events(sink.into_events()));
        }
        let parser = match self.provider.wire_api {
            WireApi::Responses => WireParser::Responses(Default::default()),
            WireApi::Chat => WireParser::Chat(Default::default()),
        };
        Ok(sse_stream(response.bytes_stream().boxed(), parser, idle))
    }

    /// Sorts an error status into retry-or-stop, with the provider's message.
    async fn classify_status(&self, response: reqwest::Response) -> Failure {
        let status = response.status().as_u16();
        let server_wait = retry::server_requested_wait(response.headers(), SystemTime::now());
        let body = read_capped(response).await;
        let (code, message) = retry::extract_error(&body);
        if is_context_window_error(code.as_deref(), &message) {
            return Failure::stop(ModelError::ContextWindowExceeded { detail: message });
        }
        let error = ModelError::Http {
            provider: self.provider.name.clone(),
            status,
            body_excerpt: retry::excerpt(&message, 500),
        };
        // OpenAI signals an exhausted quota or billing problem with a 429 too; waiting
        // will not fix it.
        if code.as_deref() == Some("insufficient_quota") || !is_retryable_status(status) {
            return Failure::stop(error);
        }
        Failure::retry(error, server_wait)
    }

    fn unreachable(&self, url: &str, err: &reqwest::Error) -> ModelError {
        let chain = error_chain(err);
        let lower = chain.to_ascii_lowercase();
        let local = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]");
        let mut detail = if lower.contains("connection refused") {
            "connection refused".to_string()
        } else if lower.contains("dns") || lower.contains("resolve") || lower.contains("lookup") {
            format!("the host name could not be resolved ({chain})")
        } else if err.is_timeout() {
            format!("no connection within {}s", CONNECT_TIMEOUT.as_secs())
        } else if err.is_builder() {
            format!("the URL is not valid ({chain})")
        } else {
            chain
        };
        detail.push_str(if local {
            ". Is the model server running (for Ollama: `ollama serve`)? If it listens \
             elsewhere, set base_url in [model_providers.<name>] in config.toml"
        } else {
            ". Check your network, or set base_url in [model_providers.<name>] in config.toml"
        });
        ModelError::Unreachable {
            provider: self.provider.name.clone(),
            url: url.to_string(),
            detail,
        }
    }
}

/// One failed attempt.
struct Failure {
    error: ModelError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn retry(error: ModelError, retry_after: Option<Duration>) -> Self {
        Failure {
            error,
            retryable: true,
            retry_after,
        }
    }

    fn stop(error: ModelError) -> Self {
        Failure {
            error,
            retryable: false,
            retry_after: None,
        }
    }

    /// The server asked for a wait longer than we allow: say so in the final error.
    fn note_long_wait(&mut self, wait: Duration) {
        tracing::warn!(?wait, "the provider asked for a longer wait than we allow");
        if let ModelError::Http { body_excerpt, .. } = &mut self.error {
            body_excerpt.push_str(&format!(
                " (the provider asked to wait {}s before retrying; that is longer than the {}s \
                 we wait, which usually means a quota is exhausted)",
                wait.as_secs(),
                retry::MAX_SERVER_WAIT.as_secs()
            ));
        }
    }
}

/// The error to report when we stop. Unreachable and idle errors are reported as they are
/// (their own message is the useful one); retryable HTTP statuses become `RetriesExhausted`.
fn finish(failure: Failure, attempts: u32) -> ModelError {
    match failure.error {
        error @ ModelError::Http { .. } if failure.retryable => ModelError::RetriesExhausted {
            attempts,
            last: Box::new(error),
        },
        ModelError::Unreachable {
            provider,
            url,
            detail,
        } if attempts > 1 => ModelError::Unreachable {
            provider,
            url,
            detail: format!("{detail} ({attempts} attempts)"),
        },
        error => error,
    }
}

async fn read_capped(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY {
            body.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// An error and its sources, joined: reqwest's own message ("error sending request") hides
/// the useful part ("Connection refused") in the source chain.
pub(crate) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
