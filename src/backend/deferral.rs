//! Batch mode's seam in the backend: a chat call whose backend is deferred does not go out
//! over HTTP; its body is handed, with a stable custom id, to whoever collects the run's
//! requests into provider batch jobs (`pipeline::jobs`), and the call waits for that line's
//! result. The collector may also hand a request back to be sent synchronously (a few retries
//! are cheaper than another job), or answer with the error that ends it.

use tokio::sync::{mpsc, oneshot};

use super::batch::{LineFailure, LineReason, LineResult};
use super::{Backend, BackendError, ChatReply, ChatRequest, ErrorKind};

/// One request waiting for its line in a job.
#[derive(Debug)]
pub struct Deferred {
    /// Stable: the same body always gets the same id, so a re-run finds it in a job it
    /// submitted before.
    pub custom_id: String,
    pub body: serde_json::Value,
    /// Its request's estimated input tokens (for budgets and progress).
    pub estimated_tokens: u32,
    /// Which document asked (for the job record), when known.
    pub origin: Option<String>,
    pub answer: oneshot::Sender<Answer>,
}

/// How a deferred request ends.
#[derive(Debug)]
pub enum Answer {
    /// Its line came back (a reply, or a failure after every retry the collector allows).
    Line(LineResult),
    /// Send it synchronously after all.
    Direct,
    /// It was not or cannot be done: the error says why (Ctrl-C, `--no-wait`, a refused job).
    Failed(BackendError),
}

tokio::task_local! {
    /// The document a task's requests are for, named in job records.
    pub static ORIGIN: String;
}

/// The custom id of a line with this body: `kt-` and 32 hex digits of its BLAKE3 hash
/// (within every provider's `^[a-zA-Z0-9_-]{1,64}$`).
pub fn custom_id(body: &serde_json::Value) -> String {
    let hash = blake3::hash(body.to_string().as_bytes());
    format!("kt-{}", &hash.to_hex()[..32])
}

/// `doc#s0,s1`: the document and the segment ids the request's user message carries (the
/// segment protocol's `segments[].id`), or the document alone.
fn origin(doc: &str, user: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(user).ok();
    let ids: Vec<&str> = message
        .as_ref()
        .and_then(|v| v.get("segments")?.as_array())
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("id")?.as_str())
        .collect();
    if ids.is_empty() {
        doc.to_owned()
    } else {
        format!("{doc}#{}", ids.join(","))
    }
}

impl Backend {
    /// Hand this backend's chat requests to `collector` instead of sending them.
    pub fn defer_to(&mut self, collector: mpsc::UnboundedSender<Deferred>) {
        self.deferral = Some(collector);
    }

    pub fn is_deferred(&self) -> bool {
        self.deferral.is_some()
    }

    /// A deferred chat call: `None` when the collector sends it back to go out directly.
    pub(super) async fn deferred_chat(
        &self,
        collector: &mpsc::UnboundedSender<Deferred>,
        request: &ChatRequest,
    ) -> Option<Result<ChatReply, BackendError>> {
        let body = match self.chat_body(request) {
            Ok(body) => body,
            Err(e) => return Some(Err(e)),
        };
        let (answer, answered) = oneshot::channel();
        let deferred = Deferred {
            custom_id: custom_id(&body),
            body,
            estimated_tokens: request.estimated_tokens,
            origin: ORIGIN.try_with(|doc| origin(doc, &request.user)).ok(),
            answer,
        };
        if collector.send(deferred).is_err() {
            return Some(Err(self.not_collected()));
        }
        match answered.await {
            Ok(Answer::Line(LineResult::Reply(reply))) => Some(Ok(reply)),
            Ok(Answer::Line(LineResult::Failed(failure))) => Some(Err(self.line_error(&failure))),
            Ok(Answer::Direct) => None,
            Ok(Answer::Failed(error)) => Some(Err(error)),
            Err(_) => Some(Err(self.not_collected())),
        }
    }

    fn not_collected(&self) -> BackendError {
        BackendError {
            backend: self.name().to_owned(),
            kind: ErrorKind::Cancelled,
            message: "not collected: the batch job collector stopped".to_owned(),
            hint: None,
            status: None,
        }
    }

    /// The error a failed line ends its request with, classified like a synchronous failure.
    fn line_error(&self, failure: &LineFailure) -> BackendError {
        let (kind, what) = match failure.reason {
            LineReason::Errored { retryable: false } => {
                (ErrorKind::Rejected, "refused in the batch job")
            }
            LineReason::Errored { retryable: true } => (
                ErrorKind::Unavailable,
                "failed in the batch job after every retry",
            ),
            LineReason::Expired => (
                ErrorKind::Unavailable,
                "expired in the batch job after every retry",
            ),
            LineReason::Cancelled => (
                ErrorKind::Cancelled,
                "not done: the batch job was cancelled",
            ),
            LineReason::Malformed => (
                ErrorKind::Malformed,
                "came back unreadable from the batch job",
            ),
        };
        BackendError {
            backend: self.name().to_owned(),
            kind,
            message: format!("{what}: {}", failure.message),
            hint: None,
            status: None,
        }
    }
}
