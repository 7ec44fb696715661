//! The one place that prints messages on stderr: errors (with their hint), warnings, notes.
//! Text that came from outside (paths, file content in messages) is sanitised first.

use std::fmt;
use std::io::Write;

use anstyle::{AnsiColor, Style};

use crate::backend::BackendError;
use crate::cache::CacheError;
use crate::config::{ColorChoice, ConfigError, Env};
use crate::files::FileError;
use crate::glossary::GlossaryError;
use crate::pipeline::{DocumentError, EngineError};
use crate::prompt::PromptError;
use crate::render::sanitize;
use crate::term::{self, Terminal};

/// An error raised by the command layer itself, with advice for the user.
#[derive(Debug)]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl Hinted {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

#[derive(Debug, Clone)]
pub struct Printer {
    color: bool,
    quiet: bool,
    verbosity: u8,
}

const ERROR: Style = AnsiColor::Red.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default();

impl Printer {
    pub fn new(
        env: &Env,
        terminal: &Terminal,
        color: Option<ColorChoice>,
        quiet: bool,
        verbosity: u8,
    ) -> Self {
        let choice = color.unwrap_or_else(|| term::early_color(env));
        Self {
            color: term::use_color(choice, env, terminal.stderr_is_tty),
            quiet,
            verbosity,
        }
    }

    /// Print `klartext: error: …` with the whole cause chain, then a hint if any layer has one.
    pub fn error(&self, err: &anyhow::Error) {
        self.line(ERROR, "error", &describe(err));
        if let Some(hint) = hint_for(err) {
            self.line(HINT, "hint", &hint);
        }
    }

    pub fn warn(&self, message: &str) {
        if !self.quiet {
            self.line(WARNING, "warning", message);
        }
    }

    /// A status line (what was written, what was found); silenced by `-q`.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            self.plain(message);
        }
    }

    pub fn hint(&self, message: &str) {
        if !self.quiet {
            self.line(HINT, "hint", message);
        }
    }

    /// Details shown only with `-v`.
    pub fn detail(&self, message: &str) {
        if self.verbosity >= 1 && !self.quiet {
            self.plain(message);
        }
    }

    /// More details, shown only with `-vv`.
    pub fn trace(&self, message: &str) {
        if self.verbosity >= 2 && !self.quiet {
            self.plain(message);
        }
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// The same printer, silent but for errors (for work a summary reports instead).
    pub fn quietly(&self) -> Self {
        Self {
            quiet: true,
            ..self.clone()
        }
    }

    fn plain(&self, message: &str) {
        let _ = writeln!(std::io::stderr().lock(), "klartext: {}", sanitize(message));
    }

    fn line(&self, style: Style, label: &str, message: &str) {
        let message = sanitize(message);
        let mut err = std::io::stderr().lock();
        let _ = if self.color {
            writeln!(err, "klartext: {style}{label}:{style:#} {message}")
        } else {
            writeln!(err, "klartext: {label}: {message}")
        };
    }
}

/// The error and its causes, `outer: inner`, leaving out a cause whose text the message
/// already shows (library errors often quote their source in their own message).
pub fn describe(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// The first hint any error in the chain offers; every library error enum has one.
fn hint_for(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|e| {
        if let Some(h) = e.downcast_ref::<Hinted>() {
            Some(h.hint.clone())
        } else if let Some(e) = e.downcast_ref::<FileError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<ConfigError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<BackendError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<EngineError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<DocumentError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<CacheError>() {
            e.hint()
        } else if let Some(e) = e.downcast_ref::<GlossaryError>() {
            e.hint()
        } else {
            e.downcast_ref::<PromptError>().and_then(PromptError::hint)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_already_quoted_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        let err = anyhow::Error::new(FileError::Read {
            path: "a.txt".into(),
            source: io,
        })
        .context("fixing a.txt");
        assert_eq!(
            describe(&err),
            "fixing a.txt: cannot read a.txt: permission denied"
        );
    }
}
