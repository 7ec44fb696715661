//! Batch mode (`--batch-api`): the run's chat requests go out as provider batch jobs at half
//! the price instead of one by one. The pipeline does not change: each chat call of a deferred
//! backend hands its body to this backend's [`Collector`] and waits (see
//! `backend::Deferred`). The collector gathers the requests that arrive until the run goes
//! quiet — every document is waiting for a reply — and submits them as jobs (split at the
//! provider's limits), records each job under `OUT/.klartext/jobs/` before waiting, polls, and
//! hands each line's result back to the call that asked for it, where it is validated, cached
//! and written like a synchronous reply. Replies make the next requests (restore after draft,
//! refine after verify), which form the next job.
//!
//! Lines that failed for a reason that may pass (a server error, expiry) are retried: in the
//! next job, or synchronously when no more than [`SYNC_FEW`] are left. A line refused as
//! invalid, or cancelled with its job, fails its request the way a synchronous failure would.
//! A request whose body is already in a recorded, uncollected job (an earlier run was
//! interrupted, or used `--no-wait`) is never submitted again: it waits for that job.

mod book;

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub use book::{JobBook, JobRecord, RecordState, Unreadable, unknown_job};

use super::engine::{Engine, MemberKind};
use crate::backend::batch::{BatchLine, JobPhase, JobStatus, LineFailure, LineReason, LineResult};
use crate::backend::{Answer, Backend, BackendError, Deferred, ErrorKind};

/// At most this many lines left to retry go out synchronously instead of as another job.
pub const SYNC_FEW: usize = 20;
/// Attempts per line, over jobs and the synchronous retry, the first included.
const ATTEMPTS: u32 = 3;
/// How often the collector looks at what arrived.
const TICK: Duration = Duration::from_millis(25);

/// How batch mode runs.
#[derive(Debug, Clone)]
pub struct JobsSetup {
    pub book: JobBook,
    /// `false` (`--no-wait`): submit, collect what has finished, and stop without waiting.
    pub wait: bool,
    /// Quiet time after the last request arrived before the gathered ones are submitted.
    pub settle: Duration,
}

/// What the run's batch jobs did, for the summary and the reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobsReport {
    /// Jobs this run submitted.
    pub submitted: Vec<String>,
    /// Jobs whose results this run collected (its own and earlier runs').
    pub collected: Vec<String>,
    /// Jobs still running at the provider when the run ended (collect them by running the
    /// same command again).
    pub running: Vec<String>,
    /// Lines submitted in jobs, retries included.
    pub lines: u64,
    /// Of those, lines submitted again after they failed or expired.
    pub retried: u64,
    /// Lines sent synchronously after failing in a job.
    pub direct: u64,
    /// Lines taken from jobs an earlier run submitted.
    pub resumed: u64,
}

impl JobsReport {
    fn merge(&mut self, other: &Self) {
        self.submitted.extend(other.submitted.iter().cloned());
        self.collected.extend(other.collected.iter().cloned());
        self.running.extend(other.running.iter().cloned());
        self.lines += other.lines;
        self.retried += other.retried;
        self.direct += other.direct;
        self.resumed += other.resumed;
    }
}

/// What the jobs look like now, for the progress line.
#[derive(Debug, Clone, Default)]
pub struct Board {
    jobs: BTreeMap<String, JobStatus>,
    since: Option<Instant>,
}

impl Board {
    /// `2 batch jobs: in_progress 120/200, 3 failed · waiting 4m 12s`, or `None` before the
    /// first job.
    pub fn line(&self) -> Option<String> {
        let since = self.since?;
        let (mut total, mut done, mut failed) = (0, 0, 0);
        let mut states: BTreeMap<&str, usize> = BTreeMap::new();
        for status in self.jobs.values() {
            total += status.total;
            done += status.succeeded;
            failed += status.failed;
            *states.entry(status.status.as_str()).or_default() += 1;
        }
        let states: Vec<String> = states
            .iter()
            .map(|(state, n)| {
                if *n > 1 {
                    format!("{n} {state}")
                } else {
                    (*state).to_owned()
                }
            })
            .collect();
        let jobs = crate::count::counted(self.jobs.len(), "batch job", "batch jobs");
        let failed = if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        };
        let waited = humantime::format_duration(Duration::from_secs(since.elapsed().as_secs()));
        Some(format!(
            "{jobs}: {} {done}/{total}{failed} · waiting {waited}",
            states.join(", ")
        ))
    }
}

