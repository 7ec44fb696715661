//! Test helpers for the backend clients: settings that point a backend at a local mock server,
//! and a fast backoff so retry tests take milliseconds.

use std::time::Duration;

use crate::config::{BackendKind, BackendSettings, Secret, Source, Sourced, Tuning};

use super::transport::Backoff;

pub const TEST_KEY: &str = "test-key-0123456789";

pub fn fast_backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(1),
        cap: Duration::from_millis(5),
    }
}

fn sourced<T>(value: T) -> Sourced<T> {
    Sourced::new(value, Source::Default)
}

pub fn tuning() -> Tuning {
    Tuning {
        concurrency: sourced(4),
        requests_per_minute: None,
        tokens_per_minute: None,
        timeout_secs: sourced(5),
        max_attempts: sourced(3),
        max_wait_secs: sourced(10),
        max_output_tokens: sourced(1000),
        batch_tokens: sourced(1500),
        pack_documents: sourced(true),
        temperature: None,
        structured: sourced(true),
        target_lang: sourced("EN-US".to_owned()),
        job_requests: None,
        job_bytes: None,
        poll_secs: sourced(0.05),
    }
}

/// A backend named like its kind, at `base_url`, with [`TEST_KEY`] from `key_env`.
pub fn settings(kind: BackendKind, base_url: &str, model: Option<&str>) -> BackendSettings {
    let key_env = kind.default_key_env().unwrap_or("TEST_API_KEY");
    BackendSettings {
        name: kind.to_string(),
        kind: sourced(kind),
        base_url: Some(sourced(base_url.to_owned())),
        model: model.map(|m| sourced(m.to_owned())),
        api_key_env: Some(sourced(key_env.to_owned())),
        api_key: Some(Sourced::new(
            Secret::new(TEST_KEY),
            Source::Env(key_env.to_owned()),
        )),
        region: None,
        tuning: tuning(),
        price: None,
    }
}

/// The JSON body of the `n`th request the mock server received.
pub async fn request_body(server: &wiremock::MockServer, n: usize) -> serde_json::Value {
    let requests = server.received_requests().await.expect("recording is on");
    let request = requests.get(n).expect("that many requests");
    serde_json::from_slice(&request.body).expect("a JSON body")
}

/// Every request the server received, as text (headers and body), to check that the key
/// appears only where the provider expects it.
pub async fn everything_sent(server: &wiremock::MockServer) -> Vec<String> {
    let requests = server.received_requests().await.expect("recording is on");
    requests
        .iter()
        .map(|r| {
            let headers: Vec<String> = r
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or_default()))
                .collect();
            format!(
                "{} {}\n{}\n{}",
                r.method,
                r.url,
                headers.join("\n"),
                String::from_utf8_lossy(&r.body)
            )
        })
        .collect()
}

/// What a user would see of `err` (Display and hint); panics if [`TEST_KEY`] is in it.
pub fn shown_without_key(err: &super::BackendError) -> String {
    let shown = format!("{err} {}", err.hint().unwrap_or_default());
    assert!(!shown.contains(TEST_KEY), "the key leaked: {shown}");
    shown
}

/// The segment protocol's reply schema for English (`pipeline::protocol::reply_schema`), as
/// the chat clients receive it; a protocol test keeps the two equal, so the backend's tests
/// convert the real thing without depending on the pipeline.
pub fn reply_schema(with_literal: bool) -> serde_json::Value {
    let mut item = serde_json::json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The id of the request segment, unchanged."},
            "en": {"type": "string", "description": "The segment in English, as a professional English writer would have written it."},
            "notes": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Remarks for the reviewer, never part of the text; empty when there are none."
            }
        },
        "required": ["id", "en", "notes"],
        "additionalProperties": false
    });
    if with_literal {
        item["properties"]["literal"] = serde_json::json!({
            "type": "string",
            "description": "A close, literal English rendering of the German segment."
        });
        item["required"] = serde_json::json!(["id", "en", "literal", "notes"]);
    }
    serde_json::json!({
        "type": "object",
        "properties": {
            "segments": {
                "type": "array",
                "description": "One entry per request segment, in the same order.",
                "items": item
            }
        },
        "required": ["segments"],
        "additionalProperties": false
    })
}

/// One part of a `multipart/form-data` body: its field name, file name and content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    pub name: String,
    pub filename: Option<String>,
    pub content: Vec<u8>,
}

/// The parts of the multipart request `request` (by the boundary its `content-type` names).
pub fn form_parts(request: &wiremock::Request) -> Vec<FormPart> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .expect("a multipart content-type with a boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &request.body;
    let starts: Vec<usize> = body
        .windows(delimiter.len())
        .enumerate()
        .filter(|(_, w)| *w == delimiter.as_bytes())
        .map(|(at, _)| at)
        .collect();
    starts
        .windows(2)
        .filter_map(|pair| {
            let part = &body[pair[0] + delimiter.len()..pair[1]];
            let part = part.strip_prefix(b"\r\n")?;
            let part = part.strip_suffix(b"\r\n")?;
            let split = part.windows(4).position(|w| w == b"\r\n\r\n")?;
            let head = String::from_utf8_lossy(&part[..split]).into_owned();
            let field = |key: &str| {
                let start = head.find(&format!("{key}=\""))? + key.len() + 2;
                let len = head[start..].find('"')?;
                Some(head[start..start + len].to_owned())
            };
            Some(FormPart {
                name: field(" name")
                    .or_else(|| field(";name"))
                    .unwrap_or_default(),
                filename: field("filename"),
                content: part[split + 4..].to_vec(),
            })
        })
        .collect()
}
