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
    /// `fix --batch-api --no-wait`: batch jobs are still running; the same command again
    /// collects them (EX_TEMPFAIL: try again later).
    Pending,
}

impl Status {
    fn code(self) -> ExitCode {
        ExitCode::from(match self {
            Self::Success => 0,
            Self::Differences => 1,
            Self::Failure => 2,
            Self::Interrupted => 130,
            Self::Pending => 75,
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
    let env = Env::from_process();
    let terminal = Terminal::probe();
    let early = Printer::new(&env, &terminal, None, false, 0);
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(err) => {
            early.error(&anyhow::Error::new(err).context("cannot read the working folder"));
            return Status::Failure.code();
        }
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    let code = run(std::env::args_os(), env, cwd, terminal, &mut out);
    match out.flush() {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => {
            early.error(&anyhow::Error::new(err).context("cannot write to stdout"));
            Status::Failure.code()
        }
        _ => code,
    }
}

/// klartext as a function: parse `args`, resolve the settings once from `env` and `cwd` (where
/// the project file is looked for; paths in `args` are taken as given), run the command with
/// `out` as its standard output, and print any error (on stderr) with its hint. What `main`
/// calls, and what an in-process test calls with its own `out`.
pub fn run(
    args: impl IntoIterator<Item = std::ffi::OsString>,
    env: Env,
    cwd: PathBuf,
    terminal: Terminal,
    out: &mut dyn Write,
) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return usage(&err, &env, &terminal, out),
    };
    let early = Printer::new(&env, &terminal, cli.color, cli.quiet, cli.verbose);
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
    match commands::run(&cli, &ctx, out).and_then(|status| {
        out.flush()?;
        Ok(status)
    }) {
        Ok(status) => status.code(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            ctx.printer.error(&err);
            Status::Failure.code()
        }
    }
}

/// Help and version go to the command's output (exit 0), usage errors to stderr (exit 2), as
/// clap prints them.
fn usage(err: &clap::Error, env: &Env, terminal: &Terminal, out: &mut dyn Write) -> ExitCode {
    let code = ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
    if err.use_stderr() {
        let _ = err.print();
        return code;
    }
    let text = err.render();
    let choice = crate::term::early_color(env);
    let written = if crate::term::use_color(choice, env, terminal.stdout_is_tty) {
        write!(out, "{}", text.ansi())
    } else {
        write!(out, "{text}")
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Status::Failure.code(),
        _ => code,
    }
}

/// A reader who quits the pager or `head` early is not an error, whichever writer noticed it
/// (a plain write, or serde_json writing `--json`).
pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        let kind = e
            .downcast_ref::<io::Error>()
            .map(io::Error::kind)
            .or_else(|| e.downcast_ref::<serde_json::Error>()?.io_error_kind());
        kind == Some(io::ErrorKind::BrokenPipe)
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A command runs in-process with its output captured: no process, no real stdout.
    #[test]
    fn commands_write_to_the_output_they_are_given() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let article = dir.path().join("a.de.txt");
        std::fs::write(&article, "Der Umsatz stieg auf 4 Billionen Dollar.\n").expect("write");
        let env = Env::from_pairs([
            (
                "KLARTEXT_CONFIG_DIR",
                dir.path().join("config").display().to_string(),
            ),
            (
                "KLARTEXT_CACHE_DIR",
                dir.path().join("cache").display().to_string(),
            ),
        ]);
        let mut out = Vec::new();
        let args = [
            "klartext".into(),
            "check".into(),
            "--json".into(),
            article.into_os_string(),
        ];
        let code = run(args, env, dir.path().to_owned(), Terminal::NONE, &mut out);
        assert_eq!(code, ExitCode::SUCCESS);
        let report: serde_json::Value = serde_json::from_slice(&out).expect("JSON on the output");
        assert_eq!(report["schema"], "klartext.check/1");
        assert_eq!(report["findings"][0]["rule"], "scale-word");

        let mut help = Vec::new();
        let args = ["klartext", "--help"].map(std::ffi::OsString::from);
        let code = run(
            args,
            Env::default(),
            dir.path().to_owned(),
            Terminal::NONE,
            &mut help,
        );
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(String::from_utf8_lossy(&help).starts_with("Turn garbled"));
    }
}
