use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::backend::batch::tests::{failure_of, ids, lines_of, reply_of};
use crate::backend::testing::{self, TEST_KEY, shown_without_key};
use crate::backend::{Backend, ChatRequest, ErrorKind, Stop};
use crate::config::BackendKind;

const MODEL: &str = "claude-sonnet-4-5";
const BATCH: &str = "msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d";

fn backend(server: &MockServer) -> Backend {
    let settings = testing::settings(BackendKind::Anthropic, &server.uri(), Some(MODEL));
    Backend::new(&settings)
        .expect("backend")
        .with_backoff(testing::fast_backoff())
}

fn request(n: usize) -> ChatRequest {
    ChatRequest {
        system: "Restore the English; answer with JSON only.".to_owned(),
        user: format!(r#"{{"segments":[{{"id":"s0","de":"Absatz {n}"}}]}}"#),
        schema: None,
        estimated_tokens: 20,
    }
}

fn lines(backend: &Backend, n: usize) -> Vec<BatchLine> {
    lines_of(backend, n, request)
}

/// A Message Batch object as the API returns it.
fn message_batch(server: &str, status: &str, counts: [u64; 5]) -> Value {
    let ended = status == "ended";
    let [processing, succeeded, errored, canceled, expired] = counts;
    json!({
        "id": BATCH,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {"processing": processing, "succeeded": succeeded, "errored": errored,
                           "canceled": canceled, "expired": expired},
        "ended_at": if ended { json!("2024-08-20T18:37:24.100435Z") } else { Value::Null },
        "created_at": "2024-08-20T18:37:24.100435Z",
        "expires_at": "2024-08-21T18:37:24.100435Z",
        "archived_at": null,
        "cancel_initiated_at": null,
        "results_url": if ended {
            json!(format!("{server}/v1/messages/batches/{BATCH}/results"))
        } else {
            Value::Null
        }
    })
}

/// A message as a `succeeded` result carries it.
fn message(text: &str) -> Value {
    json!({
        "id": "msg_014VwiXbi91y3JMjcpyGBHX5", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 11, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 1024, "output_tokens": 36, "service_tier": "batch"}
    })
}

#[tokio::test]
async fn submit_posts_every_line_as_params() {
    let server = MockServer::start().await;
    let client = backend(&server);
    let lines = lines(&client, 2);
    let expected = json!({"requests": [
        {"custom_id": "r0", "params": {"model": MODEL, "max_tokens": 1000,
            "system": "Restore the English; answer with JSON only.",
            "messages": [{"role": "user", "content": request(0).user}]}},
        {"custom_id": "r1", "params": {"model": MODEL, "max_tokens": 1000,
            "system": "Restore the English; answer with JSON only.",
            "messages": [{"role": "user", "content": request(1).user}]}}
    ]});
    Mock::given(method("POST"))
        .and(path("/v1/messages/batches"))
        .and(header("x-api-key", TEST_KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
            &server.uri(),
            "in_progress",
            [2, 0, 0, 0, 0],
        )))
        .expect(1)
        .mount(&server)
        .await;
    let submitted = client.submit_job(&lines).await.expect("submitted");
    assert_eq!(
        submitted,
        Submitted {
            id: BATCH.to_owned(),
            input_file: None
        }
    );
    let sent = server.received_requests().await.expect("recorded")[0]
        .body
        .len();
    let counted: usize = lines
        .iter()
        .map(|l| client.line_bytes(l).expect("bytes"))
        .sum();
    assert!(
        sent < counted + ENVELOPE_BYTES,
        "{sent} bytes sent, {counted} counted"
    );
    assert_eq!(sent, counted + ENVELOPE_BYTES - 1);
}

/// The params are byte for byte what `chat` posts.
#[tokio::test]
async fn params_are_the_synchronous_body_byte_for_byte() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message("{}")))
        .mount(&server)
        .await;
    let client = backend(&server);
    client.chat(&request(3)).await.expect("reply");
    let posted = server.received_requests().await.expect("recorded")[0]
        .body
        .clone();
    let entry = request_entry(
        "anthropic",
        &BatchLine {
            custom_id: "r3".to_owned(),
            body: client.chat_body(&request(3)).expect("body"),
        },
    )
    .expect("entry");
    let posted = String::from_utf8(posted).expect("utf-8");
    assert_eq!(
        String::from_utf8(entry).expect("utf-8"),
        format!("{{\"custom_id\":\"r3\",\"params\":{posted}}}")
    );
    assert!(!posted.contains("stream"));
}

