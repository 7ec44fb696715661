use serde_json::json;
use wiremock::MockServer;

use super::*;
use crate::backend::testing;
use crate::config::{BackendKind, Source, Sourced};

fn backend(kind: BackendKind, url: &str, tuning: impl FnOnce(&mut Tuning)) -> Backend {
    let mut settings = testing::settings(kind, url, Some("m"));
    tuning(&mut settings.tuning);
    Backend::new(&settings).expect("backend")
}

fn line(id: &str) -> BatchLine {
    BatchLine {
        custom_id: id.to_owned(),
        body: json!({"model": "m", "messages": []}),
    }
}

#[test]
fn openai_and_anthropic_have_a_batch_api_and_the_others_none() {
    let url = "http://127.0.0.1:9";
    assert_eq!(
        backend(BackendKind::Openai, url, |_| {}).batch_api(),
        Some(BatchApi::Openai)
    );
    assert_eq!(
        backend(BackendKind::Anthropic, url, |_| {}).batch_api(),
        Some(BatchApi::Anthropic)
    );
    for kind in [BackendKind::Gemini, BackendKind::Ollama, BackendKind::Deepl] {
        let other = backend(kind, url, |_| {});
        assert_eq!(other.batch_api(), None);
        let request = ChatRequest {
            system: String::new(),
            user: String::new(),
            schema: None,
            estimated_tokens: 1,
        };
        let err = other.chat_body(&request).expect_err("no batch API");
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(err.message.contains("has no batch API"), "{err}");
    }
}

#[test]
fn limits_are_the_providers_unless_the_config_lowers_them() {
    let url = "http://127.0.0.1:9";
    let openai = backend(BackendKind::Openai, url, |_| {});
    assert_eq!(openai.job_limits(), OPENAI_LIMITS);
    assert_eq!(
        (OPENAI_LIMITS.max_requests, OPENAI_LIMITS.max_bytes),
        (50_000, 200_000_000)
    );
    let anthropic = backend(BackendKind::Anthropic, url, |_| {});
    assert_eq!(anthropic.job_limits().max_requests, 100_000);
    assert_eq!(
        anthropic.job_limits().max_bytes + anthropic::ENVELOPE_BYTES,
        256_000_000
    );
    assert_eq!(anthropic.poll_secs(), 0.05, "the test settings' value");
    let lowered = backend(BackendKind::Openai, url, |t| {
        t.job_requests = Some(Sourced::new(10, Source::Default));
        t.job_bytes = Some(Sourced::new(4096, Source::Default));
        t.poll_secs = Sourced::new(2.5, Source::Default);
    });
    assert_eq!(
        lowered.job_limits(),
        JobLimits {
            max_requests: 10,
            max_bytes: 4096
        }
    );
    assert_eq!(lowered.poll_secs(), 2.5);
    // The config cannot raise a limit past the provider's.
    let raised = backend(BackendKind::Openai, url, |t| {
        t.job_requests = Some(Sourced::new(100_000, Source::Default));
    });
    assert_eq!(raised.job_limits().max_requests, 50_000);
}

/// A job that the provider would refuse is refused before anything is sent.
#[tokio::test]
async fn jobs_the_provider_would_refuse_are_not_sent() {
    let server = MockServer::start().await;
    let client = backend(BackendKind::Openai, &server.uri(), |t| {
        t.job_requests = Some(Sourced::new(2, Source::Default));
        t.job_bytes = Some(Sourced::new(2048, Source::Default));
    });
    let big = BatchLine {
        custom_id: "big".to_owned(),
        body: json!({"model": "m", "messages": [{"role": "user", "content": "x".repeat(3000)}]}),
    };
    let cases = [
        (vec![], "at least one request"),
        (vec![line("a"), line("b"), line("c")], "3 requests is over"),
        (vec![line("a"), line("a")], "`a` is in the job twice"),
        (vec![line("a b")], "`a b` is not a custom id"),
        (vec![line(&"x".repeat(65))], "is not a custom id"),
        (vec![big], "bytes is over this backend's limit of 2048"),
    ];
    for (lines, said) in cases {
        let err = client.submit_job(&lines).await.expect_err(said);
        assert_eq!(err.kind, ErrorKind::Rejected);
        assert!(err.message.contains(said), "{err}");
    }
    for id in ["../files", "batch_1?x=1", ""] {
        let err = client.job_status(id).await.expect_err("not an id");
        assert!(err.message.contains("is not a provider id"), "{err}");
    }
    assert!(
        server
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
}

/// `n` lines `r0`, `r1`, … whose bodies are `backend`'s chat bodies for `request(i)`.
pub(super) fn lines_of(
    backend: &Backend,
    n: usize,
    request: impl Fn(usize) -> ChatRequest,
) -> Vec<BatchLine> {
    (0..n)
        .map(|i| BatchLine {
            custom_id: format!("r{i}"),
            body: backend.chat_body(&request(i)).expect("a chat backend"),
        })
        .collect()
}

/// The custom ids of `results`, in order.
pub(super) fn ids(results: &[(String, LineResult)]) -> Vec<&str> {
    results.iter().map(|(id, _)| id.as_str()).collect()
}

/// The reply of result `n`.
pub(super) fn reply_of(results: &[(String, LineResult)], n: usize) -> &ChatReply {
    match &results[n].1 {
        LineResult::Reply(reply) => reply,
        other => panic!("line {n} a reply: {other:?}"),
    }
}

/// The failure of result `n`.
pub(super) fn failure_of(results: &[(String, LineResult)], n: usize) -> LineFailure {
    match &results[n].1 {
        LineResult::Failed(f) => f.clone(),
        other => panic!("line {n} failed: {other:?}"),
    }
}
