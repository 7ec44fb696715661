//! Provider batch APIs: the same chat requests, sent as one asynchronous job at half the
//! price. OpenAI Batch (upload a JSONL file with purpose `batch`, create a batch for
//! `/v1/chat/completions` with `completion_window: "24h"`, poll, download the output and error
//! files) and Anthropic Message Batches (`POST /v1/messages/batches`, poll, read
//! `results_url`). Each line's body is exactly what the synchronous call would post, and each
//! result is read with the same parser, so a batch reply is checked like any other.
//!
//! This module only speaks the wire; which requests go into which job, job records, waiting
//! and retries belong to `pipeline::jobs`.

mod anthropic;
mod openai;

use serde::{Deserialize, Serialize};

use super::{Backend, BackendError, ChatReply, ChatRequest, Client, ErrorKind};
use crate::config::Tuning;

/// The size a job's results are allowed for when reading them
/// ([`bulk_timeout`](super::transport::Transport::bulk_timeout)): the largest job a provider
/// takes.
const RESULT_BYTES: usize = 256_000_000;

/// OpenAI Batch: 50,000 requests and 200 MB per input file.
const OPENAI_LIMITS: JobLimits = JobLimits {
    max_requests: 50_000,
    max_bytes: 200_000_000,
};
/// Anthropic Message Batches: 100,000 requests and 256 MB per create request (its JSON
/// envelope, `{"requests":[` … `]}`, takes the few bytes subtracted here).
const ANTHROPIC_LIMITS: JobLimits = JobLimits {
    max_requests: 100_000,
    max_bytes: 256_000_000 - anthropic::ENVELOPE_BYTES,
};

/// Which provider batch API a backend has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BatchApi {
    /// OpenAI Batch over `/v1/files` and `/v1/batches` (any server of kind `openai`).
    Openai,
    /// Anthropic Message Batches, `/v1/messages/batches`.
    Anthropic,
}

/// One request of a job: its id, unique within the job (`^[a-zA-Z0-9_-]{1,64}$`), and the
/// body the synchronous call would post.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLine {
    pub custom_id: String,
    pub body: serde_json::Value,
}

/// What one job may hold: the provider's limits, or lower ones from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLimits {
    pub max_requests: usize,
    /// Bytes of the job's input: the sum of [`Backend::line_bytes`] over its lines (the JSONL
    /// file, or the create request's body less its envelope).
    pub max_bytes: usize,
}

/// The config's say on jobs (`job_requests`, `job_bytes`, `poll_secs`).
#[derive(Debug, Clone, Copy)]
pub(super) struct JobTuning {
    requests: Option<usize>,
    bytes: Option<usize>,
    poll_secs: f64,
}

impl JobTuning {
    pub(super) fn new(tuning: &Tuning) -> Self {
        Self {
            requests: tuning
                .job_requests
                .as_ref()
                .map(|r| usize::try_from(r.value).unwrap_or(usize::MAX)),
            bytes: tuning
                .job_bytes
                .as_ref()
                .map(|b| usize::try_from(b.value).unwrap_or(usize::MAX)),
            poll_secs: tuning.poll_secs.value,
        }
    }
}

/// A job the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    pub id: String,
    /// OpenAI: the uploaded input file.
    pub input_file: Option<String>,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobPhase {
    /// Validating, in progress, finalizing, cancelling: wait.
    Running,
    /// Completed, expired, cancelled or ended: its results can be read (some lines may have
    /// failed, expired or been cancelled).
    Ended,
    /// The provider refused the job as a whole (OpenAI `failed`: its input did not validate);
    /// no line has a result.
    Failed,
}

/// A job's state as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    pub id: String,
    pub phase: JobPhase,
    /// The provider's own word (`in_progress`, `completed`, `expired`, `ended`, …).
    pub status: String,
    pub total: u64,
    /// Lines finished well so far.
    pub succeeded: u64,
    /// Lines that errored, expired or were cancelled so far.
    pub failed: u64,
    /// Why the job failed as a whole (OpenAI's `errors`), when it did.
    pub message: Option<String>,
}

