//! The only place that asks about the terminal: whether the standard streams are terminals,
//! whether colour is wanted and how wide the output may be. Everything downstream (`diff`,
//! `render`, `review`'s state) receives plain options.

use std::io::IsTerminal;

use crate::config::{ColorChoice, Env};

/// What klartext knows about where its output goes, probed once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Keys can be read (the review needs them).
    pub stdin_is_tty: bool,
    pub stdout_is_tty: bool,
    pub stderr_is_tty: bool,
    /// Columns of the terminal on stdout (or stderr), when there is one.
    pub columns: Option<u16>,
}

impl Terminal {
    /// No terminal anywhere: what a script, a pipe or a test sees.
    pub const NONE: Terminal = Terminal {
        stdin_is_tty: false,
        stdout_is_tty: false,
        stderr_is_tty: false,
        columns: None,
    };

    pub fn probe() -> Self {
        let columns = terminal_size::terminal_size_of(std::io::stdout())
            .or_else(|| terminal_size::terminal_size_of(std::io::stderr()))
            .map(|(w, _)| w.0);
        Self {
            stdin_is_tty: std::io::stdin().is_terminal(),
            stdout_is_tty: std::io::stdout().is_terminal(),
            stderr_is_tty: std::io::stderr().is_terminal(),
            columns,
        }
    }
}

/// The colour choice before the settings are resolved (usage errors, a broken config file):
/// `NO_COLOR` turns it off, as the settings would.
pub fn early_color(env: &Env) -> ColorChoice {
    if env.get_nonempty("NO_COLOR").is_some() {
        ColorChoice::Never
    } else {
        ColorChoice::Auto
    }
}

/// Resolve `auto` the way anstream and git do: `CLICOLOR_FORCE` forces colour, `CLICOLOR=0`
/// and `TERM=dumb` disable it, otherwise colour when the output is a terminal. (`NO_COLOR` is
/// already part of the configured choice: it sets `never` unless a file or flag says otherwise.)
pub fn use_color(choice: ColorChoice, env: &Env, is_tty: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never | ColorChoice::Debug => false,
        ColorChoice::Auto => {
            if env.get_nonempty("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if env.get("CLICOLOR") == Some("0") || env.get("TERM") == Some("dumb") {
                false
            } else {
                is_tty
            }
        }
    }
}

/// Whether the terminal shows 256 colours or more (`COLORTERM=truecolor|24bit`, or a `TERM`
/// naming 256 colours), so changes can get background tints.
pub fn many_colors(env: &Env) -> bool {
    env.get("COLORTERM")
        .is_some_and(|c| c.eq_ignore_ascii_case("truecolor") || c.eq_ignore_ascii_case("24bit"))
        || env.get("TERM").is_some_and(|t| t.contains("256color"))
}

/// Output width: `--width` (or config) > `$COLUMNS` > the terminal > 80.
pub fn width(configured: Option<u16>, env: &Env, terminal: &Terminal) -> usize {
    configured
        .or_else(|| env.get("COLUMNS").and_then(|c| c.trim().parse().ok()))
        .filter(|&w| w > 0)
        .or(terminal.columns)
        .map_or(80, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_TTY: Terminal = Terminal {
        stdin_is_tty: false,
        stdout_is_tty: false,
        stderr_is_tty: false,
        columns: None,
    };

    #[test]
    fn color_resolution() {
        let env = Env::from_pairs([("TERM", "xterm")]);
        assert!(use_color(ColorChoice::Auto, &env, true));
        assert!(!use_color(ColorChoice::Auto, &env, false));
        assert!(use_color(ColorChoice::Always, &env, false));
        assert!(!use_color(ColorChoice::Never, &env, true));
        let forced = Env::from_pairs([("CLICOLOR_FORCE", "1")]);
        assert!(use_color(ColorChoice::Auto, &forced, false));
        let dumb = Env::from_pairs([("TERM", "dumb")]);
        assert!(!use_color(ColorChoice::Auto, &dumb, true));
    }

    #[test]
    fn width_resolution() {
        let env = Env::from_pairs([("COLUMNS", "120")]);
        assert_eq!(width(Some(60), &env, &NO_TTY), 60);
        assert_eq!(width(None, &env, &NO_TTY), 120);
        let tty = Terminal {
            columns: Some(100),
            ..NO_TTY
        };
        assert_eq!(width(None, &Env::default(), &tty), 100);
        assert_eq!(
            width(None, &Env::from_pairs([("COLUMNS", "x")]), &NO_TTY),
            80
        );
    }
}
