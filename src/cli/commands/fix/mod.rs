//! `klartext fix PATH...`: the inputs (files, or folders walked), the API passes when a
//! backend is configured, then one pipeline run over every input (`pipeline::run`). This
//! command decides only what the user sees and where results go: each finished document is
//! written (`deliver`), shown (`show`: a diff per file, or a progress bar for folders), and
//! reported (`report`, `summary`). One file and a folder of one file are processed alike.

mod batch;
mod deliver;
mod inputs;
mod passes;
mod report;
mod run_report;
mod show;
mod summary;
mod tmx;

use std::io::Write;
use std::sync::Arc;

use futures_util::StreamExt as _;
use futures_util::stream;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::cli::args::FixArgs;
use crate::cli::printer::Hinted;
use crate::cli::{Context, Status};
use crate::config::Settings;
use crate::files::{Claim, Ledger, Outputs, RunLock};
use crate::pipeline::{
    DocumentError, Event, Finished, Input, Outcome, PassPlan, Processing, Run, Work,
};
use deliver::{Destination, Destinations};
use inputs::{Inputs, Mode};
use report::FileReport;
use run_report::RunReports;
use show::Display;

pub fn run(args: &FixArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    check_arguments(args)?;
    let offline = Offline::of(args, &ctx.settings);
    if args.batch_api && offline.is_some() {
        anyhow::bail!(Hinted::new(
            "--batch-api: this run sends nothing (no backend in [passes], or --offline)",
            "configure a backend of kind openai or anthropic and name it in [passes]"
        ));
    }
    let mut batch = None;
    let engine = if offline.is_none() {
        let mut engine = passes::engine(args, ctx)?;
        if args.batch_api && !args.dry_run {
            batch = Some(batch::Batch::prepare(args, &mut engine, &ctx.printer)?);
        }
        Some(Arc::new(engine))
    } else {
        None
    };
    let (mode, inputs) = inputs::collect(args)?;
    let destinations =
        Destinations::new(args, mode, engine.as_ref().map(|_| ctx.settings.to.value));
    // Before the ledger is read: a run that finished meanwhile has recorded all it wrote.
    let _lock = RunLock::take(
        &ctx.settings.cache_dir.value,
        &claims(args, mode, &destinations, &inputs),
        &command_line(args),
    )?;
    if engine.is_none() || args.dry_run {
        refuse_xliff_without_translation(args)?;
    }
    // Once the run is sure to go ahead.
    if let Some(engine) = &engine {
        passes::announce(engine, ctx);
    }
    let cancel = engine
        .as_ref()
        .map_or_else(CancellationToken::new, |e| e.cancel_token());
    let listed = match &inputs {
        Inputs::Listed(listed) => Some(listed.as_slice()),
        Inputs::Walked(_) => None,
    };
    let count = listed.map_or(0, <[Input]>::len);
    let run_reports = RunReports::new(mode, args, listed, ctx.settings.to.value)?
        .with_models(tmx::models(engine.as_deref()));
    let run = Run {
        processing: Processing {
            engine: engine.clone(),
            dry_run: args.dry_run,
            to: ctx.settings.to.value,
        },
        // Batch mode: every document's requests should make the same job.
        in_flight: if batch.is_some() {
            BATCH_IN_FLIGHT
        } else {
            Run::in_flight_for(engine.as_deref(), args.jobs.map(usize::from))
        },
        ordered: mode == Mode::Files,
        cancel: cancel.clone(),
    };
    let mut session = Session {
        destinations,
        display: Display::new(args, ctx, mode, count, engine.as_deref()),
        outputs: Outputs::new(Ledger::open(&ctx.settings.cache_dir.value), args.force),
        reports: Vec::with_capacity(count),
        run_reports,
        walked: None,
        unplaced: Vec::new(),
        plans: Vec::new(),
        mode,
        offline,
        args,
        ctx,
        cancel,
        closed_output: None,
        out,
    };
    // Refused now rather than after the run: the reports are written last.
    let reports = run_report::record_path(mode, args).into_iter();
    let named = args.display.report.as_ref().map(|r| r.path.clone());
    for report in reports.chain(named) {
        session.outputs.check(&report)?;
    }
    if let Some(batch) = &batch {
        session.display.watch_jobs(batch.jobs.clone());
    }
    let runtime = crate::cli::runtime()?;
    let inputs = match inputs {
        Inputs::Listed(listed) => stream::iter(listed).boxed(),
        Inputs::Walked(walk) => {
            let walking = walk.start(session.display.walk_listener())?;
            session.walked = Some(walking.names);
            walking.inputs
        }
    };
    let (ended, batch) = runtime.block_on(async {
        let started = match (batch, &engine) {
            (Some(batch), Some(engine)) => Some(batch.start(engine)),
            _ => None,
        };
        let ended = run.run(inputs, |event| session.on(event)).await;
        let batch = match started {
            Some(started) => {
                let jobs = started.jobs.clone();
                let (report, book) = started.stop().await;
                Some((report, book, jobs))
            }
            None => None,
        };
        (ended, batch)
    });
    session.walk_ended();
    session.display.finish();
    if mode == Mode::Tree {
        // Files finish in any order; the report lists them by name.
        session.reports.sort_by(|a, b| a.input.cmp(&b.input));
    }
    if let Some(err) = session.closed_output.take() {
        return Err(err);
    }
    summary::finish(session, engine.as_deref(), ended, batch)
}

