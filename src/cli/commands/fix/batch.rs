//! `fix DIR... [-o OUT]`: many files at once. Inputs are found by walking the folders; files
//! are processed concurrently (as many in flight as keep the backends busy, never the whole
//! corpus in memory), each written atomically as soon as it is done. Progress shows on a
//! terminal; Ctrl-C stops sending and keeps everything finished; a summary and
//! `OUT/klartext-report.json` end the run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::online::{self, Online};
use super::report::{FileReport, FileStatus};
use super::{Destination, WriteOptions, Written};
use crate::backend::{Usage, grouped};
use crate::cli::args::FixArgs;
use crate::cli::printer::{Hinted, Printer};
use crate::cli::{Context, Status};
use crate::config::Lang;
use crate::files::{self, Ledger, Patterns, Skipped};
use crate::pipeline::Engine;
use crate::repair;
use crate::segment::Format;
use crate::verify;

/// One input of a batch.
pub struct Input {
    pub path: PathBuf,
    /// Below the folder it was found in (mirrored under OUT); the file name for a file given
    /// by itself.
    pub relative: PathBuf,
}

/// The inputs, when at least one path is a folder; `None` for a list of files.
pub fn collect(args: &FixArgs, ctx: &Context) -> anyhow::Result<Option<Vec<Input>>> {
    if !args.paths.iter().any(|p| p.is_dir()) {
        return Ok(None);
    }
    if args.in_place {
        anyhow::bail!(Hinted::new(
            "--in-place is for files; a folder's results go to -o OUT or next to each input",
            "use -o OUT to mirror the folder"
        ));
    }
    let patterns = Patterns {
        include: if args.glob.is_empty() {
            files::DEFAULT_GLOBS
                .iter()
                .map(|g| (*g).to_owned())
                .collect()
        } else {
            args.glob.clone()
        },
        exclude: args.exclude.clone(),
    };
    let mut inputs = Vec::new();
    for path in &args.paths {
        if !path.is_dir() {
            let relative = PathBuf::from(path.file_name().unwrap_or(path.as_os_str()));
            inputs.push(Input {
                path: path.clone(),
                relative,
            });
            continue;
        }
        if let Some(out) = &args.output {
            check_out_not_inside(path, out, &patterns)?;
        }
        let (found, skipped) = files::walk(path, &patterns)?;
        for skip in skipped {
            match skip {
                Skipped::Output(p) => ctx
                    .printer
                    .trace(&format!("skipped {} (a klartext output)", p.display())),
                Skipped::Unreadable(why) => ctx.printer.warn(&format!("skipped: {why}")),
            }
        }
        inputs.extend(found.into_iter().map(|f| Input {
            path: f.path,
            relative: f.relative,
        }));
    }
    if let Some(out) = &args.output {
        if out.exists() && !out.is_dir() {
            anyhow::bail!(Hinted::new(
                format!(
                    "-o {} is a file; a folder's results need a folder",
                    out.display()
                ),
                "name a folder (it is created if missing)"
            ));
        }
        std::fs::create_dir_all(out)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    }
    Ok(Some(inputs))
}

/// OUT inside an input folder would be walked as input next time; allowed only when excluded.
fn check_out_not_inside(root: &Path, out: &Path, patterns: &Patterns) -> anyhow::Result<()> {
    let (Ok(root_abs), Ok(out_abs)) = (std::path::absolute(root), std::path::absolute(out)) else {
        return Ok(());
    };
    let root_abs = root_abs.canonicalize().unwrap_or(root_abs);
    let out_abs = out_abs.canonicalize().unwrap_or(out_abs);
    if out_abs.starts_with(&root_abs) && !patterns.excludes(&root_abs, &out_abs) {
        let inside = out_abs.strip_prefix(&root_abs).unwrap_or(&out_abs);
        anyhow::bail!(Hinted::new(
            format!(
                "-o {} is inside the input folder {}",
                out.display(),
                root.display()
            ),
            format!(
                "choose a folder outside it, or exclude it: --exclude '{}/'",
                inside.display()
            )
        ));
    }
    Ok(())
}

/// Run totals for the summary and the report.
#[derive(Debug, Default, Serialize)]
struct Totals {
    ok: usize,
    /// Written, with verify's errors or warnings to check.
    flagged: usize,
    errors: usize,
    warnings: usize,
    failed: usize,
    empty: usize,
    not_started: usize,
    paragraphs: u64,
    requests: u64,
    retries: u64,
    seconds: f64,
}