#[tokio::test]
async fn statuses_and_counts() {
    let server = MockServer::start().await;
    let client = backend(&server);
    for (status, phase) in [
        ("in_progress", JobPhase::Running),
        ("canceling", JobPhase::Running),
        ("ended", JobPhase::Ended),
    ] {
        let guard = Mock::given(method("GET"))
            .and(path(format!("/v1/messages/batches/{BATCH}")))
            .and(header("x-api-key", TEST_KEY))
            .and(header("anthropic-version", "2023-06-01"))
            .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
                &server.uri(),
                status,
                [4, 3, 2, 1, 1],
            )))
            .expect(1)
            .mount_as_scoped(&server)
            .await;
        let got = client.job_status(BATCH).await.expect("status");
        assert_eq!(
            got,
            JobStatus {
                id: BATCH.to_owned(),
                phase,
                status: status.to_owned(),
                total: 11,
                succeeded: 3,
                failed: 4,
                message: None
            }
        );
        drop(guard);
    }
}

#[tokio::test]
async fn results_map_every_kind_of_line() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/messages/batches/{BATCH}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
            &server.uri(),
            "ended",
            [0, 1, 2, 1, 1],
        )))
        .mount(&server)
        .await;
    let lines = [
        json!({"custom_id": "r0", "result": {"type": "succeeded", "message": message("{\"segments\":[]}")}}),
        json!({"custom_id": "r1", "result": {"type": "errored", "error": {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}, "request_id": null}}}),
        json!({"custom_id": "r2", "result": {"type": "errored", "error": {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}, "request_id": null}}}),
        json!({"custom_id": "r3", "result": {"type": "canceled"}}),
        json!({"custom_id": "r4", "result": {"type": "expired"}}),
        json!({"custom_id": "r5", "result": {"type": "succeeded", "message": {"content": "none"}}}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    Mock::given(method("GET"))
        .and(path(format!("/v1/messages/batches/{BATCH}/results")))
        .and(header("x-api-key", TEST_KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/binary")
                .set_body_string(body),
        )
        .expect(1)
        .mount(&server)
        .await;
    let results = backend(&server).job_results(BATCH).await.expect("results");
    assert_eq!(ids(&results), ["r0", "r1", "r2", "r3", "r4", "r5"]);
    let reply = reply_of(&results, 0);
    assert_eq!(
        (reply.text.as_str(), &reply.stop),
        ("{\"segments\":[]}", &Stop::Complete)
    );
    let u = reply.usage;
    assert_eq!(
        (
            u.requests,
            u.input_tokens,
            u.cached_input_tokens,
            u.output_tokens
        ),
        (1, 1035, 1024, 36)
    );
    let failure = |n: usize| failure_of(&results, n);
    assert_eq!(
        failure(1),
        LineFailure {
            reason: LineReason::Errored { retryable: true },
            message: "Internal server error (api_error)".to_owned()
        }
    );
    assert_eq!(failure(2).reason, LineReason::Errored { retryable: false });
    assert_eq!(failure(3).reason, LineReason::Cancelled);
    assert_eq!(failure(4).reason, LineReason::Expired);
    assert_eq!(failure(5).reason, LineReason::Malformed);
}

/// The key goes only to the configured server: a `results_url` on another host is replaced
/// by the documented path on ours.
#[tokio::test]
async fn a_results_url_elsewhere_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/messages/batches/{BATCH}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
            "https://elsewhere.example",
            "ended",
            [0, 0, 0, 0, 1],
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/v1/messages/batches/{BATCH}/results")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("{\"custom_id\":\"r0\",\"result\":{\"type\":\"expired\"}}\n"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let results = backend(&server).job_results(BATCH).await.expect("results");
    assert_eq!(results.len(), 1);
}

#[tokio::test]
async fn results_of_a_batch_in_progress_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
            &server.uri(),
            "in_progress",
            [1, 0, 0, 0, 0],
        )))
        .expect(1)
        .mount(&server)
        .await;
    let err = backend(&server)
        .job_results(BATCH)
        .await
        .expect_err("running");
    assert_eq!(err.kind, ErrorKind::Rejected);
}

#[tokio::test]
async fn cancel_posts_to_the_batch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v1/messages/batches/{BATCH}/cancel")))
        .and(header("x-api-key", TEST_KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
            &server.uri(),
            "canceling",
            [2, 1, 0, 0, 0],
        )))
        .expect(1)
        .mount(&server)
        .await;
    let status = backend(&server).cancel_job(BATCH).await.expect("canceling");
    assert_eq!(
        (status.phase, status.status.as_str()),
        (JobPhase::Running, "canceling")
    );
}

#[tokio::test]
async fn a_wrong_key_is_fatal_and_overload_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "type": "error",
            "error": {"type": "authentication_error", "message": "invalid x-api-key"},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = backend(&server);
    let err = client
        .submit_job(&lines(&client, 1))
        .await
        .expect_err("401");
    assert_eq!(err.kind, ErrorKind::Fatal);
    let shown = shown_without_key(&err);
    assert!(
        shown.contains("ANTHROPIC_API_KEY") && shown.contains("/v1/messages/batches"),
        "{shown}"
    );

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(529).set_body_json(json!({
            "type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_batch(
            &server.uri(),
            "in_progress",
            [1, 0, 0, 0, 0],
        )))
        .mount(&server)
        .await;
    let client = backend(&server);
    client.job_status(BATCH).await.expect("retried");
    assert_eq!(client.requests_sent(), (2, 1));
}
