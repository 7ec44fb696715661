//! What `fix` was given: files named one by one (and `-` for stdin), or folders, walked with
//! the ignore rules and globs while the run goes on, their outputs mirrored under `-o OUT`.

use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use tokio::sync::oneshot;

use crate::cli::args::FixArgs;
use crate::cli::printer::{Hinted, Printer};
use crate::files::{self, Found, Patterns, Rules, Skipped};
use crate::pipeline::Input;

const STDIN: &str = "-";

/// How the inputs were given. It decides what the user sees and where outputs go, never how a
/// document is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Files named one by one: each is shown (its diff, its notes) as it finishes, in order.
    Files,
    /// At least one folder: a progress bar, outputs mirrored under `-o OUT`, a summary and
    /// `OUT/klartext-report.json`.
    Tree,
}

pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// `-o` names a folder when it is one, or when it ends with a slash (then it is created when
/// missing); otherwise it names a file.
pub fn is_folder_output(out: &Path) -> bool {
    let slash = out
        .as_os_str()
        .to_string_lossy()
        .chars()
        .last()
        .is_some_and(std::path::is_separator);
    !is_stdin(out) && (slash || out.is_dir())
}

/// What `fix` was given.
pub enum Inputs {
    /// Files named one by one (and `-` for stdin), in order.
    Listed(Vec<Input>),
    /// At least one folder: walked while the run goes on, so the first requests leave while
    /// a large folder is still being walked.
    Walked(Walk),
}

/// The folders to walk and the files given beside them, in the order given; every pattern
/// and the output folder were checked before anything is walked.
pub struct Walk {
    sources: Vec<Source>,
}

enum Source {
    File(Input),
    Folder {
        root: PathBuf,
        steps: Box<dyn Iterator<Item = Result<Found, Skipped>> + Send>,
    },
}

/// Who hears of a walk as it goes.
pub trait Listener: Send + 'static {
    /// One more input was found.
    fn found(&self);
    /// A message about what was skipped: `print` prints it.
    fn say(&self, print: &dyn Fn(&Printer));
}

/// A walk under way: the inputs as they are found, and once it has ended, every input's name
/// in the order found.
pub struct Walking {
    pub inputs: BoxStream<'static, Input>,
    pub names: oneshot::Receiver<Vec<String>>,
}

impl Walk {
    /// The files given beside the folders.
    pub fn files(&self) -> impl Iterator<Item = &Input> {
        self.sources.iter().filter_map(|source| match source {
            Source::File(input) => Some(input),
            Source::Folder { .. } => None,
        })
    }

    /// The folders walked.
    pub fn folders(&self) -> impl Iterator<Item = &Path> {
        self.sources.iter().filter_map(|source| match source {
            Source::File(_) => None,
            Source::Folder { root, .. } => Some(root.as_path()),
        })
    }

    /// Walk on a thread of its own, telling `listener` of each input and of what was skipped.
    pub fn start(self, listener: impl Listener) -> anyhow::Result<Walking> {
        let (send, receive) = tokio::sync::mpsc::unbounded_channel();
        let (names_sent, names) = oneshot::channel();
        let Self { sources } = self;
        let walk = move || {
            let mut names = Vec::new();
            let mut give = |input: Input| {
                names.push(input.name());
                listener.found();
                // The run may have stopped reading (a closed output): the walk ends with it.
                send.send(input).is_ok()
            };
            for source in sources {
                let (root, steps) = match source {
                    Source::File(input) => {
                        if !give(input) {
                            return;
                        }
                        continue;
                    }
                    Source::Folder { root, steps } => (root, steps),
                };
                let mut links = Vec::new();
                for step in steps {
                    let f = match step {
                        Ok(f) => f,
                        Err(Skipped::Output(p)) => {
                            listener.say(&|out: &Printer| {
                                out.trace(&format!("skipped {} (a klartext output)", p.display()));
                            });
                            continue;
                        }
                        Err(Skipped::Symlink(p)) => {
                            links.push(p);
                            continue;
                        }
                        Err(Skipped::Unreadable(why)) => {
                            listener.say(&|out: &Printer| out.warn(&format!("skipped: {why}")));
                            continue;
                        }
                    };
                    if let Some(real) = &f.outside {
                        listener.say(&|out: &Printer| {
                            out.warn(&format!(
                                "{} is a symlink to {}, outside {} (read because of --follow)",
                                f.path.display(),
                                real.display(),
                                root.display()
                            ));
                        });
                    }
                    if !give(Input::file(f.path, f.relative)) {
                        return;
                    }
                }
                if !links.is_empty() {
                    let names: Vec<String> =
                        links.iter().map(|p| p.display().to_string()).collect();
                    listener.say(&|out: &Printer| {
                        out.note(&format!(
                            "{} {} not followed: {} (--follow follows symlinks)",
                            links.len(),
                            crate::count::plural(links.len(), "symlink", "symlinks"),
                            names.join(", ")
                        ));
                    });
                }
            }
            // Before the inputs end: whoever sees their end finds the names there.
            let _ = names_sent.send(names);
            drop(send);
        };
        std::thread::Builder::new()
            .name("klartext-walk".to_owned())
            .spawn(walk)
            .map_err(|e| anyhow::anyhow!("cannot start walking the folders: {e}"))?;
        let inputs = futures_util::stream::unfold(receive, |mut receive| async move {
            receive.recv().await.map(|input| (input, receive))
        })
        .boxed();
        Ok(Walking { inputs, names })
    }
}

