//! A stateful fake of both provider batch APIs on one wiremock server, for the batch-mode
//! tests: OpenAI Batch (`POST /v1/files` multipart upload, `POST /v1/batches`,
//! `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`, `GET /v1/files/{id}/content`,
//! `DELETE /v1/files/{id}`) and
//! Anthropic Message Batches (`POST /v1/messages/batches`, `GET …/{id}`, `POST …/{id}/cancel`,
//! `GET …/{id}/results`), with the real request and response shapes
//! (`shared/reference/api-wire-formats.md` §2, §3).
//!
//! Each line is answered by a closure from the chat body to the provider's response body
//! (a chat completion, a message). A job is in progress for [`Knobs::polls`] polls of its
//! status and ended after that; its lines finish in proportion to the polls so far, so a job
//! cancelled halfway keeps half its lines. Knobs, read when a job is created: fail every nth
//! line (500 `server_error` / `api_error`) on the first submission of its body, expire jobs
//! keeping their first lines, leave unfinished lines out of the results, and a maximum of
//! requests per job (more is refused with a 400, as the providers do). It records every
//! request (method, path), every line submitted (by custom id), the jobs, the uploaded files
//! and the create bodies, so tests can assert that nothing was submitted twice.
//!
//! OpenAI's routes are under `{uri}/v1` (klartext's base_url for kind `openai`), Anthropic's
//! under `{uri}` (its base_url for kind `anthropic`). OpenAI calls need `Authorization:
//! Bearer …`, Anthropic calls `x-api-key` and `anthropic-version`; without them: 401.

// Shared by several test modules; not each uses every knob.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// From a chat request body to the provider's response body.
pub type Answer = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

/// What jobs created from now on do.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Status polls a job stays in progress; the next one sees it ended (0: ended at once).
    pub polls: usize,
    /// Every nth line of a job, in custom id order (the nth, 2nth, …), fails with a server
    /// error — only the first time its body is submitted, so a retry succeeds.
    pub fail_every: Option<usize>,
    /// Jobs expire keeping this many of their lines (in custom id order) done.
    pub expire_keeping: Option<usize>,
    /// Lines a cancelled or expired job did not finish are left out of the results instead of
    /// coming back as `batch_expired`/`batch_cancelled` (`expired`/`canceled`).
    pub omit_unfinished: bool,
    /// Requests one job may hold; a bigger one is refused with a 400.
    pub max_requests: usize,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            polls: 1,
            fail_every: None,
            expire_keeping: None,
            omit_unfinished: false,
            max_requests: 50_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Openai,
    Anthropic,
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub method: String,
    pub path: String,
}

/// How one line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Succeeds,
    Fails,
}

struct Job {
    provider: Provider,
    /// `(custom_id, body, fate)` in custom id order.
    lines: Vec<(String, Value, Fate)>,
    knobs: Knobs,
    polls: usize,
    /// Lines done when a cancel arrived.
    cancelled_with: Option<usize>,
    /// Results, once the job has ended.
    results: Option<Vec<(String, Outcome)>>,
}

#[derive(Debug, Clone)]
enum Outcome {
    Ok(Value),
    Failed,
    Expired,
    Cancelled,
}

impl Job {
    /// Lines finished after the polls so far (all once the job is done).
    fn done(&self) -> usize {
        let n = self.lines.len();
        if self.knobs.polls == 0 {
            return n;
        }
        n * self.polls.min(self.knobs.polls) / self.knobs.polls
    }

    fn ended(&self) -> bool {
        self.results.is_some()
    }

    /// Counts so far: `(finished well, failed, expired, cancelled, still processing)`.
    fn counts(&self) -> [usize; 5] {
        let mut counts = [0; 5];
        match &self.results {
            Some(results) => {
                for (_, outcome) in results {
                    let slot = match outcome {
                        Outcome::Ok(_) => 0,
                        Outcome::Failed => 1,
                        Outcome::Expired => 2,
                        Outcome::Cancelled => 3,
                    };
                    counts[slot] += 1;
                }
            }
            None => {
                let done = self.cancelled_with.unwrap_or_else(|| self.done());
                let failed = self.lines[..done]
                    .iter()
                    .filter(|(_, _, fate)| *fate == Fate::Fails)
                    .count();
                counts[0] = done - failed;
                counts[1] = failed;
                counts[4] = self.lines.len() - done;
            }
        }
        counts
    }
}

