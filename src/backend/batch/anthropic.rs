//! Anthropic Message Batches: `POST /v1/messages/batches` with every line as
//! `{"custom_id","params"}` (`params` is the synchronous Messages body), polled at
//! `GET /v1/messages/batches/{id}`, results read as JSONL from its `results_url`, with the same
//! `x-api-key` and `anthropic-version` headers as every other call.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    BatchLine, JobPhase, JobStatus, LineFailure, LineReason, LineResult, Submitted, error_message,
    jsonl, malformed_line, not_ended, read, reply,
};
use crate::backend::BackendError;
use crate::backend::anthropic::{Anthropic, parse};
use crate::backend::transport::Transport;

const ENVELOPE_START: &[u8] = b"{\"requests\":[";
const ENVELOPE_END: &[u8] = b"]}";
/// The create body's bytes around its entries: the body is at most these plus the sum of
/// its lines' `line_bytes` (each counts a comma; the body has one fewer).
pub(super) const ENVELOPE_BYTES: usize = ENVELOPE_START.len() + ENVELOPE_END.len();

#[derive(Serialize)]
struct Entry<'a> {
    custom_id: &'a str,
    params: &'a Value,
}

/// `line` as its entry of the create body's `requests`.
pub(super) fn request_entry(backend: &str, line: &BatchLine) -> Result<Vec<u8>, BackendError> {
    serde_json::to_vec(&Entry {
        custom_id: &line.custom_id,
        params: &line.body,
    })
    .map_err(|e| BackendError::malformed(backend, e))
}

/// The Message Batch object, as far as klartext reads it.
#[derive(Deserialize)]
pub(super) struct MessageBatch {
    id: String,
    processing_status: String,
    #[serde(default)]
    request_counts: Option<RequestCounts>,
    #[serde(default)]
    results_url: Option<String>,
}

#[derive(Deserialize, Default)]
struct RequestCounts {
    #[serde(default)]
    processing: u64,
    #[serde(default)]
    succeeded: u64,
    #[serde(default)]
    errored: u64,
    #[serde(default)]
    canceled: u64,
    #[serde(default)]
    expired: u64,
}

impl MessageBatch {
    pub(super) fn status(&self) -> JobStatus {
        let phase = match self.processing_status.as_str() {
            "ended" => JobPhase::Ended,
            // in_progress, canceling, and whatever comes next.
            _ => JobPhase::Running,
        };
        let c = self.request_counts.as_ref();
        let count = |f: fn(&RequestCounts) -> u64| c.map_or(0, f);
        let failed = count(|c| c.errored + c.canceled + c.expired);
        let succeeded = count(|c| c.succeeded);
        JobStatus {
            id: self.id.clone(),
            phase,
            status: self.processing_status.clone(),
            total: count(|c| c.processing) + succeeded + failed,
            succeeded,
            failed,
            message: None,
        }
    }
}

fn batches_url(client: &Anthropic) -> String {
    format!("{}/v1/messages/batches", client.base_url)
}

pub(super) async fn submit(
    client: &Anthropic,
    transport: &Transport,
    lines: &[BatchLine],
    bytes: usize,
) -> Result<Submitted, BackendError> {
    let mut body = Vec::with_capacity(bytes + ENVELOPE_BYTES);
    body.extend_from_slice(ENVELOPE_START);
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend(request_entry(&transport.name, line)?);
    }
    body.extend_from_slice(ENVELOPE_END);
    let url = batches_url(client);
    let answer = transport
        .send(&url, 1, |http| {
            client
                .authorized(http.post(&url))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .timeout(transport.bulk_timeout(body.len()))
                .body(body.clone())
        })
        .await?;
    let batch: MessageBatch = read(&transport.name, &answer.body)?;
    Ok(Submitted {
        id: batch.id,
        input_file: None,
    })
}

pub(super) async fn status(
    client: &Anthropic,
    transport: &Transport,
    id: &str,
) -> Result<MessageBatch, BackendError> {
    let url = format!("{}/{id}", batches_url(client));
    transport
        .get_json(&url, |http| client.authorized(http.get(&url)))
        .await
}

pub(super) async fn cancel(
    client: &Anthropic,
    transport: &Transport,
    id: &str,
) -> Result<JobStatus, BackendError> {
    let url = format!("{}/{id}/cancel", batches_url(client));
    let answer = transport
        .send(&url, 1, |http| client.authorized(http.post(&url)))
        .await?;
    let batch: MessageBatch = read(&transport.name, &answer.body)?;
    Ok(batch.status())
}

pub(super) async fn results(
    client: &Anthropic,
    transport: &Transport,
    id: &str,
) -> Result<Vec<(String, LineResult)>, BackendError> {
    let batch = status(client, transport, id).await?;
    if batch.status().phase != JobPhase::Ended {
        return Err(not_ended(&transport.name, id, &batch.processing_status));
    }
    // The key goes only to the configured host: a `results_url` elsewhere is not followed.
    let own = format!("{}/{id}/results", batches_url(client));
    let url = batch
        .results_url
        .filter(|url| url.starts_with(&format!("{}/", client.base_url)))
        .unwrap_or(own);
    let answer = transport
        .send(&url, 1, |http| {
            client
                .authorized(http.get(&url))
                .timeout(transport.bulk_timeout(super::RESULT_BYTES))
        })
        .await?;
    Ok(jsonl(&answer.body)
        .filter_map(|line| result_line(&line))
        .collect())
}

/// One line of the results, by its custom id; `None` for a line without one.
fn result_line(line: &Value) -> Option<(String, LineResult)> {
    let custom_id = line.get("custom_id")?.as_str()?.to_owned();
    let result = line.get("result").unwrap_or(&Value::Null);
    let failed = |reason, message: &str| {
        LineResult::Failed(LineFailure {
            reason,
            message: message.to_owned(),
        })
    };
    let outcome = match result.get("type").and_then(Value::as_str) {
        Some("succeeded") => reply(result.get("message").unwrap_or(&Value::Null), parse),
        Some("errored") => errored(result.get("error").unwrap_or(&Value::Null)),
        Some("canceled") => failed(LineReason::Cancelled, "the job was cancelled first"),
        Some("expired") => failed(LineReason::Expired, "the job expired first"),
        Some(other) => malformed_line(format!("a result of type `{other}`")),
        None => malformed_line("a result without a type"),
    };
    Some((custom_id, outcome))
}

/// An `errored` result: its `error` is the usual envelope
/// (`{"type":"error","error":{"type","message"}}`), or the inner object alone. A request
/// Anthropic found wrong fails the same way again; server errors and overload may not.
fn errored(error: &Value) -> LineResult {
    let inner = error
        .get("error")
        .filter(|e| e.is_object())
        .unwrap_or(error);
    let text = |name| inner.get(name).and_then(Value::as_str).unwrap_or_default();
    let (kind, message) = (text("type"), text("message"));
    let retryable = !matches!(
        kind,
        "invalid_request_error"
            | "authentication_error"
            | "permission_error"
            | "not_found_error"
            | "request_too_large"
            | "billing_error"
    );
    LineResult::Failed(LineFailure {
        reason: LineReason::Errored { retryable },
        message: error_message(kind, message),
    })
}

#[cfg(test)]
mod tests;
