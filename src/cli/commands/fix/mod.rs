//! `klartext fix PATH...`: read → segment → repair → show and write. Each input is handled on
//! its own: a failing file is reported and counted, the others still complete.

mod batch;
mod online;
mod report;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::args::FixArgs;
use crate::cli::printer::{Hinted, Printer};
use crate::cli::{Context, Status};
use crate::config::Lang;
use crate::diff::DiffOptions;
use crate::files::{self, Decoded, FileError, Ledger};
use crate::render::{self, report as diff_report};
use crate::repair::{self, RepairedDocument};
use crate::review::{self, Record};
use crate::segment::Format;
use crate::verify;
use online::Online;
use report::{FileReport, FileStatus, RunReport};

const STDIN: &str = "-";

pub fn run(args: &FixArgs, ctx: &Context) -> anyhow::Result<Status> {
    check_arguments(args)?;
    let online = if ctx.settings.has_passes() && !args.offline {
        Some(Online::new(args, ctx)?)
    } else {
        None
    };
    if let Some(online) = &online {
        online::announce(&online.engine, ctx);
    }
    let mut ledger = Ledger::open(&ctx.settings.cache_dir.value);
    if let Some(inputs) = batch::collect(args, ctx)? {
        return batch::run(inputs, args, ctx, online.as_ref(), ledger);
    }
    let mut reports = Vec::with_capacity(args.paths.len());
    for (i, path) in args.paths.iter().enumerate() {
        if args.paths.len() > 1 && !args.json && !ctx.printer.is_quiet() {
            print_file_header(path, i > 0)?;
        }
        match fix_file(path, args, ctx, &mut ledger, online.as_ref()) {
            Ok(report) => reports.push(report),
            Err(err) if super::super::is_broken_pipe(&err) => return Err(err),
            Err(err) => {
                ctx.printer.error(&err);
                reports.push(FileReport::failed(display_name(path), &err));
            }
        }
    }
    let failed = reports
        .iter()
        .filter(|r| r.status == FileStatus::Failed)
        .count();
    let usage = online.as_ref().map(Online::usage).unwrap_or_default();
    if args.json {
        super::print_json(&RunReport {
            schema: report::SCHEMA,
            offline: online.is_none(),
            dry_run: args.dry_run,
            files: &reports,
            usage: usage.clone(),
        })?;
    }
    match &online {
        Some(online) => {
            for warning in online.engine.warnings() {
                ctx.printer.warn(&warning);
            }
            // A backend that stopped is an error when work was left undone, otherwise a
            // warning: its paragraphs went to the next backend of the pass.
            for stopped in online.engine.stopped() {
                if failed > 0 {
                    ctx.printer.error(&anyhow::Error::new(stopped));
                } else {
                    ctx.printer.warn(&format!(
                        "{stopped}; its paragraphs went to the next backend of the pass"
                    ));
                }
            }
            if let Some(line) = online::usage_line(&usage) {
                ctx.printer.note(&line);
            }
            if args.dry_run {
                ctx.printer.note("dry run: nothing was sent");
            }
        }
        None if reports.iter().any(|r| r.status == FileStatus::Ok) => {
            ctx.printer.hint(
                "offline run: only the German was repaired. For English, set OPENAI_API_KEY or \
                 ANTHROPIC_API_KEY (DEEPL_API_KEY adds a draft), or configure a backend \
                 (README, \"Configuration\")",
            );
        }
        None => {}
    }
    if failed > 0 {
        ctx.printer
            .note(&format!("{failed} of {} inputs failed", args.paths.len()));
        return Ok(Status::Failure);
    }
    Ok(findings_status(&reports, args, ctx))
}

/// Exit 1 when verify's findings reach `--fail-on` (the outputs are written all the same).
fn findings_status(reports: &[FileReport], args: &FixArgs, ctx: &Context) -> Status {
    let (errors, warnings) = reports
        .iter()
        .fold((0, 0), |(e, w), r| (e + r.errors, w + r.warnings));
    if errors + warnings > 0 {
        ctx.printer.note(&format!(
            "verify: {errors} {} and {warnings} {} to check{}",
            if errors == 1 { "error" } else { "errors" },
            if warnings == 1 { "warning" } else { "warnings" },
            if ctx.printer.is_quiet() {
                ""
            } else {
                " (marked ✗ and ⚠ in the diff)"
            }
        ));
    }
    if reports.iter().any(|r| r.reaches(args.fail_on)) {
        Status::Differences
    } else {
        Status::Success
    }
}