#[derive(Default)]
struct State {
    knobs: Knobs,
    requests: Vec<Received>,
    /// Every custom id submitted, in order, across jobs.
    submitted: Vec<String>,
    /// How often each body was submitted (a failed line fails only on its first).
    bodies: HashMap<String, usize>,
    /// Files by id: the uploads and the output and error files.
    files: BTreeMap<String, Vec<u8>>,
    uploads: Vec<Vec<u8>>,
    forms: Vec<Vec<(String, String)>>,
    creates: Vec<Value>,
    jobs: BTreeMap<String, Job>,
    /// Job ids in creation order.
    order: Vec<String>,
    next: usize,
}

pub struct FakeBatches {
    server: MockServer,
    state: Arc<Mutex<State>>,
}

impl FakeBatches {
    /// A fake whose OpenAI lines are answered by `openai` (chat completions body → chat
    /// completion) and Anthropic lines by `anthropic` (Messages body → message).
    pub async fn start(
        openai: impl Fn(&Value) -> Value + Send + Sync + 'static,
        anthropic: impl Fn(&Value) -> Value + Send + Sync + 'static,
    ) -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State::default()));
        let handler = Handler {
            state: state.clone(),
            uri: server.uri(),
            openai: Arc::new(openai),
            anthropic: Arc::new(anthropic),
        };
        Mock::given(wiremock::matchers::any())
            .respond_with(handler)
            .mount(&server)
            .await;
        Self { server, state }
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// klartext's `base_url` for a backend of kind `openai`.
    pub fn openai_base(&self) -> String {
        format!("{}/v1", self.server.uri())
    }

    /// klartext's `base_url` for a backend of kind `anthropic`.
    pub fn anthropic_base(&self) -> String {
        self.server.uri()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the knobs for jobs created from now on.
    pub fn knobs(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.state().knobs);
    }

    /// Cancel the job `id` as a user would on the provider's console: it ends at its next
    /// poll, the lines done by now kept, the rest cancelled. False for an unknown job.
    pub fn cancel(&self, id: &str) -> bool {
        let mut state = self.state();
        match state.jobs.get_mut(id) {
            Some(job) => {
                cancel(job);
                true
            }
            None => false,
        }
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.state().requests.clone()
    }

    /// How many requests had this method and path.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.state()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Jobs created (refused ones not counted).
    pub fn jobs(&self) -> usize {
        self.state().order.len()
    }

    /// The ids of the jobs created, in order.
    pub fn job_ids(&self) -> Vec<String> {
        self.state().order.clone()
    }

    /// Lines per job, in creation order.
    pub fn job_sizes(&self) -> Vec<usize> {
        let state = self.state();
        state
            .order
            .iter()
            .map(|id| state.jobs[id].lines.len())
            .collect()
    }

    /// Every custom id submitted in a created job, in order (repeats included).
    pub fn submitted(&self) -> Vec<String> {
        self.state().submitted.clone()
    }

    /// Custom ids submitted more than once, each once.
    pub fn duplicate_ids(&self) -> Vec<String> {
        let mut seen = HashMap::new();
        for id in &self.state().submitted {
            *seen.entry(id.clone()).or_insert(0) += 1;
        }
        let mut twice: Vec<String> = seen
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(id, _)| id)
            .collect();
        twice.sort();
        twice
    }

    /// Line bodies submitted more than once (a retry of a failed line is one).
    pub fn duplicate_bodies(&self) -> usize {
        self.state().bodies.values().map(|n| n - 1).sum()
    }

    /// Forgets job `id`, as a provider does after deleting it or past its retention.
    pub fn forget(&self, id: &str) -> bool {
        self.state().jobs.remove(id).is_some()
    }

    /// The ids of the files the fake holds now (uploads not deleted, outputs and errors).
    pub fn file_ids(&self) -> Vec<String> {
        self.state().files.keys().cloned().collect()
    }

    /// The JSONL files uploaded to OpenAI, in order.
    pub fn uploads(&self) -> Vec<Vec<u8>> {
        self.state().uploads.clone()
    }

    /// The text fields of each upload's form (`purpose`, and `file` with the file's content).
    pub fn upload_forms(&self) -> Vec<Vec<(String, String)>> {
        self.state().forms.clone()
    }

    /// The JSON bodies of `POST /v1/batches` and `POST /v1/messages/batches`, in order.
    pub fn create_bodies(&self) -> Vec<Value> {
        self.state().creates.clone()
    }
}

