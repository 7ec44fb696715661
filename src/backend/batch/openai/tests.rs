use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;
use crate::backend::batch::tests::{failure_of, ids, lines_of, reply_of};
use crate::backend::testing::{self, TEST_KEY, shown_without_key};
use crate::backend::{Backend, ChatRequest, ErrorKind, Stop};
use crate::config::BackendKind;

const AUTH: &str = "Bearer test-key-0123456789";

fn backend(server: &MockServer) -> Backend {
    let settings = testing::settings(BackendKind::Openai, &server.uri(), Some("gpt-4.1-mini"));
    Backend::new(&settings)
        .expect("backend")
        .with_backoff(testing::fast_backoff())
}

fn request(n: usize) -> ChatRequest {
    ChatRequest {
        system: "Restore the English.".to_owned(),
        user: format!(r#"{{"segments":[{{"id":"s0","de":"Absatz {n}"}}]}}"#),
        schema: Some(testing::reply_schema(false)),
        estimated_tokens: 20,
    }
}

fn lines(backend: &Backend, n: usize) -> Vec<BatchLine> {
    lines_of(backend, n, request)
}

/// The File object `POST /files` answers with (the spec's example, for our upload).
fn file_object(id: &str, bytes: usize) -> Value {
    json!({
        "id": id, "object": "file", "bytes": bytes, "created_at": 1_677_610_602,
        "expires_at": 1_680_202_602, "filename": "klartext-batch.jsonl", "purpose": "batch",
        "status": "processed", "status_details": null
    })
}

/// A Batch object as `GET /batches/{id}` returns it (the spec's example, filled in).
fn batch(id: &str, status: &str) -> Value {
    let ended = matches!(status, "completed" | "expired" | "cancelled");
    json!({
        "id": id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "model": "gpt-4.1-mini-2025-04-14",
        "errors": null,
        "input_file_id": "file-abc123",
        "completion_window": "24h",
        "status": status,
        "output_file_id": if ended { json!("file-out456") } else { Value::Null },
        "error_file_id": if ended { json!("file-err789") } else { Value::Null },
        "created_at": 1_711_471_533,
        "in_progress_at": 1_711_471_538,
        "expires_at": 1_711_557_933,
        "finalizing_at": null,
        "completed_at": null,
        "failed_at": null,
        "expired_at": null,
        "cancelling_at": null,
        "cancelled_at": null,
        "request_counts": {"total": 5, "completed": 2, "failed": 3},
        "usage": {
            "input_tokens": 1500, "input_tokens_details": {"cached_tokens": 1024},
            "output_tokens": 300, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 1800
        },
        "metadata": {"klartext": env!("CARGO_PKG_VERSION")}
    })
}

/// A chat completion as a batch output line's `response.body` carries it.
fn completion(content: &str) -> Value {
    json!({
        "id": "chatcmpl-AB1", "object": "chat.completion", "created": 1_711_652_795,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 22, "completion_tokens": 2, "total_tokens": 24,
                  "prompt_tokens_details": {"cached_tokens": 16}},
        "system_fingerprint": "fp_3bc1b5746c"
    })
}

#[tokio::test]
async fn submit_uploads_the_lines_as_jsonl_and_creates_the_batch() {
    let server = MockServer::start().await;
    let client = backend(&server);
    let lines = lines(&client, 3);
    // Each JSONL line wraps exactly the body the synchronous call posts.
    let expected_file: String = lines
        .iter()
        .map(|l| {
            let body = serde_json::to_string(&l.body).expect("json");
            format!(
                "{{\"custom_id\":\"{}\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{body}}}\n",
                l.custom_id
            )
        })
        .collect();
    let file_len = expected_file.len();
    let upload = move |request: &Request| {
        let parts = testing::form_parts(request);
        let purpose = parts.iter().find(|p| p.name == "purpose");
        let file = parts.iter().find(|p| p.name == "file");
        purpose.is_some_and(|p| p.content == b"batch")
            && file.is_some_and(|f| {
                f.filename.as_deref() == Some("klartext-batch.jsonl")
                    && f.content == expected_file.as_bytes()
            })
    };
    Mock::given(method("POST"))
        .and(path("/files"))
        .and(header("authorization", AUTH))
        .and(upload)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(file_object("file-abc123", file_len)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batches"))
        .and(header("authorization", AUTH))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "input_file_id": "file-abc123",
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
            "metadata": {"klartext": env!("CARGO_PKG_VERSION")}
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch("batch_abc123", "validating")))
        .expect(1)
        .mount(&server)
        .await;
    let submitted = client.submit_job(&lines).await.expect("submitted");
    assert_eq!(
        submitted,
        Submitted {
            id: "batch_abc123".to_owned(),
            input_file: Some("file-abc123".to_owned())
        }
    );
    let sent: usize = lines
        .iter()
        .map(|l| client.line_bytes(l).expect("bytes"))
        .sum();
    assert_eq!(sent, file_len, "line_bytes counts the file exactly");
}

