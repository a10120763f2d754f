//! Retries, timeouts and the errors a user sees when things go wrong.

use crate::*;
use pretty_assertions::assert_eq;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tandem_model::{ModelError, ResponseEvent, RetryNotice};

const OK_STEP: &str = "[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"recovered\"\n";

fn completed(events: &[ResponseEvent]) -> bool {
    matches!(events.last(), Some(ResponseEvent::Completed { .. }))
}

fn observed(client: ModelClient) -> (ModelClient, Arc<Mutex<Vec<RetryNotice>>>) {
    let notices = Arc::new(Mutex::new(Vec::new()));
    let sink = notices.clone();
    let client = client.with_retry_observer(move |n| sink.lock().unwrap().push(n.clone()));
    (client, notices)
}

#[tokio::test]
async fn rate_limited_then_success_honours_retry_after_seconds() {
    let server = server(&format!(
        "[[step]]\nstatus = 429\nretry_after = \"1\"\nerror_message = \"slow down\"\n{OK_STEP}"
    ));
    let (client, notices) = observed(client(&server, WireApi::Responses));
    let start = Instant::now();
    let (events, error) = collect(&client, &prompt("go")).await.unwrap();
    let elapsed = start.elapsed();
    assert!(error.is_none(), "{error:?}");
    assert!(completed(&events));
    assert!(
        elapsed >= Duration::from_secs(1),
        "did not wait: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(3),
        "waited too long: {elapsed:?}"
    );
    assert_eq!(server.model_requests().len(), 2);
    let notices = notices.lock().unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].delay, Duration::from_secs(1));
    assert_eq!(notices[0].retry, 1);
    assert!(notices[0].reason.contains("429"), "{:?}", notices[0]);
    assert!(notices[0].reason.contains("slow down"), "{:?}", notices[0]);
}

