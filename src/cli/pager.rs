//! Long diffs go through a pager, the way git does it: `$KLARTEXT_PAGER`, else `$PAGER`, else
//! `less`; `less` gets `-FRX` (quit if one screen, keep colours, leave the screen as it was)
//! unless `$LESS` says otherwise, and `-R` is always ensured so colour survives. Quitting the
//! pager early is not an error.

use std::io::{self, BufWriter, Write};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::config::Env;
use crate::term::Terminal;

/// `--paging`
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Paging {
    /// Page when stdout is a terminal.
    Auto,
    Always,
    Never,
}

/// Where a command's report goes: straight to its output, or into a pager.
pub enum Output<'a> {
    Direct(&'a mut dyn Write),
    Pager {
        child: Child,
        input: Option<BufWriter<ChildStdin>>,
    },
}

impl<'a> Output<'a> {
    /// Open the pager `paging` asks for, falling back to `out` (the command's output, stdout)
    /// when none can start.
    pub fn open(paging: Paging, env: &Env, terminal: &Terminal, out: &'a mut dyn Write) -> Self {
        let wanted = match paging {
            Paging::Never => false,
            Paging::Always => true,
            Paging::Auto => terminal.stdout_is_tty,
        };
        // What the command wrote so far comes first; the pager writes to the same terminal.
        if wanted
            && out.flush().is_ok()
            && let Some((child, input)) = spawn(env)
        {
            return Self::Pager { child, input };
        }
        Self::Direct(out)
    }

    /// Flush, close the pager's input and wait until the reader quits it.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Self::Direct(out) => out.flush(),
            Self::Pager { mut child, input } => {
                if let Some(mut input) = input {
                    match input.flush() {
                        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => return Err(e),
                        _ => {}
                    }
                }
                child.wait().map(drop)
            }
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Direct(out) => out.write(buf),
            Self::Pager { input, .. } => match input.as_mut() {
                Some(input) => input.write(buf),
                None => Err(io::ErrorKind::BrokenPipe.into()),
            },
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Direct(out) => out.flush(),
            Self::Pager { input, .. } => input.as_mut().map_or(Ok(()), Write::flush),
        }
    }
}

/// The pager command as configured, split into program and arguments.
fn command_line(env: &Env) -> Vec<String> {
    let configured = env
        .get_nonempty("KLARTEXT_PAGER")
        .or_else(|| env.get_nonempty("PAGER"))
        .unwrap_or("less");
    configured.split_whitespace().map(str::to_owned).collect()
}

/// The pager and its input, if one is configured and starts.
fn spawn(env: &Env) -> Option<(Child, Option<BufWriter<ChildStdin>>)> {
    let mut words = command_line(env);
    if words.is_empty() {
        return None;
    }
    let program = words.remove(0);
    // `cat` or ourselves as the pager means no pager.
    let name = std::path::Path::new(&program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if name == "cat" || name == "klartext" {
        return None;
    }
    let mut command = Command::new(&program);
    command.args(&words).stdin(Stdio::piped());
    if name == "less" {
        match env.get("LESS") {
            None => {
                command.env("LESS", "FRX");
            }
            Some(flags) if !flags.contains('R') => {
                command.env("LESS", format!("{flags}R"));
            }
            Some(_) => {}
        }
        command.env("LESSCHARSET", "utf-8");
    }
    let mut child = command.spawn().ok()?;
    let input = child.stdin.take().map(BufWriter::new);
    Some((child, input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_precedence() {
        let env = Env::from_pairs([("PAGER", "most -s"), ("KLARTEXT_PAGER", "less -S")]);
        assert_eq!(command_line(&env), ["less", "-S"]);
        let env = Env::from_pairs([("PAGER", "most -s")]);
        assert_eq!(command_line(&env), ["most", "-s"]);
        assert_eq!(command_line(&Env::default()), ["less"]);
    }

    #[test]
    fn no_pager_without_a_terminal_unless_asked() {
        let terminal = Terminal {
            stdin_is_tty: false,
            stdout_is_tty: false,
            stderr_is_tty: false,
            columns: None,
        };
        let mut sink = Vec::new();
        assert!(matches!(
            Output::open(Paging::Auto, &Env::default(), &terminal, &mut sink),
            Output::Direct(_)
        ));
        let cat = Env::from_pairs([("PAGER", "cat")]);
        assert!(matches!(
            Output::open(Paging::Always, &cat, &terminal, &mut sink),
            Output::Direct(_)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn a_pager_that_quits_early_is_fine() {
        let terminal = Terminal {
            stdin_is_tty: false,
            stdout_is_tty: true,
            stderr_is_tty: false,
            columns: None,
        };
        // `true` reads nothing and exits at once: writes then hit a closed pipe.
        let env = Env::from_pairs([("PAGER", "true")]);
        let mut sink = Vec::new();
        let mut out = Output::open(Paging::Always, &env, &terminal, &mut sink);
        assert!(matches!(out, Output::Pager { .. }));
        let big = vec![b'x'; 1 << 20];
        let written = out.write_all(&big);
        assert!(written.is_ok() || written.is_err_and(|e| e.kind() == io::ErrorKind::BrokenPipe));
        let _ = out.finish();
    }
}
