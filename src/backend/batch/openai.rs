//! OpenAI Batch over any server of kind `openai` (its base URL ends in `/v1`): the lines go up
//! as a JSONL file (`POST /files`, multipart, `purpose=batch`), a batch is created for
//! `/v1/chat/completions` (`POST /batches`), polled (`GET /batches/{id}`), and its output and
//! error files are read (`GET /files/{id}/content`); an upload no batch could be created for is
//! deleted (`DELETE /files/{id}`). Each line's `body` is the synchronous
//! body; each `200` response body is read by the synchronous parser.

use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    BatchLine, JobPhase, JobStatus, LineFailure, LineReason, LineResult, Submitted, error_message,
    jsonl, malformed_line, not_ended, read, reply,
};
use crate::backend::BackendError;
use crate::backend::openai::{Openai, parse};
use crate::backend::transport::Transport;

/// The endpoint every line of a klartext job targets.
const ENDPOINT: &str = "/v1/chat/completions";
/// The name the input file is uploaded under.
const FILE_NAME: &str = "klartext-batch.jsonl";

/// One line of the input file, fields in the documented order.
#[derive(Serialize)]
struct InputLine<'a> {
    custom_id: &'a str,
    method: &'static str,
    url: &'static str,
    body: &'a Value,
}

/// `line` as its JSONL line, without the newline.
pub(super) fn input_line(backend: &str, line: &BatchLine) -> Result<Vec<u8>, BackendError> {
    serde_json::to_vec(&InputLine {
        custom_id: &line.custom_id,
        method: "POST",
        url: ENDPOINT,
        body: &line.body,
    })
    .map_err(|e| BackendError::malformed(backend, e))
}

#[derive(Deserialize)]
struct FileObject {
    id: String,
}

/// The Batch object, as far as klartext reads it.
#[derive(Deserialize)]
pub(super) struct Batch {
    id: String,
    status: String,
    #[serde(default)]
    output_file_id: Option<String>,
    #[serde(default)]
    error_file_id: Option<String>,
    #[serde(default)]
    request_counts: Option<RequestCounts>,
    #[serde(default)]
    errors: Option<BatchErrors>,
}

#[derive(Deserialize)]
struct RequestCounts {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    completed: u64,
    #[serde(default)]
    failed: u64,
}

#[derive(Deserialize)]
struct BatchErrors {
    #[serde(default)]
    data: Option<Vec<BatchError>>,
}

#[derive(Deserialize)]
struct BatchError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    line: Option<u64>,
}

impl Batch {
    pub(super) fn status(&self) -> JobStatus {
        let phase = match self.status.as_str() {
            "completed" | "expired" | "cancelled" => JobPhase::Ended,
            "failed" => JobPhase::Failed,
            // validating, in_progress, finalizing, cancelling, and whatever comes next.
            _ => JobPhase::Running,
        };
        let counts = self.request_counts.as_ref();
        JobStatus {
            id: self.id.clone(),
            phase,
            status: self.status.clone(),
            total: counts.map_or(0, |c| c.total),
            succeeded: counts.map_or(0, |c| c.completed),
            failed: counts.map_or(0, |c| c.failed),
            message: (phase == JobPhase::Failed).then(|| self.errors()),
        }
    }

    /// Why the batch failed: `errors.data[]`, one `line N: message (code)` each.
    fn errors(&self) -> String {
        let data = self.errors.as_ref().and_then(|e| e.data.as_deref());
        let said: Vec<String> = data
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let line = e.line.map(|l| format!("line {l}: ")).unwrap_or_default();
                let message = e.message.as_deref().unwrap_or("no message");
                let code = e
                    .code
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default();
                format!("{line}{message}{code}")
            })
            .collect();
        if said.is_empty() {
            "the provider refused the job without saying why".to_owned()
        } else {
            said.join("; ")
        }
    }
}

