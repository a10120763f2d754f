//! When to try a failed request again, and how long to wait first.
//!
//! Backoff is exponential with jitter, so that many clients hit by the same outage do not
//! come back in lockstep. A server's own `Retry-After` (or Azure's and OpenAI's
//! `retry-after-ms`) wins over our guess: it knows when its rate window reopens. A server that
//! asks for a very long wait is describing an exhausted quota, not a blip; we fail at once and
//! say so rather than hanging the user's turn for an hour.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// The first retry waits about this long; each further one doubles it.
pub(crate) const BASE_DELAY: Duration = Duration::from_millis(200);
/// No computed backoff waits longer than this.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The longest server-requested wait we honour. Longer requests end the retries.
pub(crate) const MAX_SERVER_WAIT: Duration = Duration::from_secs(60);

/// The backoff before retry number `retry` (1 for the first retry), with ±10 % jitter.
pub(crate) fn backoff(retry: u32) -> Duration {
    let exp = BASE_DELAY.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    let capped = exp.min(MAX_BACKOFF);
    let jitter: f64 = rand::Rng::random_range(&mut rand::rng(), 0.9..1.1);
    capped.mul_f64(jitter)
}

/// How long the server asked us to wait, if it did: `retry-after-ms` (milliseconds, possibly
/// fractional) first, then `Retry-After` as seconds or as an HTTP date.
pub(crate) fn server_requested_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header_str(headers, "retry-after")?.trim();
    parse_retry_after(value, now)
}

/// Parses a `Retry-After` value: delta-seconds (we also accept fractions) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Pulls the human-readable message out of a provider's error body.
///
/// OpenAI, OpenRouter, vLLM and llama.cpp send `{"error": {"message": ..., "code": ...}}`;
/// Ollama sometimes sends `{"error": "..."}`; FastAPI-style servers send `{"detail": ...}`.
/// Anything else is shown as a trimmed excerpt of the raw body.
pub(crate) fn extract_error(body: &str) -> (Option<String>, String) {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let error = value.get("error").unwrap_or(&value);
        let code = error
            .get("code")
            .or_else(|| error.get("type"))
            .and_then(|c| match c {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        let message = match error {
            serde_json::Value::String(s) => Some(s.clone()),
            _ => error
                .get("message")
                .or_else(|| error.get("detail"))
                .map(|m| match m {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
        };
        if let Some(message) = message {
            return (code, message);
        }
    }
    (None, excerpt(body, 500))
}

/// At most `max` characters of `text`, trimmed, with an ellipsis when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_string();
    }
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for retry in 1..=4 {
            let expected = BASE_DELAY * (1 << (retry - 1));
            let got = backoff(retry);
            assert!(got >= expected.mul_f64(0.89), "{retry}: {got:?}");
            assert!(got <= expected.mul_f64(1.11), "{retry}: {got:?}");
        }
        assert!(backoff(30) <= MAX_BACKOFF.mul_f64(1.11));
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("0.5", now),
            Some(Duration::from_millis(500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn retry_after_ms_wins() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("5"));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(
            server_requested_wait(&headers, SystemTime::now()),
            Some(Duration::from_millis(250))
        );
        headers.remove("retry-after-ms");
        assert_eq!(
            server_requested_wait(&headers, SystemTime::now()),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn error_bodies_of_several_providers() {
        assert_eq!(
            extract_error(
                r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#
            ),
            (Some("invalid_api_key".into()), "Incorrect API key".into())
        );
        assert_eq!(
            extract_error(r#"{"error":"model 'llama9' not found"}"#),
            (None, "model 'llama9' not found".into())
        );
        assert_eq!(
            extract_error(r#"{"detail":"Not Found"}"#),
            (None, "Not Found".into())
        );
        assert_eq!(
            extract_error("<html>Bad Gateway</html>"),
            (None, "<html>Bad Gateway</html>".into())
        );
        assert_eq!(extract_error(""), (None, "(empty body)".into()));
        assert_eq!(excerpt(&"é".repeat(10), 3), "ééé…");
    }
}