/// The shared view of every collector of a run.
#[derive(Debug, Clone, Default)]
pub struct Jobs {
    board: Arc<Mutex<Board>>,
    report: Arc<Mutex<JobsReport>>,
    warnings: Arc<Mutex<Vec<String>>>,
}

impl Jobs {
    pub fn line(&self) -> Option<String> {
        self.board.lock().ok().and_then(|b| b.line())
    }

    pub fn report(&self) -> JobsReport {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Records that could not be read or written (each once).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    fn warn(&self, warning: String) {
        if let Ok(mut warnings) = self.warnings.lock()
            && !warnings.contains(&warning)
        {
            warnings.push(warning);
        }
    }
}

/// Defer every chat backend of `engine` that has a batch API; one collector each (a backend
/// named in both passes is collected once per pass member). Names backends that have none.
pub fn defer(engine: &mut Engine) -> (Vec<Collector>, Vec<String>) {
    let mut collectors = Vec::new();
    let mut without = Vec::new();
    let passes = engine.draft.iter_mut().chain([&mut engine.main]);
    for (p, pass) in passes.enumerate() {
        for (m, member) in pass.members.iter_mut().enumerate() {
            let MemberKind::Chat(chat) = &mut member.kind else {
                continue;
            };
            if member.backend.batch_api().is_none() {
                without.push(member.backend.name().to_owned());
                continue;
            }
            // Every batch of a document is built at once: waiting for the names earlier
            // batches decided would make each of them a job of its own.
            chat.turns = None;
            let (tx, rx) = mpsc::unbounded_channel();
            member.backend.defer_to(tx);
            collectors.push(Collector { place: (p, m), rx });
        }
    }
    without.sort();
    without.dedup();
    (collectors, without)
}

/// Gathers one backend's deferred requests into jobs.
pub struct Collector {
    /// The pass (0 = the first of draft/main) and member of its backend.
    place: (usize, usize),
    rx: mpsc::UnboundedReceiver<Deferred>,
}

/// A running collector: stop it when the run is over.
pub struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop collecting; requests still waiting are answered as not collected.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl Collector {
    /// Start collecting for the run of `engine`.
    pub fn start(self, engine: Arc<Engine>, setup: JobsSetup, jobs: &Jobs) -> Running {
        let stop = CancellationToken::new();
        let state = State {
            engine,
            place: self.place,
            setup,
            jobs: jobs.clone(),
            pending: Vec::new(),
            live: Vec::new(),
            report: JobsReport::default(),
            unclaimed: HashMap::new(),
            last_arrival: Instant::now(),
            parked: false,
        };
        let task = tokio::spawn(state.run(self.rx, stop.clone()));
        Running { stop, task }
    }
}

/// One request line and the calls waiting for it.
struct Line {
    /// What goes into a job: the custom id and the chat body.
    request: BatchLine,
    origin: Option<String>,
    waiters: Vec<oneshot::Sender<Answer>>,
    attempts: u32,
}

impl Line {
    /// The line of `deferred`, its call the one waiting, on its `attempts`th attempt.
    fn new(deferred: Deferred, attempts: u32) -> Self {
        Self {
            request: BatchLine {
                custom_id: deferred.custom_id,
                body: deferred.body,
            },
            origin: deferred.origin,
            waiters: vec![deferred.answer],
            attempts,
        }
    }

    fn answer(self, answer: impl Fn() -> Answer) {
        for waiter in self.waiters {
            let _ = waiter.send(answer());
        }
    }
}

/// A job at the provider and the lines of this run waiting for it.
struct Live {
    record: JobRecord,
    lines: HashMap<String, Line>,
}

struct State {
    engine: Arc<Engine>,
    place: (usize, usize),
    setup: JobsSetup,
    jobs: Jobs,
    pending: Vec<Line>,
    live: Vec<Live>,
    report: JobsReport,
    /// Results of collected jobs that no call of this run has asked for yet (a document
    /// that starts later may): handed over when it does, never submitted again.
    unclaimed: HashMap<String, LineResult>,
    last_arrival: Instant,
    /// `--no-wait`: the jobs were looked at once since the run went quiet.
    parked: bool,
}

impl State {
    fn backend(&self) -> &Backend {
        backend_of(&self.engine, self.place)
    }