fn check_arguments(args: &FixArgs) -> anyhow::Result<()> {
    let stdin_count = args.paths.iter().filter(|p| is_stdin(p)).count();
    if stdin_count > 1 {
        anyhow::bail!("`-` (stdin) can be given only once");
    }
    if stdin_count > 0 && args.in_place {
        anyhow::bail!(Hinted::new(
            "--in-place cannot replace stdin",
            "write the result with -o FILE, or read it from stdout"
        ));
    }
    if args.output.is_some() && args.paths.len() > 1 && !args.paths.iter().any(|p| p.is_dir()) {
        anyhow::bail!(Hinted::new(
            format!(
                "-o names one output, but {} inputs were given",
                args.paths.len()
            ),
            "fix one file at a time with -o, or use --in-place"
        ));
    }
    Ok(())
}

/// Where a file's result goes.
enum Destination {
    /// Offline without -o or --in-place: only show the diff.
    Nowhere,
    Stdout,
    File(PathBuf),
    InPlace(PathBuf),
}

fn fix_file(
    path: &Path,
    args: &FixArgs,
    ctx: &Context,
    ledger: &mut Ledger,
    online: Option<&Online>,
) -> anyhow::Result<FileReport> {
    let name = display_name(path);
    let decoded = read_input(path)?;
    let mut report = FileReport::new(name.clone(), &decoded);
    if decoded.text.trim().is_empty() {
        ctx.printer.note(&format!("{name}: empty, nothing to do"));
        report.status = FileStatus::Empty;
        return Ok(report);
    }
    let format = Format::from_path(path);
    ctx.printer.detail(&format!(
        "{name}: {}, {}, {format:?}",
        decoded.encoding, decoded.line_ending
    ));
    let doc = repair::repair_document(&decoded.text, format);
    report.record(&doc);
    let destination = destination(path, args, online.map(|_| ctx.settings.to.value))?;
    // Stdout carries the text itself when it is the destination; the diff would corrupt it.
    let show = !args.json && !ctx.printer.is_quiet() && !matches!(destination, Destination::Stdout);

    let mut record = None;
    let result = match online {
        None => {
            // The "repairable offline" notes are left out: fix has just made those repairs.
            let findings: Vec<verify::Finding> = doc
                .segmented
                .segments()
                .flat_map(|s| {
                    verify::verify_source(&format!("s{}", s.index), s.text(&decoded.text))
                })
                .filter(|f| f.severity > verify::Severity::Info)
                .collect();
            report.count(&findings);
            if show {
                show_repairs(&doc, &decoded.text, &findings, args, ctx)?;
            }
            if let Some(path) = &args.display.report {
                let diff = repair_diff(&doc, &decoded.text);
                let notes = super::check::notes(&findings, doc.segments.len());
                let input = diff_report::ReportInput {
                    notes: &notes,
                    langs: diff_report::Langs {
                        old: Some("de"),
                        new: Some("de"),
                        source: None,
                    },
                    ..diff_report::ReportInput::new(&diff, ("source", "repaired"), super::GENERATOR)
                };
                super::write_report(path, &input)?;
                ctx.printer.note(&format!("wrote {}", path.display()));
            }
            report.findings = findings;
            doc.text.clone()
        }
        Some(online) if args.dry_run => {
            let plan = online.plan(&doc);
            online::print_plan(&name, &plan, ctx);
            report.plan = Some(plan);
            return Ok(report);
        }
        Some(online) => {
            let translated = online.translate(&doc, &decoded.text);
            online::details(&name, &translated, ctx);
            let failed = online::report_failures(&name, &translated, ctx);
            let text = translated.document(&doc, &decoded.text);
            report.count(translated.segments.iter().flat_map(|s| &s.findings));
            report.segments = Some(translated.segments.clone());
            if failed == 0 {
                record = Some(online::record(
                    &name,
                    &doc,
                    &decoded.text,
                    &translated,
                    &decoded,
                    ctx.settings.to.value,
                ));
                let view = online::view(&translated, ctx);
                if show {
                    online::show(&view, args, ctx)?;
                }
                if let Some(path) = &args.display.report {
                    let source = view.source.as_ref().map(|s| ("German", s.as_slice()));
                    let input = diff_report::ReportInput {
                        source,
                        notes: &view.notes,
                        langs: diff_report::Langs {
                            old: Some("en"),
                            new: Some(if ctx.settings.to.value == Lang::En {
                                "en"
                            } else {
                                "de"
                            }),
                            source: Some("de"),
                        },
                        ..diff_report::ReportInput::new(
                            &view.diff,
                            (&view.titles.0, &view.titles.1),
                            super::GENERATOR,
                        )
                    };
                    super::write_report(path, &input)?;
                    ctx.printer.note(&format!("wrote {}", path.display()));
                }
            }
            match text {
                Some(text) => text,
                None => return Err(online::not_written(&name, failed)),
            }
        }
    };
    let written = Written {
        path,
        text: &result,
        decoded: &decoded,
        record,
    };
    written.write(
        destination,
        &WriteOptions::from(args),
        &ctx.printer,
        ledger,
        &mut report,
    )?;
    if online.is_none() {
        summarize(&name, &doc, ctx);
    }
    Ok(report)
}