/// The line's body is byte for byte what `chat` posts.
#[tokio::test]
async fn a_line_carries_the_synchronous_body_byte_for_byte() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(completion("{}")))
        .mount(&server)
        .await;
    let client = backend(&server);
    client.chat(&request(7)).await.expect("reply");
    let posted = server.received_requests().await.expect("recorded")[0]
        .body
        .clone();
    let line = BatchLine {
        custom_id: "r7".to_owned(),
        body: client.chat_body(&request(7)).expect("body"),
    };
    let encoded = input_line("openai", &line).expect("line");
    let posted = String::from_utf8(posted).expect("utf-8");
    let encoded = String::from_utf8(encoded).expect("utf-8");
    assert_eq!(
        encoded,
        format!(
            "{{\"custom_id\":\"r7\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{posted}}}"
        )
    );
}

#[tokio::test]
async fn statuses_map_to_phases_and_a_failed_batch_says_why() {
    let server = MockServer::start().await;
    let statuses = [
        ("validating", JobPhase::Running),
        ("in_progress", JobPhase::Running),
        ("finalizing", JobPhase::Running),
        ("cancelling", JobPhase::Running),
        ("completed", JobPhase::Ended),
        ("expired", JobPhase::Ended),
        ("cancelled", JobPhase::Ended),
        ("failed", JobPhase::Failed),
    ];
    for (n, (status, _)) in statuses.iter().enumerate() {
        let mut answer = batch(&format!("batch_{n}"), status);
        if *status == "failed" {
            answer["errors"] = json!({"object": "list", "data": [
                {"code": "invalid_json_line", "message": "This line is not parseable as valid JSON.", "param": null, "line": 3},
                {"code": "mismatched_model", "message": "The provided model does not match the model of other requests.", "param": "body.model", "line": null}
            ]});
            answer["request_counts"] = json!({"total": 0, "completed": 0, "failed": 0});
        }
        Mock::given(method("GET"))
            .and(path(format!("/batches/batch_{n}")))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = backend(&server);
    for (n, (status, phase)) in statuses.iter().enumerate() {
        let got = client
            .job_status(&format!("batch_{n}"))
            .await
            .expect("status");
        assert_eq!((got.status.as_str(), got.phase), (*status, *phase));
        if *status == "failed" {
            assert_eq!(
                got.message.as_deref(),
                Some(
                    "line 3: This line is not parseable as valid JSON. (invalid_json_line); \
                     The provided model does not match the model of other requests. (mismatched_model)"
                )
            );
            assert_eq!((got.total, got.succeeded, got.failed), (0, 0, 0));
        } else {
            assert_eq!(got.message, None);
            assert_eq!((got.total, got.succeeded, got.failed), (5, 2, 3));
        }
    }
}

#[tokio::test]
async fn results_read_the_output_and_the_error_file() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/batches/batch_abc123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch("batch_abc123", "expired")))
        .mount(&server)
        .await;
    let output = [
        json!({"id": "batch_req_1", "custom_id": "r0", "response": {"status_code": 200, "request_id": "req_1", "body": completion("{\"segments\":[]}")}, "error": null}),
        json!({"id": "batch_req_2", "custom_id": "r1", "response": {"status_code": 200, "request_id": "req_2", "body": {"choices": "not a list"}}, "error": null}),
    ];
    let errors = [
        json!({"id": "batch_req_3", "custom_id": "r2", "response": {"status_code": 500, "request_id": "req_3", "body": {"error": {"message": "The server had an error while processing your request. Sorry about that!", "type": "server_error", "param": null, "code": null}}}, "error": null}),
        json!({"id": "batch_req_4", "custom_id": "r3", "response": {"status_code": 400, "request_id": "req_4", "body": {"error": {"message": format!("Invalid parameter: 'response_format'. (key {TEST_KEY})"), "type": "invalid_request_error", "param": "response_format", "code": null}}}, "error": null}),
        json!({"id": "batch_req_5", "custom_id": "r4", "response": null, "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}),
        json!({"id": "batch_req_6", "custom_id": "r5", "response": null, "error": {"code": "batch_cancelled", "message": "This request was cancelled before it was executed."}}),
        json!({"id": "batch_req_7", "response": null, "error": {"code": "batch_expired", "message": "no custom id"}}),
    ];
    let jsonl = |lines: &[Value]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    for (file, lines) in [("file-out456", &output[..]), ("file-err789", &errors[..])] {
        Mock::given(method("GET"))
            .and(path(format!("/files/{file}/content")))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_string(jsonl(lines)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let results = backend(&server)
        .job_results("batch_abc123")
        .await
        .expect("results");
    assert_eq!(ids(&results), ["r0", "r1", "r2", "r3", "r4", "r5"]);
    let reply = reply_of(&results, 0);
    assert_eq!(
        (reply.text.as_str(), &reply.stop),
        ("{\"segments\":[]}", &Stop::Complete)
    );
    let usage = reply.usage;
    assert_eq!(
        (
            usage.requests,
            usage.retries,
            usage.input_tokens,
            usage.cached_input_tokens,
            usage.output_tokens
        ),
        (1, 0, 22, 16, 2)
    );
    let failure = |n: usize| failure_of(&results, n);
    assert_eq!(failure(1).reason, LineReason::Malformed);
    assert_eq!(
        failure(2),
        LineFailure {
            reason: LineReason::Errored { retryable: true },
            message:
                "HTTP 500: The server had an error while processing your request. Sorry about that!"
                    .to_owned()
        }
    );
    assert_eq!(failure(3).reason, LineReason::Errored { retryable: false });
    assert_eq!(
        failure(3).message,
        "HTTP 400: Invalid parameter: 'response_format'. (key [redacted])",
        "never the key"
    );
    assert_eq!(failure(4).reason, LineReason::Expired);
    assert_eq!(failure(5).reason, LineReason::Cancelled);
}

#[tokio::test]
async fn results_of_a_running_job_are_refused_and_a_failed_job_has_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/batches/batch_run"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch("batch_run", "in_progress")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/batches/batch_failed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch("batch_failed", "failed")))
        .mount(&server)
        .await;
    let client = backend(&server);
    let err = client.job_results("batch_run").await.expect_err("running");
    assert_eq!(err.kind, ErrorKind::Rejected);
    assert!(
        err.message.contains("has not ended yet (in_progress)"),
        "{err}"
    );
    assert_eq!(client.job_results("batch_failed").await.expect("none"), []);
    // Only the two status calls: no file was asked for.
    assert_eq!(server.received_requests().await.expect("recorded").len(), 2);
}

#[tokio::test]
async fn cancel_posts_to_the_batch() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/batches/batch_abc123/cancel"))
        .and(header("authorization", AUTH))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch("batch_abc123", "cancelling")))
        .expect(1)
        .mount(&server)
        .await;
    let status = backend(&server)
        .cancel_job("batch_abc123")
        .await
        .expect("cancelling");
    assert_eq!(
        (status.phase, status.status.as_str()),
        (JobPhase::Running, "cancelling")
    );
}

#[tokio::test]
async fn a_wrong_key_stops_at_the_upload_and_names_the_variable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": format!("Incorrect API key provided: {TEST_KEY}. You can find your API key at https://platform.openai.com/account/api-keys."),
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"
        }})))
        .expect(1)
        .mount(&server)
        .await;
    let client = backend(&server);
    let err = client
        .submit_job(&lines(&client, 2))
        .await
        .expect_err("401");
    assert_eq!(err.kind, ErrorKind::Fatal);
    let shown = shown_without_key(&err);
    assert!(
        shown.contains("OPENAI_API_KEY") && shown.contains("/files"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_rate_limited_create_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/files"))
        .respond_with(ResponseTemplate::new(200).set_body_json(file_object("file-abc123", 1)))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batches"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after-ms", "20")
                .set_body_json(json!({"error": {"message": "Too many batch creations.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/batches"))
        .respond_with(ResponseTemplate::new(200).set_body_json(batch("batch_abc123", "validating")))
        .mount(&server)
        .await;
    let client = backend(&server);
    let submitted = client
        .submit_job(&lines(&client, 1))
        .await
        .expect("retried");
    assert_eq!(submitted.id, "batch_abc123");
    assert_eq!(client.requests_sent(), (3, 1));
}