#[tokio::test]
async fn retry_after_ms_is_honoured_over_backoff() {
    // Backoff alone would wait about 200 ms; the server asks for 700.
    let server = server(&format!(
        "[[step]]\nstatus = 429\nretry_after_ms = 700\n{OK_STEP}"
    ));
    let (client, notices) = observed(client(&server, WireApi::Chat));
    let start = Instant::now();
    let (events, _) = collect(&client, &prompt("go")).await.unwrap();
    assert!(completed(&events));
    assert!(
        start.elapsed() >= Duration::from_millis(700),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(notices.lock().unwrap()[0].delay, Duration::from_millis(700));
}

#[tokio::test]
async fn server_error_then_success() {
    for wire in BOTH {
        let server = server(&format!("[[step]]\nstatus = 500\n{OK_STEP}"));
        let (events, error) = collect(&client(&server, wire), &prompt("go"))
            .await
            .unwrap();
        assert!(error.is_none(), "{wire:?}: {error:?}");
        assert!(events.contains(&ResponseEvent::OutputTextDelta("rec".into())));
        assert_eq!(server.model_requests().len(), 2, "{wire:?}");
        assert!(server.status().is_complete_and_clean());
    }
}

#[tokio::test]
async fn retries_exhausted_reports_the_last_failure() {
    let server =
        server("[[step]]\nstatus = 503\nrepeat = 3\nerror_message = \"overloaded, try later\"\n");
    let mut provider = provider(&server, WireApi::Responses);
    provider.request_max_retries = Some(2);
    let client = ModelClient::new(provider, "m".into());
    let err = client.stream(&prompt("go")).await.unwrap_err();
    match &err {
        ModelError::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert!(
                matches!(**last, ModelError::Http { status: 503, .. }),
                "{last:?}"
            );
        }
        other => panic!("expected RetriesExhausted, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "gave up after 3 attempt(s): Scripted answered HTTP 503: overloaded, try later"
    );
    assert!(!err.is_retryable());
    assert_eq!(server.model_requests().len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_carry_the_provider_message() {
    let server = server(
        "[[step]]\nstatus = 401\nerror_message = \"Incorrect API key provided\"\nerror_code = \"invalid_api_key\"\n",
    );
    let err = client(&server, WireApi::Chat)
        .stream(&prompt("go"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ModelError::Http { status: 401, body_excerpt, .. } if body_excerpt == "Incorrect API key provided"),
        "{err:?}"
    );
    assert!(err.to_string().contains("check the API key"), "{err}");
    assert_eq!(server.model_requests().len(), 1);
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let server = server(
        "[[step]]\nstatus = 429\nerror_code = \"insufficient_quota\"\nerror_message = \"You exceeded your current quota\"\n",
    );
    let err = client(&server, WireApi::Responses)
        .stream(&prompt("go"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelError::Http { status: 429, .. }),
        "{err:?}"
    );
    assert_eq!(server.model_requests().len(), 1);
}

#[tokio::test]
async fn a_very_long_retry_after_fails_at_once_and_says_why() {
    let server = server("[[step]]\nstatus = 429\nretry_after = \"3600\"\n");
    let start = Instant::now();
    let err = client(&server, WireApi::Responses)
        .stream(&prompt("go"))
        .await
        .unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, ModelError::RetriesExhausted { attempts: 1, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("asked to wait 3600s"), "{err}");
}

#[tokio::test]
async fn a_stream_cut_mid_item_is_stream_ended() {
    // Responses: created, in_progress, output_item.added, one arguments delta, then nothing.
    // Chat: the role chunk, the tool call's first chunk, one arguments delta, then nothing.
    for (wire, cut, open) in [
        (
            WireApi::Responses,
            4,
            "while a function call was being streamed",
        ),
        (
            WireApi::Chat,
            3,
            "while a call to tool `shell` was being streamed",
        ),
    ] {
        let server = server(&format!(
            "[[step]]\ncut_after_events = {cut}\n[[step.output]]\ntype = \"function_call\"\nname = \"shell\"\narguments = '{{\"command\":[\"ls\",\"-la\"]}}'\n"
        ));
        let (events, error) = collect(&client(&server, wire), &prompt("go"))
            .await
            .unwrap();
        assert_eq!(events, vec![ResponseEvent::Created], "{wire:?}");
        let error = error.unwrap_or_else(|| panic!("{wire:?}: the cut went unnoticed"));
        assert!(matches!(error, ModelError::StreamEnded { .. }), "{error:?}");
        assert!(error.to_string().contains(open), "{wire:?}: {error}");
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn a_silent_stream_hits_the_idle_timeout() {
    for wire in BOTH {
        let server = server(
            "[[step]]\nstall_ms = 5000\n[[step.output]]\ntype = \"message\"\ntext = \"too late\"\n",
        );
        let mut provider = provider(&server, wire);
        provider.stream_idle_timeout_ms = Some(300);
        let client = ModelClient::new(provider, "m".into());
        let start = Instant::now();
        let (events, error) = collect(&client, &prompt("go")).await.unwrap();
        let elapsed = start.elapsed();
        assert_eq!(events, vec![ResponseEvent::Created], "{wire:?}");
        let error = error.expect("no timeout");
        assert!(
            matches!(error, ModelError::IdleTimeout { secs } if secs == 0.3),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("stream_idle_timeout_ms"),
            "{error}"
        );
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    }
}

#[tokio::test]
async fn a_slow_start_within_the_idle_timeout_is_fine() {
    let server = server(
        "[[step]]\ndelay_ms = 200\nstall_ms = 200\n[[step.output]]\ntype = \"message\"\ntext = \"slow\"\n",
    );
    let mut provider = provider(&server, WireApi::Chat);
    provider.stream_idle_timeout_ms = Some(1000);
    let client = ModelClient::new(provider, "m".into());
    let (events, error) = collect(&client, &prompt("go")).await.unwrap();
    assert!(error.is_none(), "{error:?}");
    assert!(completed(&events));
}

#[tokio::test]
async fn connection_refused_is_unreachable_with_advice() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let provider = ProviderInfo {
        name: "Ollama".into(),
        base_url: format!("http://127.0.0.1:{port}/v1"),
        request_max_retries: Some(1),
        ..ProviderInfo::ollama()
    };
    let client = ModelClient::new(provider, "llama3".into());
    let (client, notices) = observed(client);
    let err = client.stream(&prompt("go")).await.unwrap_err();
    let ModelError::Unreachable {
        provider,
        url,
        detail,
    } = &err
    else {
        panic!("expected Unreachable, got {err:?}");
    };
    assert_eq!(provider, "Ollama");
    assert_eq!(url, &format!("http://127.0.0.1:{port}/v1/chat/completions"));
    assert!(detail.starts_with("connection refused"), "{detail}");
    let message = err.to_string();
    assert!(message.contains("ollama serve"), "{message}");
    assert!(message.contains("base_url"), "{message}");
    assert!(message.contains("2 attempts"), "{message}");
    assert_eq!(notices.lock().unwrap().len(), 1, "one retry was made");
}

#[tokio::test]
async fn a_missing_key_names_the_variable_and_sends_nothing() {
    let server = server(OK_STEP);
    let mut provider = provider(&server, WireApi::Responses);
    provider.env_key = Some("TANDEM_TEST_KEY_THAT_IS_NEVER_SET".into());
    let client = ModelClient::new(provider, "m".into());
    let err = client.stream(&prompt("go")).await.unwrap_err();
    assert!(
        matches!(&err, ModelError::MissingApiKey { provider, env_key } if provider == "Scripted" && env_key == "TANDEM_TEST_KEY_THAT_IS_NEVER_SET"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("TANDEM_TEST_KEY_THAT_IS_NEVER_SET")
    );
    // An empty value is as good as none.
    let client = client.with_key_source(|_| Some("  ".into()));
    assert!(matches!(
        client.stream(&prompt("go")).await.unwrap_err(),
        ModelError::MissingApiKey { .. }
    ));
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn context_window_overflow_is_its_own_error() {
    let responses = server(
        "[[step]]\nstream_error = { code = \"context_length_exceeded\", message = \"Your input exceeds the context window of this model.\" }\n",
    );
    let (_, error) = collect(&client(&responses, WireApi::Responses), &prompt("go"))
        .await
        .unwrap();
    assert!(
        matches!(error, Some(ModelError::ContextWindowExceeded { .. })),
        "{error:?}"
    );
    let chat = server(
        "[[step]]\nstatus = 400\nerror_message = \"This model's maximum context length is 8192 tokens.\"\n",
    );
    let err = client(&chat, WireApi::Chat)
        .stream(&prompt("go"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ModelError::ContextWindowExceeded { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_in_stream_provider_error_ends_the_stream() {
    for wire in BOTH {
        let server = server(
            "[[step]]\nstream_error = { code = \"server_error\", message = \"upstream died\" }\n[[step.output]]\ntype = \"message\"\ntext = \"partial\"\n",
        );
        let (events, error) = collect(&client(&server, wire), &prompt("go"))
            .await
            .unwrap();
        assert!(events.contains(&ResponseEvent::OutputTextDelta("par".into())));
        let error = error.expect("no error");
        assert_eq!(
            error.to_string(),
            "the provider reported an error (server_error): upstream died",
            "{wire:?}"
        );
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn an_exhausted_scenario_is_a_clear_error() {
    let server = server(OK_STEP);
    let mut provider = provider(&server, WireApi::Responses);
    provider.request_max_retries = Some(0);
    let client = ModelClient::new(provider, "m".into());
    collect(&client, &prompt("go")).await.unwrap();
    let err = client.stream(&prompt("again")).await.unwrap_err();
    assert!(err.to_string().contains("scenario exhausted"), "{err}");
    assert_eq!(server.status().exhausted_requests, 1);
}

#[tokio::test]
async fn no_response_headers_within_the_idle_timeout_is_not_retried() {
    let server = server(&format!(
        "[[step]]\ndelay_ms = 3000\n[[step.output]]\ntype = \"message\"\ntext = \"late\"\n{OK_STEP}"
    ));
    let mut provider = provider(&server, WireApi::Responses);
    provider.stream_idle_timeout_ms = Some(300);
    let client = ModelClient::new(provider, "m".into());
    let start = Instant::now();
    let err = client.stream(&prompt("go")).await.unwrap_err();
    assert!(matches!(err, ModelError::IdleTimeout { .. }), "{err:?}");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.model_requests().len(), 1);
}