/// The flags that decide how a result is written.
#[derive(Debug, Clone, Copy)]
struct WriteOptions {
    json: bool,
    force: bool,
    no_backup: bool,
}

impl From<&FixArgs> for WriteOptions {
    fn from(args: &FixArgs) -> Self {
        Self {
            json: args.json,
            force: args.force,
            no_backup: args.no_backup,
        }
    }
}

/// A finished result and what it was made from.
struct Written<'a> {
    path: &'a Path,
    text: &'a str,
    decoded: &'a Decoded,
    /// With API passes: what `review` needs, saved beside the output.
    record: Option<Record>,
}

impl Written<'_> {
    fn write(
        self,
        destination: Destination,
        args: &WriteOptions,
        printer: &Printer,
        ledger: &mut Ledger,
        report: &mut FileReport,
    ) -> anyhow::Result<()> {
        let Self {
            path,
            text,
            decoded,
            mut record,
        } = self;
        // Decisions from an earlier review still hold for paragraphs that came out the same.
        let reviewed = match (&destination, &mut record) {
            (Destination::File(target) | Destination::InPlace(target), Some(record)) => {
                record.output = file_name(target);
                with_saved_decisions(record, target, printer)
            }
            _ => None,
        };
        let text = reviewed.as_deref().unwrap_or(text);
        match destination {
            Destination::Nowhere => {}
            Destination::Stdout if args.json => report.text = Some(text.to_owned()),
            Destination::Stdout => {
                let bytes = encode(path, text, decoded)?;
                let mut out = crate::cli::stdout();
                out.write_all(&bytes)?;
                crate::cli::finish(out)?;
            }
            Destination::File(target) => {
                let bytes = encode(&target, text, decoded)?;
                if !args.force && !ledger.may_overwrite(&target) {
                    return Err(FileError::Exists(target).into());
                }
                files::write_atomic(&target, &bytes)?;
                if let Err(err) = ledger.record(&target, &bytes) {
                    printer.warn(&format!(
                        "wrote {}, but could not remember it as klartext's: {err}",
                        target.display()
                    ));
                }
                printer.note(&format!("wrote {}", target.display()));
                report.output(&target);
                save_record(record.as_ref(), &target, printer);
            }
            Destination::InPlace(target) if text == decoded.text => {
                printer.note(&format!(
                    "{}: nothing to change, left as it was",
                    target.display()
                ));
            }
            Destination::InPlace(target) => {
                let bytes = encode(&target, text, decoded)?;
                if !args.no_backup {
                    let backup = files::write_backup(&target)?;
                    printer.detail(&format!("kept {}", backup.display()));
                }
                files::write_atomic(&target, &bytes)?;
                printer.note(&format!("rewrote {}", target.display()));
                report.output(&target);
                save_record(record.as_ref(), &target, printer);
            }
        }
        Ok(())
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The output with the saved review decisions about `target` applied, when there are any that
/// still match their paragraphs.
fn with_saved_decisions(record: &Record, target: &Path, printer: &Printer) -> Option<String> {
    let saved = match super::review::read_decisions(target) {
        Ok(saved) => saved?,
        Err(err) => {
            printer.warn(&format!("{err:#}; the review decisions were not applied"));
            return None;
        }
    };
    let doc = review::Doc::new(String::new(), record.clone(), &saved, String::new());
    // Partly decided paragraphs count: their decided changes are kept too.
    let kept = doc
        .items
        .iter()
        .filter(|i| i.reviewable() && i.verdict != review::Verdict::Pending)
        .count();
    let stale = saved.stale(record);
    if stale > 0 {
        printer.note(&format!(
            "{}: {stale} review {} dropped: their paragraphs were translated anew",
            target.display(),
            if stale == 1 { "decision" } else { "decisions" }
        ));
    }
    (kept > 0).then(|| {
        printer.note(&format!(
            "{}: kept {kept} review {} for unchanged paragraphs",
            target.display(),
            if kept == 1 { "decision" } else { "decisions" }
        ));
        doc.text()
    })
}

/// Save `record` beside the output it describes (`.klartext/NAME.json`). Failing to is not
/// fatal: the output is written; only a later review needs the record.
fn save_record(record: Option<&Record>, target: &Path, printer: &Printer) {
    let Some(record) = record else {
        return;
    };
    let path = Record::path_for(target);
    if let Err(err) = super::review::write_sidecar(&path, record) {
        printer.warn(&format!(
            "wrote {}, but not its review record: {err:#}",
            target.display()
        ));
    }
}

fn read_input(path: &Path) -> anyhow::Result<Decoded> {
    if is_stdin(path) {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read stdin")?;
        return files::decode(&bytes).map_err(|e| anyhow::anyhow!("stdin {e}"));
    }
    Ok(files::read_document(path)?)
}

/// `online`: the target language when API passes run; the result then goes, without -o, next
/// to the input under its output name. Offline the result is German.
fn destination(path: &Path, args: &FixArgs, online: Option<Lang>) -> anyhow::Result<Destination> {
    let lang = online.unwrap_or(Lang::De);
    Ok(match (&args.output, args.in_place) {
        (Some(out), _) if is_stdin(out) => Destination::Stdout,
        (Some(dir), _) if dir.is_dir() => {
            if is_stdin(path) {
                anyhow::bail!(Hinted::new(
                    format!("-o {} is a folder, and stdin has no name", dir.display()),
                    "name the output file: -o FOLDER/NAME.txt"
                ));
            }
            let named = files::output_path(path, lang);
            Destination::File(dir.join(named.file_name().unwrap_or_default()))
        }
        (Some(out), _) => {
            if !is_stdin(path) && same_file(path, out) {
                anyhow::bail!(Hinted::new(
                    format!("-o {} is the input itself", out.display()),
                    "use --in-place to replace the input (it keeps a .bak copy)"
                ));
            }
            Destination::File(out.clone())
        }
        (None, true) => Destination::InPlace(path.to_owned()),
        (None, false) if is_stdin(path) => Destination::Stdout,
        (None, false) if online.is_some() => Destination::File(files::output_path(path, lang)),
        (None, false) => Destination::Nowhere,
    })
}

fn encode(target: &Path, text: &str, like: &Decoded) -> Result<Vec<u8>, FileError> {
    files::encode_for(target, text, like.encoding, like.line_ending)
}

fn show_repairs(
    doc: &RepairedDocument,
    source: &str,
    findings: &[verify::Finding],
    args: &FixArgs,
    ctx: &Context,
) -> anyhow::Result<()> {
    let Some(mut opts) = super::render_options(ctx, &args.display, ("source", "repaired")) else {
        return Ok(());
    };
    opts.notes = super::check::notes(findings, doc.segments.len());
    let diff = repair_diff(doc, source);
    let mut out = view_output(args, ctx);
    render::render_diff(&diff, &opts, &mut out).context("writing the diff")?;
    render::render_repairs(&doc.segments, source, &opts, &mut out)
        .context("writing the repairs")?;
    Ok(out.finish()?)
}

/// One file's diff may be paged; several files print one after another.
fn view_output(args: &FixArgs, ctx: &Context) -> crate::cli::pager::Output {
    let paging = if args.paths.len() == 1 {
        args.display.paging
    } else {
        crate::cli::pager::Paging::Never
    };
    crate::cli::pager::Output::open(paging, &ctx.env, &ctx.terminal)
}

fn repair_diff(doc: &RepairedDocument, source: &str) -> crate::diff::DocumentDiff {
    let (old, new) = doc.sides(source);
    crate::diff::diff_by_index(&old, &new, &DiffOptions::default())
}

fn summarize(name: &str, doc: &RepairedDocument, ctx: &Context) {
    let touched = doc
        .segments
        .iter()
        .filter(|s| !s.repairs.is_empty())
        .count();
    let mut line = format!(
        "{name}: {} {} in {touched} of {} paragraphs",
        doc.repair_count(),
        plural(doc.repair_count(), "repair", "repairs"),
        doc.segments.len(),
    );
    if doc.flag_count() > 0 {
        line += &format!(
            ", {} {} to check",
            doc.flag_count(),
            plural(doc.flag_count(), "flag", "flags")
        );
    }
    ctx.printer.note(&line);
}

fn print_file_header(path: &Path, gap: bool) -> anyhow::Result<()> {
    let mut out = crate::cli::stdout();
    if gap {
        writeln!(out)?;
    }
    writeln!(out, "══ {} ══", render::sanitize(&display_name(path)))?;
    crate::cli::finish(out)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
