//! One file per subcommand; this file dispatches and holds what they share.

mod backends;
mod cache;
mod check;
mod config;
mod diff;
mod fix;
mod jobs;
mod review;

use std::io::Write;

use clap::CommandFactory;

use super::args::{Cli, Command, DisplayArgs, ReportFormat};
use super::{Context, Status};
use crate::config::ColorChoice;
use crate::render::{ColorMode, Layout, RenderOptions, report};
use crate::term;

pub fn run(cli: &Cli, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    match &cli.command {
        Command::Fix(args) => fix::run(args, ctx, out),
        Command::Diff(args) => diff::run(args, ctx, out),
        Command::Review(args) => review::run(args, ctx, out),
        Command::Check(args) => check::run(args, ctx, out),
        Command::Config(command) => config::run(command, ctx, out),
        Command::Backends { check, json } => backends::run(*check, *json, ctx, out),
        Command::Jobs {
            folder,
            cancel,
            json,
        } => jobs::run(folder.as_deref(), *cancel, *json, ctx, out),
        Command::Cache(command) => cache::run(command, ctx, out),
        Command::Completions { shell } => {
            // clap_complete panics on a failed write: generate in memory, then write.
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "klartext", &mut script);
            out.write_all(&script)?;
            Ok(Status::Success)
        }
    }
}

/// Resolve the configured view into render options for stdout, or `None` for `--view none`.
fn render_options(
    ctx: &Context,
    display: &DisplayArgs,
    titles: (&str, &str),
) -> Option<RenderOptions> {
    let width = term::width(
        ctx.settings.width.as_ref().map(|w| w.value),
        &ctx.env,
        &ctx.terminal,
    );
    let layout = Layout::resolve(ctx.settings.view.value, width)?;
    let choice = ctx.settings.color.value;
    let color = if choice == ColorChoice::Debug {
        ColorMode::Debug
    } else if !term::use_color(choice, &ctx.env, ctx.terminal.stdout_is_tty) {
        ColorMode::Plain
    } else if term::many_colors(&ctx.env) {
        ColorMode::Tinted
    } else {
        ColorMode::Ansi
    };
    Some(RenderOptions {
        width,
        layout,
        color,
        titles: (titles.0.to_owned(), titles.1.to_owned()),
        context: if display.full {
            None
        } else {
            Some(display.context.unwrap_or(0))
        },
        source: None,
        source_repairs: Vec::new(),
        notes: Vec::new(),
    })
}

/// Where a diff view goes: the pager when `--paging` and the terminal say so, else `out`.
fn output<'a>(
    ctx: &Context,
    display: &DisplayArgs,
    out: &'a mut dyn Write,
) -> super::pager::Output<'a> {
    super::pager::Output::open(display.paging, &ctx.env, &ctx.terminal, out)
}

/// Writes a report in one format.
type ReportWriter = fn(&report::ReportInput, &mut dyn Write) -> std::io::Result<()>;

/// The writer for a report format.
fn report_writer(format: ReportFormat) -> ReportWriter {
    match format {
        ReportFormat::Html => |input, out| report::html(input, &mut WriteRef(out)),
        ReportFormat::Markdown => |input, out| report::markdown(input, &mut WriteRef(out)),
        ReportFormat::Json => |input, out| report::json(input, &mut WriteRef(out)),
        // Written by fix from its results (`fix::tmx`); a diff has no pairs to write.
        ReportFormat::Tmx => |_, _| {
            Err(std::io::Error::other(
                "a TMX report pairs German with English: klartext fix writes it",
            ))
        },
        // Written from fix's records (`fix::xliff_report`); a diff has none.
        ReportFormat::Xliff => |_, _| Err(std::io::Error::other(XLIFF_NEEDS_FIX)),
    }
}

/// `&mut dyn Write` as an `impl Write` for the report writers.
struct WriteRef<'a>(&'a mut dyn Write);

impl Write for WriteRef<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Why only fix writes an XLIFF report.
const XLIFF_NEEDS_FIX: &str =
    "an XLIFF report pairs the German with its translation: only fix writes one";

/// What made a report.
const GENERATOR: &str = concat!("klartext ", env!("CARGO_PKG_VERSION"));

/// Print a value as pretty JSON.
fn print_json(value: &impl serde::Serialize, out: &mut dyn Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}
