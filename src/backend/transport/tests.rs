//! The retry loop against a local server, one row per failure class, and the backoff bounds.

use std::time::Instant;

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::backend::testing::{self, shown_without_key};
use crate::backend::{Stop, Usage};

/// What one row of [`retries_follow_the_failure_classes`] expects.
enum Outcome {
    /// A reply, after this many retries.
    Reply { retries: u64 },
    /// An error of this kind and status whose message or hint says `says`.
    Error {
        kind: ErrorKind,
        status: Option<u16>,
        says: &'static str,
    },
}

struct Row {
    name: &'static str,
    kind: BackendKind,
    /// The server's answers in order, the last one repeated; none: nothing listens.
    answers: Vec<ResponseTemplate>,
    outcome: Outcome,
    /// Requests sent, retries included (`max_attempts` is 3, `timeout_secs` 1).
    requests: u64,
    /// The least time the row takes when the server's wait is honoured.
    waits: Duration,
}

fn reply() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json("Hello")
}

fn status(code: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(code).set_body_json(body)
}

fn openai_error(message: &str, code: &str) -> serde_json::Value {
    json!({"error": {"message": message, "type": code, "param": null, "code": code}})
}

/// A reply is a JSON string; usage is filled in by `post_chat`.
fn parse(body: &[u8]) -> Result<ChatReply, String> {
    let text = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    Ok(ChatReply {
        text,
        stop: Stop::Complete,
        usage: Usage::default(),
    })
}

fn rows() -> Vec<Row> {
    use BackendKind::{Anthropic, Deepl, Openai};
    use ErrorKind::{Fatal, Malformed, Quota, RateLimited, Unavailable};
    let busy = openai_error("Rate limit reached for gpt-4.1-mini", "rate_limit_exceeded");
    let error = |kind, status, says| Outcome::Error { kind, status, says };
    let row = |name, kind, answers, outcome, requests| Row {
        name,
        kind,
        answers,
        outcome,
        requests,
        waits: Duration::ZERO,
    };
    vec![
        row(
            "200 at once",
            Openai,
            vec![reply()],
            Outcome::Reply { retries: 0 },
            1,
        ),
        row(
            "500 then 200",
            Openai,
            vec![
                status(500, openai_error("The server had an error", "server_error")),
                reply(),
            ],
            Outcome::Reply { retries: 1 },
            2,
        ),
        Row {
            waits: Duration::from_secs(1),
            ..row(
                "429 with Retry-After waits as told",
                Openai,
                vec![
                    status(429, busy.clone()).insert_header("retry-after", "1"),
                    reply(),
                ],
                Outcome::Reply { retries: 1 },
                2,
            )
        },
        row(
            "429 without Retry-After backs off",
            Openai,
            vec![status(429, busy.clone()), reply()],
            Outcome::Reply { retries: 1 },
            2,
        ),
        row(
            "503 until max_attempts",
            Openai,
            vec![ResponseTemplate::new(503).set_body_string("Slow Down")],
            error(
                Unavailable,
                Some(503),
                "HTTP 503: Slow Down (after 3 attempts)",
            ),
            3,
        ),
        row(
            "529 overloaded until max_attempts",
            Anthropic,
            vec![status(
                529,
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            )],
            error(Unavailable, Some(529), "Overloaded (after 3 attempts)"),
            3,
        ),
        row(
            "429 insufficient_quota stops at once",
            Openai,
            vec![status(
                429,
                openai_error("You exceeded your current quota", "insufficient_quota"),
            )],
            error(Quota, Some(429), "finished work is kept"),
            1,
        ),
        row(
            "456 quota stops at once",
            Deepl,
            vec![status(456, json!({"message": "Quota exceeded"}))],
            error(Quota, Some(456), "HTTP 456: Quota exceeded"),
            1,
        ),
        row(
            "401 is fatal at once",
            Openai,
            vec![status(
                401,
                openai_error("Incorrect API key provided", "invalid_api_key"),
            )],
            error(Fatal, Some(401), "check the API key in $OPENAI_API_KEY"),
            1,
        ),
        row(
            "403 is fatal at once",
            Deepl,
            vec![status(
                403,
                json!({"message": "Authorization failure, check auth_key"}),
            )],
            error(Fatal, Some(403), "check the API key in $DEEPL_API_KEY"),
            1,
        ),
        row(
            "404 is fatal at once",
            Openai,
            vec![status(
                404,
                openai_error("The model `x` does not exist", "model_not_found"),
            )],
            error(Fatal, Some(404), "check base_url"),
            1,
        ),
        Row {
            waits: Duration::from_secs(1),
            ..row(
                "a timeout is retried",
                Openai,
                vec![reply().set_delay(Duration::from_secs(3)), reply()],
                Outcome::Reply { retries: 1 },
                2,
            )
        },
        row(
            "a malformed body is not retried",
            Openai,
            vec![ResponseTemplate::new(200).set_body_string("\"Hel")],
            error(Malformed, None, "unexpected answer"),
            1,
        ),
        row(
            "a wait beyond max_wait_secs gives up",
            Openai,
            vec![status(429, busy).insert_header("retry-after", "60")],
            error(
                RateLimited,
                Some(429),
                "asked to wait 60s, more than max_wait_secs allows",
            ),
            1,
        ),
        row(
            "nothing listens",
            Openai,
            vec![],
            error(Unavailable, None, "is the service reachable at"),
            3,
        ),
    ]
}