/// A synchronous chat call answered like a batch line would be.
fn sync_reply(answer: &Answer, request: &Request) -> ResponseTemplate {
    match serde_json::from_slice::<Value>(&request.body) {
        Ok(body) => ResponseTemplate::new(200).set_body_json(answer(&body)),
        Err(_) => ResponseTemplate::new(400).set_body_string("not JSON"),
    }
}

fn cancel(job: &mut Job) {
    if job.ended() || job.cancelled_with.is_some() {
        return;
    }
    job.cancelled_with = Some(job.done());
}

struct Handler {
    state: Arc<Mutex<State>>,
    uri: String,
    openai: Answer,
    anthropic: Answer,
}

impl Respond for Handler {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let method = request.method.to_string();
        let path = request.url.path().to_owned();
        state.requests.push(Received {
            method: method.clone(),
            path: path.clone(),
        });
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let anthropic = path.starts_with("/v1/messages");
        let authorized = if anthropic {
            request.headers.get("x-api-key").is_some()
                && request.headers.get("anthropic-version").is_some()
        } else {
            request
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("Bearer "))
        };
        if !authorized {
            return if anthropic {
                anthropic_error(401, "authentication_error", "invalid x-api-key")
            } else {
                openai_error(
                    401,
                    "invalid_request_error",
                    "invalid_api_key",
                    "Incorrect API key provided.",
                )
            };
        }
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["v1", "files"]) => upload(&mut state, request),
            ("POST", ["v1", "batches"]) => self.create_openai(&mut state, request),
            ("GET", ["v1", "batches", id]) => self.poll(&mut state, id),
            ("POST", ["v1", "batches", id, "cancel"]) => self.cancel(&mut state, id),
            ("DELETE", ["v1", "files", id]) => match state.files.remove(*id) {
                Some(_) => ResponseTemplate::new(200)
                    .set_body_json(json!({"id": id, "object": "file", "deleted": true})),
                None => not_found(false, "file"),
            },
            ("GET", ["v1", "files", id, "content"]) => match state.files.get(*id) {
                Some(bytes) => ResponseTemplate::new(200)
                    .insert_header("content-type", "application/octet-stream")
                    .set_body_bytes(bytes.clone()),
                None => not_found(false, "file"),
            },
            // The synchronous APIs, for lines retried one by one.
            ("POST", ["v1", "chat", "completions"]) => sync_reply(&self.openai, request),
            ("POST", ["v1", "messages"]) => sync_reply(&self.anthropic, request),
            ("POST", ["v1", "messages", "batches"]) => self.create_anthropic(&mut state, request),
            ("GET", ["v1", "messages", "batches", id]) => self.poll(&mut state, id),
            ("POST", ["v1", "messages", "batches", id, "cancel"]) => self.cancel(&mut state, id),
            ("GET", ["v1", "messages", "batches", id, "results"]) => {
                match state.jobs.get(*id).and_then(|j| j.results.as_ref()) {
                    Some(results) => {
                        let body: String = results
                            .iter()
                            .map(|(custom_id, outcome)| anthropic_line(custom_id, outcome))
                            .map(|line| format!("{line}\n"))
                            .collect();
                        ResponseTemplate::new(200)
                            .insert_header("content-type", "application/binary")
                            .set_body_string(body)
                    }
                    None => not_found(true, "results"),
                }
            }
            _ => not_found(anthropic, "route"),
        }
    }
}

