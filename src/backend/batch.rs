//! Provider batch APIs: the same chat requests, sent as one asynchronous job at half the
//! price. OpenAI Batch (upload a JSONL file with purpose `batch`, create a batch for
//! `/v1/chat/completions` with `completion_window: "24h"`, poll, download the output and error
//! files) and Anthropic Message Batches (`POST /v1/messages/batches`, poll, read
//! `results_url`). Each line's body is exactly what the synchronous call would post, and each
//! result is read with the same parser, so a batch reply is checked like any other.
//!
//! This module only speaks the wire; which requests go into which job, job records, waiting
//! and retries belong to `pipeline::jobs`.

use serde::{Deserialize, Serialize};

use super::{Backend, BackendError, ChatReply, ChatRequest};

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
    /// Bytes of the job's input (the JSONL file, or the create request's body).
    pub max_bytes: usize,
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
        None
    }

    /// What one job of this backend may hold.
    pub fn job_limits(&self) -> JobLimits {
        JobLimits {
            max_requests: 50_000,
            max_bytes: 200 * 1024 * 1024,
        }
    }

    /// How long to wait between two polls of a job, in seconds.
    pub fn poll_secs(&self) -> f64 {
        30.0
    }

    /// The body a synchronous `chat` would post for `request`: what a batch line carries.
    pub fn chat_body(&self, _request: &ChatRequest) -> Result<serde_json::Value, BackendError> {
        Err(BackendError::malformed(self.name(), "no batch API"))
    }

    /// Submit `lines` as one job.
    pub async fn submit_job(&self, _lines: &[BatchLine]) -> Result<Submitted, BackendError> {
        Err(BackendError::malformed(self.name(), "no batch API"))
    }

    /// Where the job `id` is.
    pub async fn job_status(&self, _id: &str) -> Result<JobStatus, BackendError> {
        Err(BackendError::malformed(self.name(), "no batch API"))
    }

    /// The results of the ended job `id`, by custom id, in any order.
    pub async fn job_results(&self, _id: &str) -> Result<Vec<(String, LineResult)>, BackendError> {
        Err(BackendError::malformed(self.name(), "no batch API"))
    }

    /// Ask the provider to cancel the job `id`; lines already done stay done.
    pub async fn cancel_job(&self, _id: &str) -> Result<JobStatus, BackendError> {
        Err(BackendError::malformed(self.name(), "no batch API"))
    }
}