/// The inputs, and how they were given. Folders are not walked yet: see [`Walk::start`].
pub fn collect(args: &FixArgs) -> anyhow::Result<(Mode, Inputs)> {
    if !args.paths.iter().any(|p| p.is_dir()) {
        let inputs: Vec<Input> = args
            .paths
            .iter()
            .map(|path| match is_stdin(path) {
                true => Input::stdin(),
                false => Input::file(path.clone(), file_name(path)),
            })
            .collect();
        if let Some(out) = args.output.as_deref().filter(|o| is_folder_output(o)) {
            same_names(&inputs, out)?;
        }
        return Ok((Mode::Files, Inputs::Listed(inputs)));
    }
    if args.in_place {
        anyhow::bail!(Hinted::new(
            "--in-place is for files; a folder's results go to -o OUT or next to each input",
            "use -o OUT to mirror the folder"
        ));
    }
    let patterns = Patterns {
        include: if args.glob.is_empty() {
            files::DEFAULT_GLOBS
                .iter()
                .map(|g| (*g).to_owned())
                .collect()
        } else {
            args.glob.clone()
        },
        exclude: args.exclude.clone(),
    };
    let rules = Rules {
        hidden: args.hidden,
        no_ignore: args.no_ignore,
        follow: args.follow,
    };
    let mut sources = Vec::new();
    for path in &args.paths {
        if !path.is_dir() {
            sources.push(Source::File(Input::file(path.clone(), file_name(path))));
            continue;
        }
        if let Some(out) = &args.output {
            check_out_not_inside(path, out, &patterns)?;
        }
        let steps = files::walker(path, &patterns, rules)?;
        sources.push(Source::Folder {
            root: path.clone(),
            steps: Box::new(steps),
        });
    }
    if let Some(out) = &args.output {
        if out.exists() && !out.is_dir() {
            anyhow::bail!(Hinted::new(
                format!(
                    "-o {} is a file; a folder's results need a folder",
                    out.display()
                ),
                "name a folder (it is created if missing)"
            ));
        }
        std::fs::create_dir_all(out)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    }
    Ok((Mode::Tree, Inputs::Walked(Walk { sources })))
}

/// Files named one by one into `-o FOLDER` go there under their names alone: two inputs with
/// the same name would write the same output.
fn same_names(inputs: &[Input], out: &Path) -> anyhow::Result<()> {
    let mut seen = std::collections::HashMap::new();
    for input in inputs {
        let Some(path) = input.path() else { continue };
        if let Some(first) = seen.insert(input.relative.clone(), path) {
            anyhow::bail!(Hinted::new(
                format!(
                    "{} and {} would both be written into {} as {}",
                    first.display(),
                    path.display(),
                    out.display(),
                    input.relative.display()
                ),
                "give their folders instead, to mirror the tree: klartext fix DIR... -o OUT"
            ));
        }
    }
    Ok(())
}

/// A file given by itself is mirrored as its name alone.
fn file_name(path: &Path) -> PathBuf {
    PathBuf::from(path.file_name().unwrap_or(path.as_os_str()))
}

/// OUT inside an input folder would be walked as input next time; allowed only when excluded.
fn check_out_not_inside(root: &Path, out: &Path, patterns: &Patterns) -> anyhow::Result<()> {
    let (Ok(root_abs), Ok(out_abs)) = (std::path::absolute(root), std::path::absolute(out)) else {
        return Ok(());
    };
    let root_abs = root_abs.canonicalize().unwrap_or(root_abs);
    let out_abs = out_abs.canonicalize().unwrap_or(out_abs);
    if out_abs.starts_with(&root_abs) && !patterns.excludes(&root_abs, &out_abs) {
        let inside = out_abs.strip_prefix(&root_abs).unwrap_or(&out_abs);
        anyhow::bail!(Hinted::new(
            format!(
                "-o {} is inside the input folder {}",
                out.display(),
                root.display()
            ),
            format!(
                "choose a folder outside it, or exclude it: --exclude '{}/'",
                inside.display()
            )
        ));
    }
    Ok(())
}
