//! One file per subcommand; this file dispatches and holds what they share.

mod backends;
mod cache;
mod check;
mod config;
mod diff;
mod fix;

use std::io::Write;

use clap::CommandFactory;

use super::args::{Cli, Command, DisplayArgs};
use super::{Context, Status};
use crate::config::View;
use crate::render::{ColorMode, Layout, RenderOptions};
use crate::term;

pub fn run(cli: &Cli, ctx: &Context) -> anyhow::Result<Status> {
    match &cli.command {
        Command::Fix(args) => fix::run(args, ctx),
        Command::Diff(args) => diff::run(args, ctx),
        Command::Check(args) => check::run(args, ctx),
        Command::Config(command) => config::run(command, ctx),
        Command::Backends { check, json } => backends::run(*check, *json, ctx),
        Command::Cache(command) => cache::run(command, ctx),
        Command::Completions { shell } => {
            let mut out = super::stdout();
            clap_complete::generate(*shell, &mut Cli::command(), "klartext", &mut out);
            super::finish(out)?;
            Ok(Status::Success)
        }
    }
}

/// Below this many columns two panes are too narrow for prose.
const SIDE_BY_SIDE_MIN_WIDTH: usize = 70;

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
    let layout = match ctx.settings.view.value {
        View::None => return None,
        View::SideBySide => Layout::SideBySide,
        View::Stacked => Layout::Stacked,
        View::Inline => Layout::Inline,
        View::Auto if width >= SIDE_BY_SIDE_MIN_WIDTH => Layout::SideBySide,
        View::Auto => Layout::Stacked,
    };
    let color = if term::use_color(
        ctx.settings.color.value,
        &ctx.env,
        ctx.terminal.stdout_is_tty,
    ) {
        ColorMode::Ansi
    } else {
        ColorMode::Plain
    };
    Some(RenderOptions {
        width,
        layout,
        color,
        titles: (titles.0.to_owned(), titles.1.to_owned()),
        fold_unchanged: !display.full,
        source: None,
        notes: Vec::new(),
    })
}

/// Where a diff view goes: the pager when `--paging` and the terminal say so, else stdout.
fn output(ctx: &Context, display: &DisplayArgs) -> super::pager::Output {
    super::pager::Output::open(display.paging, &ctx.env, &ctx.terminal)
}

/// Print a value as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = super::stdout();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    super::finish(out)
}
