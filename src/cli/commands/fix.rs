//! `klartext fix PATH...`: read → segment → repair → show and write. Each input is handled on
//! its own: a failing file is reported and counted, the others still complete.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::cli::args::FixArgs;
use crate::cli::printer::Hinted;
use crate::cli::{Context, Status};
use crate::config::Lang;
use crate::diff::DiffOptions;
use crate::files::{self, Decoded, FileError, Ledger, LineEnding, TextEncoding};
use crate::pipeline::{self, RepairedDocument, RepairedSegment};
use crate::render;
use crate::segment::Format;

const STDIN: &str = "-";

pub fn run(args: &FixArgs, ctx: &Context) -> anyhow::Result<Status> {
    check_arguments(args)?;
    let mut ledger = Ledger::open(&ctx.settings.cache_dir.value);
    let mut reports = Vec::with_capacity(args.paths.len());
    for (i, path) in args.paths.iter().enumerate() {
        if args.paths.len() > 1 && !args.json && !ctx.printer.is_quiet() {
            print_file_header(path, i > 0)?;
        }
        match fix_file(path, args, ctx, &mut ledger) {
            Ok(report) => reports.push(report),
            Err(err) if super::super::is_broken_pipe(&err) => return Err(err),
            Err(err) => {
                ctx.printer.error(&err);
                reports.push(FileReport::failed(path, &err));
            }
        }
    }
    let failed = reports
        .iter()
        .filter(|r| r.status == FileStatus::Failed)
        .count();
    if args.json {
        super::print_json(&RunReport {
            schema: "klartext.fix/1",
            offline: true,
            files: &reports,
        })?;
    }
    if reports.iter().any(|r| r.status == FileStatus::Ok) {
        if ctx.settings.has_passes() {
            ctx.printer.warn(
                "backends are configured, but this version of klartext cannot call them yet: \
                 only the offline German repairs ran",
            );
        } else {
            ctx.printer.hint(
                "offline run: only the German was repaired. For English, configure a backend \
                 (README, \"Configuration\"; `klartext config path` shows where)",
            );
        }
    }
    if failed > 0 {
        ctx.printer
            .note(&format!("{failed} of {} inputs failed", args.paths.len()));
        return Ok(Status::Failure);
    }
    Ok(Status::Success)
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
    if args.output.is_some() && args.paths.len() > 1 {
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
) -> anyhow::Result<FileReport> {
    let decoded = read_input(path)?;
    let mut report = FileReport::new(path, &decoded);
    if decoded.text.trim().is_empty() {
        ctx.printer
            .note(&format!("{}: empty, nothing to do", path.display()));
        report.status = FileStatus::Empty;
        return Ok(report);
    }
    let format = Format::from_path(path);
    ctx.printer.detail(&format!(
        "{}: {}, {}, {:?}",
        path.display(),
        decoded.encoding,
        decoded.line_ending,
        format
    ));
    let doc = pipeline::repair_document(&decoded.text, format);
    report.record(&doc);

    let destination = destination(path, args)?;
    let mut show = !args.json && !ctx.printer.is_quiet();
    if matches!(destination, Destination::Stdout) {
        // Stdout carries the text itself; the diff would corrupt it.
        show = false;
    }
    if show {
        show_repairs(&doc, &decoded.text, args, ctx)?;
    }
    match destination {
        Destination::Nowhere => {}
        Destination::Stdout if args.json => report.text = Some(doc.text.clone()),
        Destination::Stdout => {
            let bytes = encode(path, &doc.text, &decoded)?;
            let mut out = crate::cli::stdout();
            out.write_all(&bytes)?;
            crate::cli::finish(out)?;
        }
        Destination::File(target) => {
            let bytes = encode(&target, &doc.text, &decoded)?;
            if !args.force && !ledger.may_overwrite(&target) {
                return Err(FileError::Exists(target).into());
            }
            files::write_atomic(&target, &bytes)?;
            if let Err(err) = ledger.record(&target, &bytes) {
                ctx.printer.warn(&format!(
                    "wrote {}, but could not remember it as klartext's: {err}",
                    target.display()
                ));
            }
            ctx.printer.note(&format!("wrote {}", target.display()));
            report.output = Some(target.display().to_string());
        }
        Destination::InPlace(target) if doc.text == decoded.text => {
            ctx.printer.note(&format!(
                "{}: nothing to repair, left as it was",
                target.display()
            ));
        }
        Destination::InPlace(target) => {
            let bytes = encode(&target, &doc.text, &decoded)?;
            if !args.no_backup {
                let backup = files::write_backup(&target)?;
                ctx.printer.detail(&format!("kept {}", backup.display()));
            }
            files::write_atomic(&target, &bytes)?;
            ctx.printer.note(&format!("rewrote {}", target.display()));
            report.output = Some(target.display().to_string());
        }
    }
    summarize(path, &doc, ctx);
    Ok(report)
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
    if path.is_dir() {
        anyhow::bail!(Hinted::new(
            format!(
                "{} is a folder; fixing whole folders is not available yet",
                path.display()
            ),
            format!(
                "pass the files themselves, e.g. klartext fix {}/*.txt",
                path.display()
            )
        ));
    }
    Ok(files::read_document(path)?)
}

fn destination(path: &Path, args: &FixArgs) -> anyhow::Result<Destination> {
    Ok(match (&args.output, args.in_place) {
        (Some(out), _) if is_stdin(out) => Destination::Stdout,
        (Some(dir), _) if dir.is_dir() => {
            if is_stdin(path) {
                anyhow::bail!(Hinted::new(
                    format!("-o {} is a folder, and stdin has no name", dir.display()),
                    "name the output file: -o FOLDER/NAME.txt"
                ));
            }
            // Offline, the result is German: name it as German output.
            let named = files::output_path(path, Lang::De);
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
        (None, false) => Destination::Nowhere,
    })
}

fn encode(target: &Path, text: &str, like: &Decoded) -> anyhow::Result<Vec<u8>> {
    files::encode(text, like.encoding, like.line_ending).map_err(|source| {
        FileError::Encode {
            path: target.to_owned(),
            source,
        }
        .into()
    })
}

fn show_repairs(
    doc: &RepairedDocument,
    source: &str,
    args: &FixArgs,
    ctx: &Context,
) -> anyhow::Result<()> {
    let Some(opts) = super::render_options(ctx, &args.display, ("source", "repaired")) else {
        return Ok(());
    };
    let diff = doc.diff(source, &DiffOptions::default());
    let mut out = crate::cli::stdout();
    render::render_diff(&diff, &opts, &mut out).context("writing the diff")?;
    render::render_repairs(&doc.segments, source, &opts, &mut out)
        .context("writing the repairs")?;
    crate::cli::finish(out)
}

fn summarize(path: &Path, doc: &RepairedDocument, ctx: &Context) {
    let touched = doc
        .segments
        .iter()
        .filter(|s| !s.repairs.is_empty())
        .count();
    let mut line = format!(
        "{}: {} {} in {touched} of {} paragraphs",
        display_name(path),
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

#[derive(Debug, Serialize)]
struct RunReport<'a> {
    schema: &'static str,
    /// No API pass ran: the result is the repaired German.
    offline: bool,
    files: &'a [FileReport],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum FileStatus {
    Ok,
    Empty,
    Failed,
}

/// One input's outcome in the JSON report. Byte ranges are offsets in the decoded text
/// (UTF-8 with LF line endings).
#[derive(Debug, Serialize)]
struct FileReport {
    input: String,
    status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding: Option<TextEncoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line_ending: Option<LineEnding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    paragraphs: usize,
    repairs: usize,
    flags: usize,
    /// Only the paragraphs with repairs or flags.
    segments: Vec<RepairedSegment>,
    /// The result itself, when it would otherwise have gone to stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

impl FileReport {
    fn new(path: &Path, decoded: &Decoded) -> Self {
        Self {
            encoding: Some(decoded.encoding),
            line_ending: Some(decoded.line_ending),
            ..Self::empty(path, FileStatus::Ok)
        }
    }

    fn failed(path: &Path, err: &anyhow::Error) -> Self {
        Self {
            error: Some(format!("{err:#}")),
            ..Self::empty(path, FileStatus::Failed)
        }
    }

    fn empty(path: &Path, status: FileStatus) -> Self {
        Self {
            input: display_name(path),
            status,
            error: None,
            encoding: None,
            line_ending: None,
            output: None,
            paragraphs: 0,
            repairs: 0,
            flags: 0,
            segments: Vec::new(),
            text: None,
        }
    }

    fn record(&mut self, doc: &RepairedDocument) {
        self.paragraphs = doc.segments.len();
        self.repairs = doc.repair_count();
        self.flags = doc.flag_count();
        self.segments = doc
            .segments
            .iter()
            .filter(|s| !s.repairs.is_empty() || !s.flags.is_empty())
            .cloned()
            .collect();
    }
}