/// Documents in flight in batch mode: enough that a corpus's requests make few jobs, few
/// enough that memory stays bounded (the rest follow as documents finish).
const BATCH_IN_FLIGHT: usize = 4096;

fn check_arguments(args: &FixArgs) -> anyhow::Result<()> {
    let stdin_count = args.paths.iter().filter(|p| inputs::is_stdin(p)).count();
    if stdin_count > 1 {
        anyhow::bail!("`-` (stdin) can be given only once");
    }
    if stdin_count > 0 && args.in_place {
        anyhow::bail!(Hinted::new(
            "--in-place cannot replace stdin",
            "write the result with -o FILE, or read it from stdout"
        ));
    }
    let one_output = args
        .output
        .as_deref()
        .is_some_and(|o| !inputs::is_folder_output(o));
    if one_output && args.paths.len() > 1 && !args.paths.iter().any(|p| p.is_dir()) {
        anyhow::bail!(Hinted::new(
            format!(
                "-o names one output, but {} inputs were given",
                args.paths.len()
            ),
            "to write each into a folder, name one: -o OUT/ (created if missing)"
        ));
    }
    Ok(())
}

/// Why a run of `fix` sends nothing, so that its closing hint says what is the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Offline {
    /// `--offline`, with passes configured.
    Requested,
    /// Backends are defined, but `[passes]` names none of them.
    NoPass,
    /// No backend anywhere: no config file defines one, no provider key is set.
    NoBackend,
}

impl Offline {
    fn of(args: &FixArgs, settings: &Settings) -> Option<Self> {
        if settings.has_passes() {
            args.offline.then_some(Self::Requested)
        } else if settings.backends.is_empty() {
            Some(Self::NoBackend)
        } else {
            Some(Self::NoPass)
        }
    }
}