    /// The engine, held apart from `self` so its backend can be used across awaits that
    /// change the state.
    fn engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine)
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Deferred>, stop: CancellationToken) {
        self.load();
        let cancel = self.engine.cancel_token();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let poll = Duration::from_secs_f64(self.backend().poll_secs().max(0.01));
        let mut next_poll = Instant::now();
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    self.finish("not collected: cancelled (Ctrl-C); the batch jobs keep running");
                    break;
                }
                () = stop.cancelled() => {
                    self.finish("not collected: the run ended");
                    break;
                }
                arrived = rx.recv() => match arrived {
                    Some(deferred) => self.arrive(deferred),
                    None => { self.finish("not collected: the run ended"); break; }
                },
                _ = tick.tick() => {
                    let settled = self.last_arrival.elapsed() >= self.setup.settle;
                    let full = self.pending.len() >= self.backend().job_limits().max_requests;
                    if !self.pending.is_empty() && (settled || full) {
                        self.flush().await;
                    }
                    let waiting = self.live.iter().any(|l| !l.lines.is_empty());
                    if self.setup.wait {
                        if waiting && Instant::now() >= next_poll {
                            self.poll().await;
                            next_poll = Instant::now() + poll;
                        }
                    } else if settled && self.pending.is_empty() && waiting && !self.parked {
                        // --no-wait: collect what has finished; park the rest.
                        let collected = self.poll().await;
                        if !collected {
                            self.park();
                        }
                    }
                }
            }
        }
        if let Ok(mut report) = self.jobs.report.lock() {
            report.merge(&self.report);
        }
    }

    /// Uncollected jobs of this backend that earlier runs submitted.
    fn load(&mut self) {
        let (records, unreadable) = self.setup.book.load();
        for bad in unreadable {
            self.jobs.warn(format!(
                "cannot read the job record {}: {} (left alone)",
                bad.path.display(),
                bad.why
            ));
        }
        let name = self.backend().name().to_owned();
        for record in records {
            if record.backend == name && record.state == RecordState::Submitted {
                self.live.push(Live {
                    record,
                    lines: HashMap::new(),
                });
            }
        }
    }

    fn arrive(&mut self, deferred: Deferred) {
        self.last_arrival = Instant::now();
        self.parked = false;
        let id = deferred.custom_id.clone();
        if let Some(result) = self.unclaimed.remove(&id) {
            self.report.resumed += 1;
            match result {
                LineResult::Failed(failure) if retryable(failure.reason) => {
                    self.pending.push(Line::new(deferred, 2));
                }
                result => {
                    let _ = deferred.answer.send(Answer::Line(result));
                }
            }
            return;
        }
        if let Some(live) = self
            .live
            .iter_mut()
            .find(|l| l.record.lines.contains_key(&id))
        {
            match live.lines.entry(id) {
                Entry::Occupied(line) => line.into_mut().waiters.push(deferred.answer),
                Entry::Vacant(slot) => {
                    slot.insert(Line::new(deferred, 1));
                    if live.record.state == RecordState::Submitted {
                        self.report.resumed +=
                            u64::from(!self.report.submitted.contains(&live.record.id));
                    }
                }
            }
            return;
        }
        match self.pending.iter_mut().find(|l| l.request.custom_id == id) {
            Some(line) => line.waiters.push(deferred.answer),
            None => self.pending.push(Line::new(deferred, 1)),
        }
    }

    /// Submit what was gathered, in jobs within the provider's limits; a few retries go out
    /// synchronously instead.
    async fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if pending.iter().all(|l| l.attempts > 1) && pending.len() <= SYNC_FEW {
            self.report.direct += pending.len() as u64;
            for line in pending {
                line.answer(|| Answer::Direct);
            }
            return;
        }
        let limits = self.backend().job_limits();
        let mut chunks: Vec<Vec<Line>> = Vec::new();
        let mut bytes = 0usize;
        for line in pending {
            let size = self
                .backend()
                .line_bytes(&line.request)
                .unwrap_or_else(|_| line.request.body.to_string().len() + 200);
            let open = chunks.last().is_some_and(|c| {
                c.len() < limits.max_requests.max(1) && bytes + size <= limits.max_bytes
            });
            if !open {
                chunks.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            if let Some(chunk) = chunks.last_mut() {
                chunk.push(line);
            }
        }
        for chunk in chunks {
            self.submit(chunk).await;
        }
    }

    async fn submit(&mut self, lines: Vec<Line>) {
        let batch: Vec<BatchLine> = lines.iter().map(|l| l.request.clone()).collect();
        let engine = self.engine();
        let backend = backend_of(&engine, self.place);
        let (name, model) = (backend.name().to_owned(), backend.model().to_owned());
        let Some(api) = backend.batch_api() else {
            return;
        };
        let submitted = backend.submit_job(&batch).await;
        match submitted {
            Ok(submitted) => {
                let recorded = lines
                    .iter()
                    .map(|l| {
                        let origin = l.origin.clone().unwrap_or_default();
                        (l.request.custom_id.clone(), origin)
                    })
                    .collect();
                let record = JobRecord::new(&name, api, &model, submitted, recorded);
                if let Err(e) = self.setup.book.save(&record) {
                    self.jobs.warn(format!(
                        "job {} was submitted but its record could not be written ({e}); \
                         an interrupted run would submit its lines again",
                        record.id
                    ));
                }
                self.report.submitted.push(record.id.clone());
                self.report.lines += lines.len() as u64;
                self.report.retried += lines.iter().filter(|l| l.attempts > 1).count() as u64;
                if let Ok(mut board) = self.jobs.board.lock() {
                    board.since.get_or_insert_with(Instant::now);
                    board.jobs.insert(
                        record.id.clone(),
                        JobStatus {
                            id: record.id.clone(),
                            phase: JobPhase::Running,
                            status: "submitted".to_owned(),
                            total: lines.len() as u64,
                            succeeded: 0,
                            failed: 0,
                            message: None,
                        },
                    );
                }
                let lines = lines
                    .into_iter()
                    .map(|l| (l.request.custom_id.clone(), l))
                    .collect();
                self.live.push(Live { record, lines });
            }
            Err(error) => {
                if error.kind == ErrorKind::Rejected {
                    // Refused as a whole: most often over a limit of the account or server.
                    self.jobs.warn(format!(
                        "{name} refused a batch job of {} requests ({}); if it is too big for \
                         the provider, lower job_requests or job_bytes in [backends.{name}]",
                        lines.len(),
                        error.message
                    ));
                }
                for line in lines {
                    line.answer(|| Answer::Failed(error.clone()));
                }
            }
        }
    }

    /// Look at every job this run waits for; collect those that ended. Whether any was.
    async fn poll(&mut self) -> bool {
        let mut collected = false;
        let engine = self.engine();
        let backend = backend_of(&engine, self.place);
        for i in 0..self.live.len() {
            if self.live[i].lines.is_empty() {
                continue;
            }
            let id = self.live[i].record.id.clone();
            let status = match backend.job_status(&id).await {
                Ok(status) => status,
                Err(error) if error.is_fatal_for_backend() => {
                    let error = self.unknown(i, &error).unwrap_or(error);
                    self.fail_job(i, &error);
                    continue;
                }
                // Unreachable for now: look again at the next poll.
                Err(_) => continue,
            };
            if let Ok(mut board) = self.jobs.board.lock() {
                board.since.get_or_insert_with(Instant::now);
                board.jobs.insert(id.clone(), status.clone());
            }
            self.live[i].record.status = Some(status.status.clone());
            match status.phase {
                JobPhase::Running => {}
                JobPhase::Failed => {
                    let why = status
                        .message
                        .clone()
                        .unwrap_or_else(|| "no reason given".to_owned());
                    let error = BackendError {
                        backend: backend.name().to_owned(),
                        kind: ErrorKind::Fatal,
                        message: format!("batch job {id} was refused: {why}"),
                        hint: Some("run without --batch-api, and report this".to_owned()),
                        status: None,
                    };
                    self.live[i].record.state = RecordState::Failed;
                    self.fail_job(i, &error);
                }
                JobPhase::Ended => match backend.job_results(&id).await {
                    Ok(results) => {
                        self.collect(i, &status, results);
                        collected = true;
                    }
                    Err(error) if error.is_fatal_for_backend() => {
                        let error = self.unknown(i, &error).unwrap_or(error);
                        self.fail_job(i, &error);
                    }
                    Err(_) => {}
                },
            }
        }
        self.live
            .retain(|l| l.record.state == RecordState::Submitted || !l.lines.is_empty());
        collected
    }

    /// Hand an ended job's results to the calls waiting for them; lines that may pass on
    /// another try go back into the queue.
    fn collect(&mut self, i: usize, status: &JobStatus, results: Vec<(String, LineResult)>) {
        let mut results: HashMap<String, LineResult> = results.into_iter().collect();
        let live = &mut self.live[i];
        let missing = match status.status.as_str() {
            "cancelled" | "canceled" => LineReason::Cancelled,
            _ => LineReason::Expired,
        };
        for (id, mut line) in live.lines.drain() {
            let result = results.remove(&id).unwrap_or_else(|| {
                LineResult::Failed(LineFailure {
                    reason: missing,
                    message: format!("no result in job {}", live.record.id),
                })
            });
            match result {
                LineResult::Failed(failure)
                    if retryable(failure.reason) && line.attempts < ATTEMPTS =>
                {
                    line.attempts += 1;
                    self.pending.push(line);
                }
                result => line.answer(|| Answer::Line(result.clone())),
            }
        }
        for (id, result) in results {
            if live.record.lines.contains_key(&id) {
                self.unclaimed.insert(id, result);
            }
        }
        live.record.state = RecordState::Collected;
        if let Err(e) = self.setup.book.save(&live.record) {
            self.jobs.warn(format!(
                "the record of job {} could not be updated ({e})",
                live.record.id
            ));
        }
        self.report.collected.push(live.record.id.clone());
        // Retries are gathered like new requests: they leave once the run is quiet again.
        self.last_arrival = Instant::now();
    }

    /// [`unknown_job`] for live job `i`.
    fn unknown(&self, i: usize, error: &BackendError) -> Option<BackendError> {
        let record = &self.live[i].record;
        unknown_job(error, &record.id, &self.setup.book.path_of(record))
    }

    fn fail_job(&mut self, i: usize, error: &BackendError) {
        let live = &mut self.live[i];
        for (_, line) in live.lines.drain() {
            line.answer(|| Answer::Failed(error.clone()));
        }
        if live.record.state == RecordState::Failed {
            let _ = self.setup.book.save(&live.record);
        }
    }

    /// `--no-wait`: answer the calls waiting for running jobs; the jobs keep running.
    fn park(&mut self) {
        self.parked = true;
        let name = self.backend().name().to_owned();
        for live in &mut self.live {
            if live.lines.is_empty() {
                continue;
            }
            let error = BackendError {
                backend: name.clone(),
                kind: ErrorKind::Cancelled,
                message: format!(
                    "submitted in batch job {}, still {} (--no-wait)",
                    live.record.id,
                    live.record.status.as_deref().unwrap_or("running")
                ),
                hint: None,
                status: None,
            };
            for (_, line) in live.lines.drain() {
                line.answer(|| Answer::Failed(error.clone()));
            }
            if !self.report.running.contains(&live.record.id) {
                self.report.running.push(live.record.id.clone());
            }
        }
    }

    /// The run is over (or Ctrl-C): every call still waiting gets `why`; running jobs are
    /// left to run.
    fn finish(&mut self, why: &str) {
        let error = BackendError {
            backend: self.backend().name().to_owned(),
            kind: ErrorKind::Cancelled,
            message: why.to_owned(),
            hint: None,
            status: None,
        };
        for line in std::mem::take(&mut self.pending) {
            line.answer(|| Answer::Failed(error.clone()));
        }
        for live in &mut self.live {
            let waited = !live.lines.is_empty();
            for (_, line) in live.lines.drain() {
                line.answer(|| Answer::Failed(error.clone()));
            }
            if waited
                && live.record.state == RecordState::Submitted
                && !self.report.running.contains(&live.record.id)
            {
                self.report.running.push(live.record.id.clone());
            }
        }
    }
}

fn backend_of(engine: &Engine, (pass, member): (usize, usize)) -> &Backend {
    let pass = match pass {
        0 => engine.draft.as_ref().unwrap_or(&engine.main),
        _ => &engine.main,
    };
    &pass.members[member].backend
}

fn retryable(reason: LineReason) -> bool {
    matches!(
        reason,
        LineReason::Errored { retryable: true } | LineReason::Expired | LineReason::Malformed
    )
}