impl Handler {
    fn create_openai(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return openai_invalid("We could not parse the JSON body of your request.");
        };
        state.creates.push(body.clone());
        if body["endpoint"] != "/v1/chat/completions" || body["completion_window"] != "24h" {
            return openai_invalid("Invalid endpoint or completion_window.");
        }
        let Some(file) = body["input_file_id"]
            .as_str()
            .and_then(|id| state.files.get(id))
            .cloned()
        else {
            return openai_invalid("No such File object.");
        };
        let mut lines = Vec::new();
        for (n, line) in file.split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Ok(line) = serde_json::from_slice::<Value>(line) else {
                return openai_invalid(&format!("Line {} is not valid JSON.", n + 1));
            };
            let (Some(id), "POST", "/v1/chat/completions", true) = (
                line["custom_id"].as_str(),
                line["method"].as_str().unwrap_or_default(),
                line["url"].as_str().unwrap_or_default(),
                line["body"].is_object(),
            ) else {
                return openai_invalid(&format!("Line {} is not a batch request.", n + 1));
            };
            lines.push((id.to_owned(), line["body"].clone()));
        }
        match new_job(state, Provider::Openai, lines) {
            Ok(id) => self.batch_object(state, &id),
            Err(message) => openai_invalid(&message),
        }
    }

    fn create_anthropic(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return anthropic_invalid("The request body is not valid JSON.");
        };
        state.creates.push(body.clone());
        let Some(requests) = body["requests"].as_array() else {
            return anthropic_invalid("requests: Field required");
        };
        let mut lines = Vec::new();
        for (n, entry) in requests.iter().enumerate() {
            let (Some(id), true) = (entry["custom_id"].as_str(), entry["params"].is_object())
            else {
                return anthropic_invalid(&format!(
                    "requests.{n}: custom_id and params are required"
                ));
            };
            lines.push((id.to_owned(), entry["params"].clone()));
        }
        match new_job(state, Provider::Anthropic, lines) {
            Ok(id) => self.batch_object(state, &id),
            Err(message) => anthropic_invalid(&message),
        }
    }

    /// A status poll: one more poll for the job, ended when it has had enough.
    fn poll(&self, state: &mut State, id: &str) -> ResponseTemplate {
        let Some(job) = state.jobs.get_mut(id) else {
            return not_found(id.starts_with("msgbatch"), "batch");
        };
        if !job.ended() {
            job.polls += 1;
            if job.cancelled_with.is_some() || job.polls > job.knobs.polls {
                let answer = match job.provider {
                    Provider::Openai => &self.openai,
                    Provider::Anthropic => &self.anthropic,
                };
                finish(job, answer);
                if job.provider == Provider::Openai {
                    write_files(state, id);
                }
            }
        }
        self.batch_object(state, id)
    }

    fn cancel(&self, state: &mut State, id: &str) -> ResponseTemplate {
        let Some(job) = state.jobs.get_mut(id) else {
            return not_found(id.starts_with("msgbatch"), "batch");
        };
        cancel(job);
        self.batch_object(state, id)
    }

    /// The job as the provider describes it.
    fn batch_object(&self, state: &State, id: &str) -> ResponseTemplate {
        let job = &state.jobs[id];
        let [ok, failed, expired, cancelled, processing] = job.counts();
        let body = match job.provider {
            Provider::Openai => {
                let status = match (&job.results, job.cancelled_with, job.knobs.expire_keeping) {
                    (Some(_), Some(_), _) => "cancelled",
                    (Some(_), None, Some(_)) => "expired",
                    (Some(_), None, None) => "completed",
                    (None, Some(_), _) => "cancelling",
                    (None, None, _) if job.polls == 0 => "validating",
                    (None, None, _) => "in_progress",
                };
                let file = |kind: &str| {
                    let name = format!("file-{kind}-{id}");
                    if state.files.contains_key(&name) {
                        json!(name)
                    } else {
                        Value::Null
                    }
                };
                json!({
                    "id": id, "object": "batch", "endpoint": "/v1/chat/completions",
                    "errors": null, "input_file_id": format!("file-in-{id}"),
                    "completion_window": "24h", "status": status,
                    "output_file_id": file("out"), "error_file_id": file("err"),
                    "created_at": 1_711_471_533, "in_progress_at": 1_711_471_538,
                    "expires_at": 1_711_557_933, "finalizing_at": null, "completed_at": null,
                    "failed_at": null, "expired_at": null, "cancelling_at": null, "cancelled_at": null,
                    "request_counts": {"total": job.lines.len(), "completed": ok,
                                       "failed": failed + expired + cancelled},
                    "metadata": null
                })
            }
            Provider::Anthropic => {
                let status = match (&job.results, job.cancelled_with) {
                    (Some(_), _) => "ended",
                    (None, Some(_)) => "canceling",
                    (None, None) => "in_progress",
                };
                json!({
                    "id": id, "type": "message_batch", "processing_status": status,
                    "request_counts": {"processing": processing, "succeeded": ok,
                                       "errored": failed, "canceled": cancelled, "expired": expired},
                    "ended_at": if job.ended() { json!("2024-08-20T18:37:24.100435Z") } else { Value::Null },
                    "created_at": "2024-08-20T18:37:24.100435Z",
                    "expires_at": "2024-08-21T18:37:24.100435Z",
                    "archived_at": null, "cancel_initiated_at": null,
                    "results_url": if job.ended() {
                        json!(format!("{}/v1/messages/batches/{id}/results", self.uri))
                    } else {
                        Value::Null
                    }
                })
            }
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// A new job from `lines`, or why the provider refuses it.
fn new_job(
    state: &mut State,
    provider: Provider,
    mut lines: Vec<(String, Value)>,
) -> Result<String, String> {
    let knobs = state.knobs.clone();
    if lines.is_empty() {
        return Err("The batch has no requests.".to_owned());
    }
    if lines.len() > knobs.max_requests {
        return Err(format!(
            "The batch has {} requests, more than the limit of {}.",
            lines.len(),
            knobs.max_requests
        ));
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    if lines.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("custom_id values must be unique within a batch.".to_owned());
    }
    let mut job_lines = Vec::new();
    for (n, (id, body)) in lines.into_iter().enumerate() {
        let key = body.to_string();
        let seen = state.bodies.entry(key).or_insert(0);
        *seen += 1;
        let fails = knobs.fail_every.is_some_and(|k| k > 0 && (n + 1) % k == 0) && *seen == 1;
        state.submitted.push(id.clone());
        job_lines.push((id, body, if fails { Fate::Fails } else { Fate::Succeeds }));
    }
    state.next += 1;
    let id = match provider {
        Provider::Openai => format!("batch_{:06}", state.next),
        Provider::Anthropic => format!("msgbatch_{:06}", state.next),
    };
    state.jobs.insert(
        id.clone(),
        Job {
            provider,
            lines: job_lines,
            knobs,
            polls: 0,
            cancelled_with: None,
            results: None,
        },
    );
    state.order.push(id.clone());
    Ok(id)
}

/// End `job`: the lines it got to are answered (or fail), the rest expire or are cancelled.
fn finish(job: &mut Job, answer: &Answer) {
    let reached = match (job.cancelled_with, job.knobs.expire_keeping) {
        (Some(done), _) => done,
        (None, Some(keep)) => keep.min(job.lines.len()),
        (None, None) => job.lines.len(),
    };
    let unfinished = if job.cancelled_with.is_some() {
        Outcome::Cancelled
    } else {
        Outcome::Expired
    };
    let results = job
        .lines
        .iter()
        .enumerate()
        .filter_map(|(n, (id, body, fate))| {
            let outcome = match (n < reached, fate) {
                (true, Fate::Succeeds) => Outcome::Ok(answer(body)),
                (true, Fate::Fails) => Outcome::Failed,
                (false, _) if job.knobs.omit_unfinished => return None,
                (false, _) => unfinished.clone(),
            };
            Some((id.clone(), outcome))
        })
        .collect();
    job.results = Some(results);
}

/// The OpenAI job `id`'s output and error files (each only if it has a line).
fn write_files(state: &mut State, id: &str) {
    let Some(results) = state.jobs.get(id).and_then(|j| j.results.clone()) else {
        return;
    };
    let (mut output, mut errors) = (String::new(), String::new());
    for (n, (custom_id, outcome)) in results.iter().enumerate() {
        let request_id = format!("batch_req_{id}_{n}");
        let (line, file) = match outcome {
            Outcome::Ok(body) => (
                json!({"id": request_id, "custom_id": custom_id,
                       "response": {"status_code": 200, "request_id": format!("req_{n}"), "body": body},
                       "error": null}),
                &mut output,
            ),
            Outcome::Failed => (
                json!({"id": request_id, "custom_id": custom_id,
                       "response": {"status_code": 500, "request_id": format!("req_{n}"), "body": {"error": {
                           "message": "The server had an error while processing your request. Sorry about that!",
                           "type": "server_error", "param": null, "code": null}}},
                       "error": null}),
                &mut errors,
            ),
            Outcome::Expired => (
                json!({"id": request_id, "custom_id": custom_id, "response": null,
                       "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}),
                &mut errors,
            ),
            Outcome::Cancelled => (
                json!({"id": request_id, "custom_id": custom_id, "response": null,
                       "error": {"code": "batch_cancelled", "message": "This request was cancelled before it was executed."}}),
                &mut errors,
            ),
        };
        file.push_str(&format!("{line}\n"));
    }
    for (kind, text) in [("out", output), ("err", errors)] {
        if !text.is_empty() {
            state
                .files
                .insert(format!("file-{kind}-{id}"), text.into_bytes());
        }
    }
}

fn anthropic_line(custom_id: &str, outcome: &Outcome) -> Value {
    let result = match outcome {
        Outcome::Ok(message) => json!({"type": "succeeded", "message": message}),
        Outcome::Failed => json!({"type": "errored", "error": {
            "type": "error", "error": {"type": "api_error", "message": "Internal server error"}, "request_id": null}}),
        Outcome::Expired => json!({"type": "expired"}),
        Outcome::Cancelled => json!({"type": "canceled"}),
    };
    json!({"custom_id": custom_id, "result": result})
}

/// `POST /v1/files`: a multipart form with `purpose=batch` and a `file`.
fn upload(state: &mut State, request: &Request) -> ResponseTemplate {
    let parts = form_parts(request);
    let text: Vec<(String, String)> = parts
        .iter()
        .map(|(name, _, content)| (name.clone(), String::from_utf8_lossy(content).into_owned()))
        .collect();
    state.forms.push(text);
    let purpose = parts.iter().find(|(name, _, _)| name == "purpose");
    let file = parts.iter().find(|(name, _, _)| name == "file");
    let (Some((_, _, purpose)), Some((_, filename, content))) = (purpose, file) else {
        return openai_invalid("file and purpose are required.");
    };
    if purpose != b"batch" {
        return openai_invalid("This fake takes only purpose batch.");
    }
    state.uploads.push(content.clone());
    state.next += 1;
    let id = format!("file-in-{:06}", state.next);
    state.files.insert(id.clone(), content.clone());
    ResponseTemplate::new(200).set_body_json(json!({
        "id": id, "object": "file", "bytes": content.len(), "created_at": 1_677_610_602,
        "expires_at": 1_680_202_602, "filename": filename, "purpose": "batch",
        "status": "processed", "status_details": null
    }))
}

/// The parts of a multipart form: `(name, filename or "", content)`.
fn form_parts(request: &Request) -> Vec<(String, String, Vec<u8>)> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
    else {
        return Vec::new();
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
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
            let part = part.strip_prefix(b"\r\n")?.strip_suffix(b"\r\n")?;
            let split = part.windows(4).position(|w| w == b"\r\n\r\n")?;
            let head = String::from_utf8_lossy(&part[..split]).into_owned();
            let field = |key: &str| {
                let start = head.find(key)? + key.len();
                let len = head[start..].find('"')?;
                Some(head[start..start + len].to_owned())
            };
            Some((
                field(" name=\"")?,
                field("filename=\"").unwrap_or_default(),
                part[split + 4..].to_vec(),
            ))
        })
        .collect()
}

fn openai_error(status: u16, kind: &str, code: &str, message: &str) -> ResponseTemplate {
    let code = if code.is_empty() {
        Value::Null
    } else {
        json!(code)
    };
    ResponseTemplate::new(status).set_body_json(json!({
        "error": {"message": message, "type": kind, "param": null, "code": code}
    }))
}

/// A 400 `invalid_request_error` without a code, as OpenAI answers a request it refuses.
fn openai_invalid(message: &str) -> ResponseTemplate {
    openai_error(400, "invalid_request_error", "", message)
}

fn anthropic_error(status: u16, kind: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "type": "error", "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
    }))
}

/// A 400 `invalid_request_error`, as Anthropic answers a request it refuses.
fn anthropic_invalid(message: &str) -> ResponseTemplate {
    anthropic_error(400, "invalid_request_error", message)
}

fn not_found(anthropic: bool, what: &str) -> ResponseTemplate {
    if anthropic {
        anthropic_error(404, "not_found_error", &format!("No such {what}."))
    } else {
        openai_error(
            404,
            "invalid_request_error",
            "",
            &format!("No such {what}."),
        )
    }
}