/// One run of `fix` as the user sees it: every finished document is written, shown and
/// reported here, as the pipeline hands it over.
struct Session<'a> {
    args: &'a FixArgs,
    ctx: &'a Context,
    mode: Mode,
    /// `None` when the API passes run.
    offline: Option<Offline>,
    destinations: Destinations,
    display: Display,
    /// Every file the run writes goes through here.
    outputs: Outputs,
    reports: Vec<FileReport>,
    /// `OUT/klartext-report.json` and `--report` over several files, spooled as files finish.
    run_reports: RunReports,
    /// Every input's name once the folders' walk has ended (the reports need them first).
    walked: Option<oneshot::Receiver<Vec<String>>>,
    /// Files that finished before the walk ended, with what the reports need of them: their
    /// place in `reports`, and the outcome.
    unplaced: Vec<(usize, Option<Outcome>)>,
    /// `--dry-run`: the plans of every file, added up per pass (shown for a folder, and in
    /// `--json`).
    plans: Vec<PassPlan>,
    cancel: CancellationToken,
    /// The reader closed our output (a pager quit, `| head`): stop, and exit quietly.
    closed_output: Option<anyhow::Error>,
    /// The command's output (stdout): results sent there, diffs, `--json`.
    out: &'a mut dyn Write,
}

impl Session<'_> {
    fn on(&mut self, event: Event) {
        if let Some(names) = self.walked.as_mut().and_then(|w| w.try_recv().ok()) {
            self.placed(names);
        }
        match event {
            Event::Progress(progress) => self.display.progress(&progress),
            Event::Finished(finished) => {
                let Finished { input, result } = *finished;
                let (report, outcome) = match result {
                    Ok(outcome) => (self.finished(&input, &outcome), Some(outcome)),
                    Err(err) => (self.unfinished(input.name(), err), None),
                };
                if self.run_reports.placed() {
                    self.run_reports.add(&report, outcome.as_ref());
                } else {
                    self.unplaced.push((self.reports.len(), outcome));
                }
                self.display.finished_one();
                self.reports.push(report);
            }
        }
    }

    /// The run is over, and so is the walk: the files that finished before it ended go into
    /// the reports. (Should the walk have told no names, every input has a report by now.)
    fn walk_ended(&mut self) {
        let names = self.walked.take().and_then(|mut w| w.try_recv().ok());
        if !self.run_reports.placed() {
            let names =
                names.unwrap_or_else(|| self.reports.iter().map(|r| r.input.clone()).collect());
            self.placed(names);
        }
    }

    /// Every input's name is known: the reports can place each file.
    fn placed(&mut self, names: Vec<String>) {
        self.walked = None;
        self.run_reports.place(names);
        for (at, outcome) in std::mem::take(&mut self.unplaced) {
            self.run_reports.add(&self.reports[at], outcome.as_ref());
        }
    }

    /// A document that could not be read, or was not started.
    fn unfinished(&self, name: String, err: DocumentError) -> FileReport {
        if let DocumentError::NotStarted(..) = err {
            return FileReport::not_started(name, &err);
        }
        let err = anyhow::Error::new(err);
        self.display.error(&err);
        FileReport::failed(name, &err)
    }

    fn finished(&mut self, input: &Input, outcome: &Outcome) -> FileReport {
        let name = input.name();
        let to = self.ctx.settings.to.value;
        let mut report = FileReport::new(name.clone(), outcome, self.display.detail(), to);
        if let Err(err) = self.display.header(input, self.out) {
            self.fail(&mut report, err);
            return report;
        }
        match &outcome.work {
            Work::Empty => {
                self.display.note(&format!("{name}: empty, nothing to do"));
                return report;
            }
            Work::Planned { plans, .. } => {
                if self.mode == Mode::Files {
                    show::print_plan(&name, plans, &self.ctx.printer);
                }
                // The folder's plan is printed at the end; both go into the reports.
                add_plans(&mut self.plans, plans);
                return report;
            }
            Work::Repaired { .. } | Work::Translated { .. } => {}
        }
        if let Some(translated) = outcome.translated() {
            self.display.details(&name, translated);
        }
        let failed = outcome.failed();
        if outcome.never_sent() {
            // Listed once in the summary.
            report.not_finished(&failed);
            return report;
        }
        if !failed.is_empty() {
            let err = self.display.failures(&name, &failed);
            report.fail(&err);
            return report;
        }
        let written = self.destinations.of(input).and_then(|destination| {
            deliver::deliver(
                input,
                outcome,
                destination,
                self.args,
                &self.display.printer(),
                &mut self.outputs,
                self.out,
            )
        });
        match written {
            Ok(delivered) => {
                report.delivered(&delivered);
                let shown = self.display.show(
                    self.ctx,
                    input,
                    outcome,
                    &delivered,
                    &mut self.outputs,
                    self.out,
                );
                if let Err(err) = shown {
                    self.fail(&mut report, err);
                }
            }
            Err(err) => self.fail(&mut report, err),
        }
        report
    }

    /// A document that could not be written or shown: say so, and stop the run if the reader
    /// has gone.
    fn fail(&mut self, report: &mut FileReport, err: anyhow::Error) {
        if crate::cli::is_broken_pipe(&err) {
            self.cancel.cancel();
            self.closed_output.get_or_insert(err);
            return;
        }
        self.display.error(&err);
        report.fail(&err);
    }
}