#[derive(Serialize)]
struct BatchReport<'a> {
    schema: &'static str,
    offline: bool,
    interrupted: bool,
    totals: &'a Totals,
    usage: &'a std::collections::BTreeMap<String, Usage>,
    files: &'a [FileReport],
}

pub fn run(
    inputs: Vec<Input>,
    args: &FixArgs,
    ctx: &Context,
    online: Option<&Online>,
    ledger: Ledger,
) -> anyhow::Result<Status> {
    if let (true, Some(online)) = (args.dry_run, online) {
        return dry_run(&inputs, online, ctx);
    }
    let started = Instant::now();
    let total = inputs.len();
    let runtime;
    let handle = match online {
        Some(online) => online.runtime(),
        None => {
            runtime = tokio::runtime::Builder::new_multi_thread()
                .max_blocking_threads(4)
                .enable_all()
                .build()?;
            &runtime
        }
    };
    let bar = progress_bar(ctx, total);
    bar.set_message(status_line(online, 0));
    let paragraphs = AtomicU64::new(0);
    let ledger = Arc::new(Mutex::new(ledger));
    let in_flight = online.map_or(4, |o| files_in_flight(o, args));
    let lang = online.map(|_| ctx.settings.to.value);

    let reports: Vec<FileReport> = handle.block_on(async {
        // Ctrl-C: stop sending; what is finished still gets written.
        if let Some(online) = online {
            let token = online.engine.cancel_token();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    token.cancel();
                }
            });
        }
        let ticker = async {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                bar.set_message(status_line(online, paragraphs.load(Ordering::Relaxed)));
            }
        };
        let job = Job {
            engine: online.map(|o| Arc::clone(&o.engine)),
            out: args.output.clone(),
            lang,
            options: WriteOptions::from(args),
            printer: ctx.printer.quietly(),
            ledger: Arc::clone(&ledger),
        };
        // Each file is its own task, so files use every core; `in_flight` bounds memory.
        let work = futures_util::stream::iter(inputs)
            .map(|input| {
                let job = job.clone();
                let name = input.path.display().to_string();
                async move {
                    tokio::spawn(job.process(input))
                        .await
                        .unwrap_or_else(|e| FileReport::failed(name, &anyhow::anyhow!("{e}")))
                }
            })
            .buffer_unordered(in_flight)
            .inspect(|report| {
                paragraphs.fetch_add(report.paragraphs as u64, Ordering::Relaxed);
                // Files left unsent after a quota stop or Ctrl-C are listed in the summary.
                if let Some(error) = report.error.as_ref().filter(|_| !is_unsent(report)) {
                    bar.suspend(|| ctx.printer.error(&anyhow::anyhow!("{error}")));
                }
                bar.inc(1);
            })
            .collect::<Vec<_>>();
        tokio::select! {
            reports = work => reports,
            () = ticker => unreachable!("the ticker never ends"),
        }
    });
    bar.finish_and_clear();

    let interrupted = online.is_some_and(|o| o.engine.is_cancelled());
    let usage = online.map(Online::usage).unwrap_or_default();
    let mut reports = reports;
    reports.sort_by(|a, b| a.input.cmp(&b.input));
    let totals = totals(&reports, &usage, started.elapsed());
    if let Some(out) = &args.output {
        let report = BatchReport {
            schema: "klartext.batch/1",
            offline: online.is_none(),
            interrupted,
            totals: &totals,
            usage: &usage,
            files: &reports,
        };
        files::write_atomic_with(&out.join(files::REPORT_NAME), |w| {
            serde_json::to_writer_pretty(w, &report).map_err(std::io::Error::other)
        })?;
    }
    summarize(&reports, &totals, &usage, online, ctx, args, interrupted);
    Ok(if interrupted {
        Status::Interrupted
    } else if totals.failed + totals.not_started > 0 {
        Status::Failure
    } else if reports.iter().any(|r| r.reaches(args.fail_on)) {
        Status::Differences
    } else {
        Status::Success
    })
}

/// `--dry-run` over a folder: the plans of every file, added up per pass.
fn dry_run(inputs: &[Input], online: &Online, ctx: &Context) -> anyhow::Result<Status> {
    let mut sums: Vec<crate::pipeline::PassPlan> = Vec::new();
    for input in inputs {
        let decoded = match files::read_document(&input.path) {
            Ok(decoded) => decoded,
            Err(err) => {
                ctx.printer.error(&err.into());
                continue;
            }
        };
        let doc = repair::repair_document(&decoded.text, Format::from_path(&input.path));
        for plan in online.plan(&doc) {
            match sums.iter_mut().find(|s| s.pass == plan.pass) {
                Some(sum) => {
                    sum.segments += plan.segments;
                    sum.cached += plan.cached;
                    sum.requests += plan.requests;
                    sum.estimated_input += plan.estimated_input;
                    sum.source_input += plan.source_input;
                }
                None => sums.push(plan),
            }
        }
    }
    online::print_plan(
        &format!("{} files", grouped(inputs.len() as u64)),
        &sums,
        ctx,
    );
    ctx.printer.note("dry run: nothing was sent");
    Ok(Status::Success)
}