/// `row`'s answers, mounted in order on a fresh server (or a closed port for none).
async fn serve(row: &Row) -> (Option<MockServer>, String) {
    let Some((last, first)) = row.answers.split_last() else {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let uri = format!("http://{}", closed.local_addr().expect("an address"));
        return (None, uri);
    };
    let server = MockServer::start().await;
    for answer in first {
        let once = Mock::given(method("POST")).respond_with(answer.clone());
        once.up_to_n_times(1).mount(&server).await;
    }
    Mock::given(method("POST"))
        .respond_with(last.clone())
        .mount(&server)
        .await;
    let uri = server.uri();
    (Some(server), uri)
}

async fn check(row: Row) {
    let name = row.name;
    let (server, uri) = serve(&row).await;
    let mut settings = testing::settings(row.kind, &uri, None);
    settings.tuning.timeout_secs.value = 1;
    let transport = Transport::for_backend(&settings).expect("transport");
    let transport = transport.with_backoff(testing::fast_backoff());
    let started = Instant::now();
    let url = format!("{uri}/chat");
    let result = transport.post_chat(&url, 1, &json!({}), |r| r, parse).await;
    let waited = started.elapsed();
    match (row.outcome, result) {
        (Outcome::Reply { retries }, Ok(reply)) => {
            let usage = (reply.usage.requests, reply.usage.retries);
            assert_eq!(usage, (row.requests, retries), "{name}");
        }
        (Outcome::Error { kind, status, says }, Err(err)) => {
            assert_eq!((err.kind, err.status), (kind, status), "{name}: {err}");
            let shown = shown_without_key(&err);
            assert!(shown.contains(says), "{name}: {shown}");
        }
        (_, result) => panic!("{name}: {result:?}"),
    }
    let sent = transport.requests_sent.load(Ordering::Relaxed);
    assert_eq!(sent, row.requests, "{name}: requests sent");
    if let Some(server) = server {
        let received = server.received_requests().await.map_or(0, |r| r.len());
        assert_eq!(received as u64, row.requests, "{name}: requests received");
    }
    assert!(waited >= row.waits, "{name}: waited {waited:?}");
}

/// Every failure class through the one retry loop, against a local server: how many
/// requests go out, what error (kind and status) comes back, and the retries counted.
#[tokio::test]
async fn retries_follow_the_failure_classes() {
    futures_util::future::join_all(rows().into_iter().map(check)).await;
}

#[test]
fn full_jitter_stays_under_the_growing_ceiling() {
    let backoff = Backoff::default();
    for retry in 0..10 {
        let ceiling = (backoff.base * 2u32.pow(retry)).min(backoff.cap);
        for _ in 0..50 {
            assert!(backoff.delay(retry) <= ceiling);
        }
    }
    assert!(
        backoff.delay(1000) <= backoff.cap,
        "no overflow on huge retry counts"
    );
}

#[test]
fn a_big_file_gets_the_time_it_takes_at_one_megabit() {
    let mut settings = testing::settings(BackendKind::Openai, "http://127.0.0.1:9", None);
    settings.tuning.timeout_secs.value = 180;
    let transport = Transport::for_backend(&settings).expect("transport");
    assert_eq!(transport.bulk_timeout(1_000), Duration::from_secs(180));
    assert_eq!(
        transport.bulk_timeout(200_000_000),
        Duration::from_secs(1600)
    );
}
