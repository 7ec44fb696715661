//! `fix --batch-api`: where the job records go, which backends are deferred, the collectors'
//! life around the run, and what the summary says about the jobs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::cli::args::FixArgs;
use crate::cli::printer::{Hinted, Printer};
use crate::count::counted;
use crate::pipeline::Engine;
use crate::pipeline::jobs::{self, Collector, JobBook, Jobs, JobsReport, JobsSetup, Running};

/// Batch mode for one run, before the engine is shared.
pub struct Batch {
    setup: JobsSetup,
    collectors: Vec<Collector>,
    pub jobs: Jobs,
}

/// Batch mode while the run goes.
pub struct Started {
    running: Vec<Running>,
    pub jobs: Jobs,
    pub book: JobBook,
}

/// The folder whose `.klartext/jobs/` keeps this run's job records: the output folder, the
/// folder of the one output file, or (with `--in-place`) of the first input.
pub fn records_folder(args: &FixArgs) -> anyhow::Result<PathBuf> {
    // As `fix` decides it: a folder input, several inputs or `OUT/` make `-o` a folder.
    let into_folder = |out: &Path| {
        super::inputs::is_folder_output(out)
            || args.paths.len() > 1
            || args.paths.iter().any(|p| p.is_dir())
    };
    let folder = match (&args.output, args.in_place) {
        (Some(out), _) if into_folder(out) => out.clone(),
        (Some(out), _) => parent(out),
        (None, true) => args.paths.first().map_or_else(
            || PathBuf::from("."),
            |p| {
                if p.is_dir() { p.clone() } else { parent(p) }
            },
        ),
        (None, false) => anyhow::bail!(Hinted::new(
            "--batch-api needs an output: its job records are kept beside it",
            "add -o OUT/ (or --in-place); the same command again collects the jobs"
        )),
    };
    Ok(folder)
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Batch {
    /// Defer the engine's chat backends that have a batch API; a run where none has one is
    /// refused, and each one without is named (its requests go out one by one).
    pub fn prepare(args: &FixArgs, engine: &mut Engine, printer: &Printer) -> anyhow::Result<Self> {
        let book = JobBook::for_output(&records_folder(args)?);
        let (collectors, without) = jobs::defer(engine);
        if collectors.is_empty() {
            anyhow::bail!(Hinted::new(
                format!(
                    "--batch-api: no backend of the run has a batch API ({} has none)",
                    without.join(", ")
                ),
                "batch jobs are offered by backends of kind openai and anthropic; run without \
                 --batch-api, or name such a backend in [passes]"
            ));
        }
        for name in without {
            printer.note(&format!(
                "{name} has no batch API: its requests go out one by one"
            ));
        }
        let poll = engine_poll(engine);
        Ok(Self {
            setup: JobsSetup {
                book,
                wait: !args.no_wait,
                // Long enough that a wave of requests is one job, short next to any poll.
                settle: poll.clamp(Duration::from_millis(200), Duration::from_secs(2)),
            },
            collectors,
            jobs: Jobs::default(),
        })
    }

    /// Start collecting (inside the run's runtime).
    pub fn start(self, engine: &Arc<Engine>) -> Started {
        let running = self
            .collectors
            .into_iter()
            .map(|c| c.start(Arc::clone(engine), self.setup.clone(), &self.jobs))
            .collect();
        Started {
            running,
            jobs: self.jobs,
            book: self.setup.book,
        }
    }
}

fn engine_poll(engine: &Engine) -> Duration {
    let secs = engine
        .draft
        .iter()
        .chain([&engine.main])
        .flat_map(|p| &p.members)
        .filter(|m| m.backend.is_deferred())
        .map(|m| m.backend.poll_secs())
        .fold(f64::INFINITY, f64::min);
    Duration::from_secs_f64(if secs.is_finite() {
        secs.max(0.0)
    } else {
        30.0
    })
}

impl Started {
    /// Stop collecting once the run is over; what the jobs did.
    pub async fn stop(self) -> (JobsReport, JobBook) {
        for running in self.running {
            running.stop().await;
        }
        (self.jobs.report(), self.book)
    }
}

/// The summary's lines about the jobs; whether some are still running.
pub fn summarize(report: &JobsReport, book: &JobBook, jobs: &Jobs, p: &Printer) -> bool {
    for warning in jobs.warnings() {
        p.warn(&warning);
    }
    // `N jobs submitted (…), M collected; K from earlier runs' jobs; L sent one by one …`
    let mut jobs = Vec::new();
    if !report.submitted.is_empty() {
        let again = if report.retried > 0 {
            format!(", {} again after failing", report.retried)
        } else {
            String::new()
        };
        jobs.push(format!(
            "{} submitted ({}{again})",
            counted(report.submitted.len(), "job", "jobs"),
            counted(report.lines as usize, "request", "requests"),
        ));
    }
    if !report.collected.is_empty() {
        jobs.push(format!("{} collected", report.collected.len()));
    }
    let mut parts = Vec::new();
    if !jobs.is_empty() {
        parts.push(jobs.join(", "));
    }
    if report.resumed > 0 {
        parts.push(format!(
            "{} from earlier runs' jobs",
            counted(report.resumed as usize, "request", "requests")
        ));
    }
    if report.direct > 0 {
        parts.push(format!(
            "{} sent one by one after failing in a job",
            counted(report.direct as usize, "request", "requests")
        ));
    }
    if !parts.is_empty() {
        p.note(&format!("batch: {}", parts.join("; ")));
    }
    let running = !report.running.is_empty();
    if running {
        let folder = book
            .dir()
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| ".".to_owned(), |f| f.display().to_string());
        p.note(&format!(
            "{} still running at the provider: {}",
            counted(report.running.len(), "batch job", "batch jobs"),
            report.running.join(", ")
        ));
        p.hint(&format!(
            "run the same command again to collect them (nothing is submitted twice); \
             `klartext jobs {folder}` shows where they are"
        ));
    }
    running
}
