//! `klartext diff OLD NEW`: side-by-side prose diff of two files. Exit 0 identical, 1 different.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;

use crate::cli::args::{DiffArgs, DiffFormat};
use crate::cli::{Context, Status};
use crate::diff::{DiffOptions, DocumentDiff, diff_document};
use crate::files;
use crate::render;
use crate::segment::{self, Format};

pub fn run(args: &DiffArgs, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    let old = files::read_document(&args.old)?;
    let new = files::read_document(&args.new)?;
    let diff = compare(
        (&args.old, &old.text),
        (&args.new, &new.text),
        &DiffOptions::default(),
    );
    if let Some(report) = &args.display.report {
        if report.format == crate::cli::args::ReportFormat::Tmx {
            anyhow::bail!(crate::cli::printer::Hinted::new(
                format!(
                    "{}: a TMX report pairs German with English paragraphs; diff has none",
                    report.path.display()
                ),
                "klartext fix --report run.tmx writes one; for diff name it .html, .md or .json",
            ));
        }
        if report.format == crate::cli::args::ReportFormat::Xliff {
            anyhow::bail!(crate::cli::printer::Hinted::new(
                super::XLIFF_NEEDS_FIX,
                "name the report FILE.html, FILE.md or FILE.json",
            ));
        }
        let titles = (label(&args.old), label(&args.new));
        let input =
            render::report::ReportInput::new(&diff, (&titles.0, &titles.1), super::GENERATOR);
        // The same rule as fix: never replace a file klartext did not write without --force.
        let ledger = files::Ledger::open(&ctx.settings.cache_dir.value);
        let mut outputs = files::Outputs::new(ledger, args.force);
        let writer = super::report_writer(report.format);
        outputs.write_with(&report.path, |out| writer(&input, out))?;
        if let Some(err) = outputs.take_unrecorded() {
            ctx.printer.warn(&err.to_string());
        }
        ctx.printer
            .note(&format!("wrote {}", report.path.display()));
    }
    if args.format == DiffFormat::Unified {
        let titles = (
            args.old.display().to_string(),
            args.new.display().to_string(),
        );
        let input =
            render::report::ReportInput::new(&diff, (&titles.0, &titles.1), super::GENERATOR);
        let mut out = super::output(ctx, &args.display, out);
        render::report::unified(&input, args.display.context.unwrap_or(3), &mut out)?;
        out.finish()?;
    } else if args.json {
        super::print_json(
            &serde_json::json!({
                "schema": "klartext.diff/1",
                "old": args.old.display().to_string(),
                "new": args.new.display().to_string(),
                "identical": diff.is_identical(),
                "changed_paragraphs": diff.changed_pairs(),
                "changes": diff.change_count(),
                "pairs": diff.pairs,
            }),
            out,
        )?;
    } else if !ctx.printer.is_quiet() {
        let titles = (label(&args.old), label(&args.new));
        if let Some(opts) = super::render_options(ctx, &args.display, (&titles.0, &titles.1)) {
            let mut out = super::output(ctx, &args.display, out);
            render::render_diff(&diff, &opts, &mut out).context("writing the diff")?;
            out.finish()?;
        }
    }
    Ok(if diff.is_identical() {
        Status::Success
    } else {
        Status::Differences
    })
}

/// Both sides are segmented by their own format and their paragraphs aligned by content
/// (inserted, deleted, split and merged paragraphs are recognised); the text between
/// paragraphs (blank lines, markup) is not compared.
fn compare(old: (&Path, &str), new: (&Path, &str), opts: &DiffOptions) -> DocumentDiff {
    let texts = |(path, text): (&Path, &str)| -> Vec<String> {
        let segmented = segment::segment(text, Format::from_path(path));
        segmented
            .segments()
            .map(|s| s.text(text).to_owned())
            .collect()
    };
    let (old, new) = (texts(old), texts(new));
    let old: Vec<&str> = old.iter().map(String::as_str).collect();
    let new: Vec<&str> = new.iter().map(String::as_str).collect();
    diff_document(&old, &new, opts)
}

fn label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