pub(super) async fn submit(
    client: &Openai,
    transport: &Transport,
    lines: &[BatchLine],
    bytes: usize,
) -> Result<Submitted, BackendError> {
    let name = transport.name.as_str();
    let mut file = Vec::with_capacity(bytes);
    for line in lines {
        file.extend(input_line(name, line)?);
        file.push(b'\n');
    }
    let url = format!("{}/files", client.base_url);
    let answer = transport
        .send(&url, 1, |http| {
            let form = Form::new()
                .text("purpose", "batch")
                .part("file", Part::bytes(file.clone()).file_name(FILE_NAME));
            client
                .authorized(http.post(&url))
                .multipart(form)
                .timeout(transport.bulk_timeout(file.len()))
        })
        .await?;
    let input: FileObject = read(name, &answer.body)?;
    let url = format!("{}/batches", client.base_url);
    let body = json!({
        "input_file_id": input.id,
        "endpoint": ENDPOINT,
        "completion_window": "24h",
        "metadata": {"klartext": env!("CARGO_PKG_VERSION")},
    });
    let created = transport
        .send(&url, 1, |http| {
            client.authorized(http.post(&url)).json(&body)
        })
        .await
        .and_then(|answer| read::<Batch>(name, &answer.body));
    let batch = match created {
        Ok(batch) => batch,
        Err(err) => {
            // No job reads the upload: it goes (as far as the provider lets it), and the
            // create's error is the one told.
            let url = format!("{}/files/{}", client.base_url, input.id);
            let _ = transport
                .send(&url, 1, |http| client.authorized(http.delete(&url)))
                .await;
            return Err(err);
        }
    };
    Ok(Submitted {
        id: batch.id,
        input_file: Some(input.id),
    })
}

pub(super) async fn status(
    client: &Openai,
    transport: &Transport,
    id: &str,
) -> Result<Batch, BackendError> {
    let url = format!("{}/batches/{id}", client.base_url);
    transport
        .get_json(&url, |http| client.authorized(http.get(&url)))
        .await
}

pub(super) async fn cancel(
    client: &Openai,
    transport: &Transport,
    id: &str,
) -> Result<JobStatus, BackendError> {
    let url = format!("{}/batches/{id}/cancel", client.base_url);
    let answer = transport
        .send(&url, 1, |http| client.authorized(http.post(&url)))
        .await?;
    let batch: Batch = read(&transport.name, &answer.body)?;
    Ok(batch.status())
}

pub(super) async fn results(
    client: &Openai,
    transport: &Transport,
    id: &str,
) -> Result<Vec<(String, LineResult)>, BackendError> {
    let batch = status(client, transport, id).await?;
    match batch.status().phase {
        JobPhase::Running => return Err(not_ended(&transport.name, id, &batch.status)),
        // No line ran; there are no files to read.
        JobPhase::Failed => return Ok(Vec::new()),
        JobPhase::Ended => {}
    }
    let mut found = Vec::new();
    for file in [&batch.output_file_id, &batch.error_file_id]
        .into_iter()
        .flatten()
    {
        let file = super::checked_id(&transport.name, file)?;
        let url = format!("{}/files/{file}/content", client.base_url);
        let answer = transport
            .send(&url, 1, |http| {
                client
                    .authorized(http.get(&url))
                    .timeout(transport.bulk_timeout(super::RESULT_BYTES))
            })
            .await?;
        found.extend(jsonl(&answer.body).filter_map(|line| output_line(&line)));
    }
    Ok(found)
}

/// One line of an output or error file, by its custom id; `None` for a line without one.
fn output_line(line: &Value) -> Option<(String, LineResult)> {
    let custom_id = line.get("custom_id")?.as_str()?.to_owned();
    let response = line.get("response").filter(|r| !r.is_null());
    let error = line.get("error").filter(|e| !e.is_null());
    let result = match (response, error) {
        (Some(response), _) => response_result(response),
        (None, Some(error)) => error_result(error),
        (None, None) => malformed_line("a result line with neither response nor error"),
    };
    Some((custom_id, result))
}

fn response_result(response: &Value) -> LineResult {
    let Some(status) = response.get("status_code").and_then(Value::as_u64) else {
        return malformed_line("a response without status_code");
    };
    let body = response.get("body").unwrap_or(&Value::Null);
    if status == 200 {
        return reply(body, parse);
    }
    let said = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    LineResult::Failed(LineFailure {
        reason: LineReason::Errored {
            retryable: matches!(status, 408 | 429 | 500..),
        },
        message: format!("HTTP {status}: {said}"),
    })
}

fn error_result(error: &Value) -> LineResult {
    let text = |name| error.get(name).and_then(Value::as_str).unwrap_or_default();
    let (code, message) = (text("code"), text("message"));
    let reason = match code {
        "batch_expired" => LineReason::Expired,
        "batch_cancelled" => LineReason::Cancelled,
        // Nothing says the request itself was wrong (that comes as a 4xx response).
        _ => LineReason::Errored { retryable: true },
    };
    LineResult::Failed(LineFailure {
        reason,
        message: error_message(code, message),
    })
}

#[cfg(test)]
mod tests;
