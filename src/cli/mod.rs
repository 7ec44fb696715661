//! The command layer: parse arguments, resolve settings once, dispatch to a command, and turn
//! the outcome into one printed error (with a hint when there is one) and an exit code.
//! Exit codes: 0 success, 1 differences (`diff`) or error-level findings, 2 failure.

mod args;
mod commands;
mod pager;
mod printer;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
pub use printer::Printer;

use crate::config::{self, Env, Settings};
use crate::term::Terminal;

/// How a command ended, when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    /// `diff` found differences; `fix` found error-level findings.
    Differences,
    /// Some inputs failed; their errors were already printed.
    Failure,
    /// Ctrl-C: finished work was kept.
    Interrupted,
}

impl Status {
    fn code(self) -> ExitCode {
        ExitCode::from(match self {
            Self::Success => 0,
            Self::Differences => 1,
            Self::Failure => 2,
            Self::Interrupted => 130,
        })
    }
}

/// What a command may know about the world, gathered once.
pub struct Context {
    pub env: Env,
    pub cwd: PathBuf,
    pub terminal: Terminal,
    pub settings: Settings,
    pub printer: Printer,
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let env = Env::from_process();
    let terminal = Terminal::probe();
    let early = Printer::new(&env, &terminal, cli.color, cli.quiet, cli.verbose);
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(err) => {
            early.error(&anyhow::Error::new(err).context("cannot read the working folder"));
            return Status::Failure.code();
        }
    };
    let settings = match config::load(&env, &cwd, &cli.overrides()) {
        Ok(settings) => settings,
        Err(err) => {
            early.error(&anyhow::Error::new(err));
            return Status::Failure.code();
        }
    };
    let printer = Printer::new(
        &env,
        &terminal,
        Some(settings.color.value),
        cli.quiet,
        cli.verbose,
    );
    let ctx = Context {
        env,
        cwd,
        terminal,
        settings,
        printer,
    };
    match commands::run(&cli, &ctx) {
        Ok(status) => status.code(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            ctx.printer.error(&err);
            Status::Failure.code()
        }
    }
}

/// A reader who quits the pager or `head` early is not an error.
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<io::Error>())
        .any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// The one async runtime, for the commands that talk to backends (`fix`, `backends --check`).
/// File work is short; a few blocking threads keep memory flat.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Stdout, buffered; callers flush before returning.
fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::new(io::stdout().lock())
}

/// Flush and turn a write failure into an error the printer understands.
fn finish(mut out: impl Write) -> anyhow::Result<()> {
    out.flush()?;
    Ok(())
}