/// Enough files in flight to keep every backend's slots busy, bounded so memory stays flat.
fn files_in_flight(online: &Online, args: &FixArgs) -> usize {
    let engine = &online.engine;
    let slots: usize = engine
        .draft
        .iter()
        .chain([&engine.main])
        .map(|pass| pass.first().backend.concurrency())
        .max()
        .unwrap_or(1);
    let slots = args.jobs.map_or(slots, |j| slots.min(usize::from(j)));
    (slots * 2).clamp(2, 64)
}

/// What every file of a batch needs, owned, so each file can be its own task.
#[derive(Clone)]
struct Job {
    engine: Option<Arc<Engine>>,
    out: Option<PathBuf>,
    lang: Option<Lang>,
    options: WriteOptions,
    printer: Printer,
    ledger: Arc<Mutex<Ledger>>,
}

impl Job {
    async fn process(self, input: Input) -> FileReport {
        let name = input.path.display().to_string();
        // File work runs on the blocking pool, so the requests of other files keep flowing.
        let path = input.path.clone();
        let read = tokio::task::spawn_blocking(move || {
            let decoded = files::read_document(&path)?;
            let doc = repair::repair_document(&decoded.text, Format::from_path(&path));
            Ok::<_, files::FileError>((decoded, doc))
        })
        .await;
        let (decoded, doc) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(err)) => return FileReport::failed(name, &err.into()),
            Err(join) => return FileReport::failed(name, &anyhow::anyhow!("{join}")),
        };
        let mut report = FileReport::new(name.clone(), &decoded);
        if decoded.text.trim().is_empty() {
            report.status = FileStatus::Empty;
            return report;
        }
        report.record(&doc);
        report.repaired = Vec::new(); // the batch report keeps counts, not every repair
        let mut record = None;
        let text = match &self.engine {
            None => {
                let findings = doc.segmented.segments().flat_map(|s| {
                    verify::verify_source(&format!("s{}", s.index), s.text(&decoded.text))
                });
                report.count(&findings.collect::<Vec<_>>());
                doc.text.clone()
            }
            Some(engine) => {
                let translated = engine.translate(&doc, &decoded.text).await;
                report.count(translated.segments.iter().flat_map(|s| &s.findings));
                match translated.document(&doc, &decoded.text) {
                    Some(text) => {
                        record = Some(super::online::record(
                            &name,
                            &doc,
                            &decoded.text,
                            &translated,
                            &decoded,
                            self.lang.unwrap_or(Lang::En),
                        ));
                        text
                    }
                    None => {
                        let failed: Vec<String> = translated
                            .failed()
                            .map(|s| {
                                format!("{}: {}", s.id, s.error.as_deref().unwrap_or("no result"))
                            })
                            .collect();
                        let first = failed.first().cloned().unwrap_or_default();
                        let err = anyhow::anyhow!(
                            "{name}: {} of {} paragraphs failed ({first}{})",
                            failed.len(),
                            translated.segments.len(),
                            if failed.len() > 1 { "; …" } else { "" }
                        );
                        let mut failed_report = FileReport::failed(name, &err);
                        failed_report.paragraphs = report.paragraphs;
                        return failed_report;
                    }
                }
            }
        };
        let destination = match (&self.out, self.lang) {
            (Some(out), lang) => Destination::File(out.join(files::output_path(
                &input.relative,
                lang.unwrap_or(Lang::De),
            ))),
            (None, Some(lang)) => Destination::File(files::output_path(&input.path, lang)),
            (None, None) => Destination::Nowhere,
        };
        let written = tokio::task::spawn_blocking(move || {
            if let Destination::File(target) = &destination
                && let Some(parent) = target.parent()
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
            }
            let mut ledger = self
                .ledger
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let written = Written {
                path: &input.path,
                text: &text,
                decoded: &decoded,
                record,
            };
            written.write(
                destination,
                &self.options,
                &self.printer,
                &mut ledger,
                &mut report,
            )?;
            Ok::<_, anyhow::Error>(report)
        })
        .await;
        match written {
            Ok(Ok(report)) => report,
            Ok(Err(err)) => FileReport::failed(name, &err),
            Err(join) => FileReport::failed(name, &anyhow::anyhow!("{join}")),
        }
    }
}