/// An XLIFF report pairs the German with its translation: an offline run or a dry run has none.
fn refuse_xliff_without_translation(args: &FixArgs) -> anyhow::Result<()> {
    match &args.display.report {
        Some(report) if report.format == crate::cli::args::ReportFormat::Xliff => {
            anyhow::bail!(crate::cli::printer::Hinted::new(
                format!(
                    "{}: an XLIFF report holds translations, and this run translates nothing",
                    report.path.display()
                ),
                "XLIFF needs a backend (and no --dry-run); otherwise name the report \
                 FILE.html, FILE.md or FILE.json",
            ))
        }
        _ => Ok(()),
    }
}

/// What this run will write, for its [`RunLock`]: a folder run's whole output folder, else
/// each output file (and each `--report`); a folder run without `-o` writes beside its
/// inputs, so it holds each folder it walks.
fn claims(args: &FixArgs, mode: Mode, destinations: &Destinations, inputs: &Inputs) -> Vec<Claim> {
    let mut claims: Vec<Claim> = args
        .display
        .report
        .iter()
        .map(|r| Claim::File(r.path.clone()))
        .collect();
    if let (Mode::Tree, Some(out)) = (mode, &args.output) {
        claims.push(Claim::Folder(out.clone()));
        return claims;
    }
    let files: Vec<&Input> = match inputs {
        Inputs::Listed(listed) => listed.iter().collect(),
        Inputs::Walked(walk) => {
            // Whether a file found in a folder would be written beside it.
            let beside = |folder: &std::path::Path| {
                let inside = Input::file(folder.join("a.txt"), "a.txt".into());
                matches!(destinations.of(&inside), Ok(Destination::File(_)))
            };
            let folders = walk.folders().filter(|f| beside(f));
            claims.extend(folders.map(|f| Claim::Folder(f.to_owned())));
            walk.files().collect()
        }
    };
    // Stdout and nothing need no hold; an error is reported when its document's turn comes.
    for input in files {
        if let Ok(Destination::File(path) | Destination::Below(path) | Destination::InPlace(path)) =
            destinations.of(input)
        {
            claims.push(Claim::File(path));
        }
    }
    claims
}

/// The run as another run names it: `klartext fix in -o out`.
fn command_line(args: &FixArgs) -> String {
    let mut line = String::from("klartext fix");
    for path in &args.paths {
        line.push(' ');
        line.push_str(&path.to_string_lossy());
    }
    if let Some(out) = &args.output {
        line.push_str(&format!(" -o {}", out.to_string_lossy()));
    }
    if args.in_place {
        line.push_str(" --in-place");
    }
    line
}

fn add_plans(sums: &mut Vec<PassPlan>, plans: &[PassPlan]) {
    for plan in plans {
        match sums.iter_mut().find(|s| s.pass == plan.pass) {
            Some(sum) => sum.add(plan),
            None => sums.push(plan.clone()),
        }
    }
}