/// How one line of a finished job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum LineResult {
    /// The reply, read by the same parser as a synchronous reply; its usage is the line's.
    Reply(ChatReply),
    Failed(LineFailure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFailure {
    pub reason: LineReason,
    /// What the provider said (never a key).
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineReason {
    /// The request errored; `retryable` for server errors, rate limits and overload, not for
    /// a request the provider rejected (400) — that one fails the same way again.
    Errored { retryable: bool },
    /// The job expired before the line was done.
    Expired,
    /// The job was cancelled before the line was done.
    Cancelled,
    /// The line came back in a shape that could not be read.
    Malformed,
}

impl Backend {
    /// The provider batch API this backend can use, if any.
    pub fn batch_api(&self) -> Option<BatchApi> {
        match &self.client {
            Client::Openai(_) => Some(BatchApi::Openai),
            Client::Anthropic(_) => Some(BatchApi::Anthropic),
            _ => None,
        }
    }

    /// What one job of this backend may hold: the provider's limits, lowered by the config's
    /// `job_requests` and `job_bytes`.
    pub fn job_limits(&self) -> JobLimits {
        let provider = match self.batch_api() {
            Some(BatchApi::Anthropic) => ANTHROPIC_LIMITS,
            Some(BatchApi::Openai) | None => OPENAI_LIMITS,
        };
        JobLimits {
            max_requests: self
                .jobs
                .requests
                .map_or(provider.max_requests, |r| r.min(provider.max_requests)),
            max_bytes: self
                .jobs
                .bytes
                .map_or(provider.max_bytes, |b| b.min(provider.max_bytes)),
        }
    }

    /// How long to wait between two polls of a job, in seconds.
    pub fn poll_secs(&self) -> f64 {
        self.jobs.poll_secs
    }

    /// The bytes `line` adds to a job's input, as [`JobLimits::max_bytes`] counts them: its
    /// JSONL line with the newline (OpenAI), or its entry of `requests` with the comma
    /// (Anthropic).
    pub fn line_bytes(&self, line: &BatchLine) -> Result<usize, BackendError> {
        let encoded = match &self.client {
            Client::Openai(_) => openai::input_line(self.name(), line)?,
            Client::Anthropic(_) => anthropic::request_entry(self.name(), line)?,
            _ => return Err(self.no_batch_api()),
        };
        Ok(encoded.len() + 1)
    }

    /// The body a synchronous `chat` would post for `request`: what a batch line carries.
    pub fn chat_body(&self, request: &ChatRequest) -> Result<serde_json::Value, BackendError> {
        match &self.client {
            Client::Openai(c) => Ok(c.body(request)),
            Client::Anthropic(c) => Ok(c.body(request)),
            _ => Err(self.no_batch_api()),
        }
    }

    /// Submit `lines` as one job. Refused before anything is sent when the job is empty, over
    /// [`Self::job_limits`], or has a custom id that is repeated or not
    /// `^[a-zA-Z0-9_-]{1,64}$`.
    pub async fn submit_job(&self, lines: &[BatchLine]) -> Result<Submitted, BackendError> {
        let bytes = self.check_job(lines)?;
        let transport = &self.transport;
        match &self.client {
            Client::Openai(c) => openai::submit(c, transport, lines, bytes).await,
            Client::Anthropic(c) => anthropic::submit(c, transport, lines, bytes).await,
            _ => Err(self.no_batch_api()),
        }
    }

    /// Where the job `id` is.
    pub async fn job_status(&self, id: &str) -> Result<JobStatus, BackendError> {
        let id = checked_id(self.name(), id)?;
        let transport = &self.transport;
        match &self.client {
            Client::Openai(c) => Ok(openai::status(c, transport, id).await?.status()),
            Client::Anthropic(c) => Ok(anthropic::status(c, transport, id).await?.status()),
            _ => Err(self.no_batch_api()),
        }
    }

    /// The results of the ended job `id`, by custom id, in any order. A line the provider
    /// left out (a cancelled or expired job may) is not in the list; a job still running is
    /// an error.
    pub async fn job_results(&self, id: &str) -> Result<Vec<(String, LineResult)>, BackendError> {
        let id = checked_id(self.name(), id)?;
        let transport = &self.transport;
        let results = match &self.client {
            Client::Openai(c) => openai::results(c, transport, id).await?,
            Client::Anthropic(c) => anthropic::results(c, transport, id).await?,
            _ => return Err(self.no_batch_api()),
        };
        Ok(redacted(transport, results))
    }

    /// Ask the provider to cancel the job `id`; lines already done stay done. The status is
    /// the provider's answer (usually still running: cancelling takes a while).
    pub async fn cancel_job(&self, id: &str) -> Result<JobStatus, BackendError> {
        let id = checked_id(self.name(), id)?;
        let transport = &self.transport;
        match &self.client {
            Client::Openai(c) => openai::cancel(c, transport, id).await,
            Client::Anthropic(c) => anthropic::cancel(c, transport, id).await,
            _ => Err(self.no_batch_api()),
        }
    }

    fn no_batch_api(&self) -> BackendError {
        BackendError::config(
            self.name(),
            format!("a {} backend has no batch API", self.kind()),
            Some("batch jobs need a backend of kind openai or anthropic".to_owned()),
        )
    }

    /// The job's input bytes, or why `lines` cannot be one job.
    fn check_job(&self, lines: &[BatchLine]) -> Result<usize, BackendError> {
        let limits = self.job_limits();
        let refuse = |message: String| Err(rejected(self.name(), message));
        if lines.is_empty() {
            return refuse("a job needs at least one request".to_owned());
        }
        if lines.len() > limits.max_requests {
            return refuse(format!(
                "a job of {} requests is over this backend's limit of {}",
                lines.len(),
                limits.max_requests
            ));
        }
        let mut seen = std::collections::HashSet::new();
        let mut bytes = 0;
        for line in lines {
            if !valid_custom_id(&line.custom_id) {
                return refuse(format!(
                    "`{}` is not a custom id (1 to 64 letters, digits, `_` or `-`)",
                    line.custom_id
                ));
            }
            if !seen.insert(line.custom_id.as_str()) {
                return refuse(format!(
                    "custom id `{}` is in the job twice",
                    line.custom_id
                ));
            }
            bytes += self.line_bytes(line)?;
        }
        if bytes > limits.max_bytes {
            return refuse(format!(
                "a job of {bytes} bytes is over this backend's limit of {}",
                limits.max_bytes
            ));
        }
        Ok(bytes)
    }
}

/// `^[a-zA-Z0-9_-]{1,64}$`: what Anthropic accepts, and safe for OpenAI.
fn valid_custom_id(id: &str) -> bool {
    id_of_at_most(id, 64)
}

/// Whether `id` is 1 to `max` letters, digits, `_` or `-`.
fn id_of_at_most(id: &str, max: usize) -> bool {
    (1..=max).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// `id` when it can name a job or file in a URL path: the providers' ids are letters,
/// digits, `_` and `-`; anything else (a damaged job record) is refused, not sent.
fn checked_id<'a>(backend: &str, id: &'a str) -> Result<&'a str, BackendError> {
    if id_of_at_most(id, 256) {
        Ok(id)
    } else {
        Err(rejected(backend, format!("`{id}` is not a provider id")))
    }
}

/// A request of ours the provider would refuse, or did.
fn rejected(backend: &str, message: String) -> BackendError {
    BackendError {
        backend: backend.to_owned(),
        kind: ErrorKind::Rejected,
        message,
        hint: None,
        status: None,
    }
}

/// A job asked for results before it ended.
fn not_ended(backend: &str, id: &str, status: &str) -> BackendError {
    rejected(
        backend,
        format!("job {id} has not ended yet ({status}); its results cannot be read"),
    )
}

/// `results` with the key taken out of every failure's message.
fn redacted(
    transport: &super::transport::Transport,
    results: Vec<(String, LineResult)>,
) -> Vec<(String, LineResult)> {
    results
        .into_iter()
        .map(|(id, result)| match result {
            LineResult::Failed(LineFailure { reason, message }) => (
                id,
                LineResult::Failed(LineFailure {
                    reason,
                    message: transport.redact(&message),
                }),
            ),
            reply => (id, reply),
        })
        .collect()
}

/// How a line's JSON could not be read.
fn malformed_line(message: impl std::fmt::Display) -> LineResult {
    LineResult::Failed(LineFailure {
        reason: LineReason::Malformed,
        message: format!("unexpected answer: {message}"),
    })
}

/// A result line's reply `body` (what a synchronous call would have been answered), read by
/// the provider's `parse`: its usage is the line's, one request.
fn reply(body: &serde_json::Value, parse: fn(&[u8]) -> Result<ChatReply, String>) -> LineResult {
    let parsed = serde_json::to_vec(body)
        .map_err(|e| e.to_string())
        .and_then(|b| parse(&b));
    match parsed {
        Ok(mut reply) => {
            reply.usage.requests = 1;
            reply.usage.retries = 0;
            LineResult::Reply(reply)
        }
        Err(e) => malformed_line(e),
    }
}

/// What a failed line's error says: its message, with its code or type after it.
fn error_message(code: &str, message: &str) -> String {
    match (code, message) {
        ("", "") => "an error without a message".to_owned(),
        ("", message) => message.to_owned(),
        (code, "") => code.to_owned(),
        (code, message) => format!("{message} ({code})"),
    }
}

/// A JSON answer of the provider, read as `T`.
fn read<T: serde::de::DeserializeOwned>(backend: &str, body: &[u8]) -> Result<T, BackendError> {
    serde_json::from_slice(body).map_err(|e| BackendError::malformed(backend, e))
}

/// The JSONL lines of `body` that hold JSON objects, skipping blank ones; a line that is not
/// JSON at all cannot name its custom id and is left out (the caller treats it as not done).
fn jsonl(body: &[u8]) -> impl Iterator<Item = serde_json::Value> + '_ {
    body.split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .filter_map(|line| serde_json::from_slice(line).ok())
}

#[cfg(test)]
mod tests;