fn progress_bar(ctx: &Context, total: usize) -> ProgressBar {
    if ctx.printer.is_quiet() || !ctx.terminal.stderr_is_tty {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:20}] {pos}/{len} files · {wide_msg} ETA {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// `1,234 ¶ · 87 req · 3 retries · 45,678 tok` from the engine's tallies.
fn status_line(online: Option<&Online>, paragraphs: u64) -> String {
    let usage = online.map(Online::usage).unwrap_or_default();
    let sum = usage.values().fold(Usage::default(), |mut all, u| {
        all += *u;
        all
    });
    let mut line = format!("{} ¶", grouped(paragraphs));
    if online.is_some() {
        line += &format!(
            " · {} req · {} retries · {} tok",
            grouped(sum.requests),
            grouped(sum.retries),
            grouped(sum.input_tokens + sum.output_tokens)
        );
        if sum.billed_characters > 0 {
            line += &format!(" · {} chars", grouped(sum.billed_characters));
        }
    }
    line
}

fn totals(
    reports: &[FileReport],
    usage: &std::collections::BTreeMap<String, Usage>,
    elapsed: Duration,
) -> Totals {
    let mut totals = Totals {
        seconds: elapsed.as_secs_f64(),
        ..Totals::default()
    };
    for report in reports {
        totals.paragraphs += report.paragraphs as u64;
        totals.errors += report.errors;
        totals.warnings += report.warnings;
        match report.status {
            FileStatus::Ok if report.errors + report.warnings > 0 => totals.flagged += 1,
            FileStatus::Ok => totals.ok += 1,
            FileStatus::Empty => totals.empty += 1,
            FileStatus::Failed if is_unsent(report) => totals.not_started += 1,
            FileStatus::Failed => totals.failed += 1,
        }
    }
    for u in usage.values() {
        totals.requests += u.requests;
        totals.retries += u.retries;
    }
    totals
}

/// A file that failed only because nothing was sent (Ctrl-C or a stopped backend).
fn is_unsent(report: &FileReport) -> bool {
    report
        .error
        .as_deref()
        .is_some_and(|e| e.contains("not sent:"))
}

#[allow(clippy::too_many_arguments)]
fn summarize(
    reports: &[FileReport],
    totals: &Totals,
    usage: &std::collections::BTreeMap<String, Usage>,
    online: Option<&Online>,
    ctx: &Context,
    args: &FixArgs,
    interrupted: bool,
) {
    let p = &ctx.printer;
    let failed = totals.failed + totals.not_started;
    if totals.errors + totals.warnings > 0 {
        p.note(&format!(
            "verify: {} errors and {} warnings to check (per file in the report)",
            totals.errors, totals.warnings
        ));
    }
    p.note(&format!(
        "{} files: {} ok, {} flagged, {} failed{}{} in {:.1} s",
        grouped(reports.len() as u64),
        totals.ok,
        totals.flagged,
        failed,
        if totals.empty > 0 {
            format!(", {} empty", totals.empty)
        } else {
            String::new()
        },
        if online.is_some() {
            format!(
                " · {} requests, {} retries",
                grouped(totals.requests),
                grouped(totals.retries)
            )
        } else {
            String::new()
        },
        totals.seconds
    ));
    if let Some(line) = online::usage_line(usage) {
        p.note(&line);
    }
    if let Some(online) = online {
        for warning in online.engine.warnings() {
            p.warn(&warning);
        }
        for stopped in online.engine.stopped() {
            p.error(&anyhow::Error::new(stopped));
        }
    }
    if failed > 0 {
        let left: Vec<&str> = reports
            .iter()
            .filter(|r| r.status == FileStatus::Failed)
            .map(|r| r.input.as_str())
            .collect();
        let shown = left.len().min(20);
        p.note(&format!(
            "not finished: {}{}",
            left[..shown].join(", "),
            if left.len() > shown {
                format!(" and {} more", left.len() - shown)
            } else {
                String::new()
            }
        ));
    }
    if interrupted {
        p.note("interrupted: every finished file was written");
    }
    if failed > 0 || interrupted {
        p.hint("run the same command again to finish the rest; finished paragraphs are cached");
    }
    if let Some(out) = &args.output {
        p.note(&format!(
            "report: {}",
            out.join(files::REPORT_NAME).display()
        ));
    }
}
