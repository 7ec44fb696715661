//! What `fix` was given: files named one by one (and `-` for stdin), or folders, walked with
//! the ignore rules and globs, their outputs mirrored under `-o OUT`.

use std::path::{Path, PathBuf};

use crate::cli::Context;
use crate::cli::args::FixArgs;
use crate::cli::printer::Hinted;
use crate::files::{self, Patterns, Rules, Skipped};
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

/// The inputs in order, and how they were given.
pub fn collect(args: &FixArgs, ctx: &Context) -> anyhow::Result<(Mode, Vec<Input>)> {
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
        return Ok((Mode::Files, inputs));
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
    let mut inputs = Vec::new();
    for path in &args.paths {
        if !path.is_dir() {
            inputs.push(Input::file(path.clone(), file_name(path)));
            continue;
        }
        if let Some(out) = &args.output {
            check_out_not_inside(path, out, &patterns)?;
        }
        let (found, skipped) = files::walk(path, &patterns, rules)?;
        let mut links = Vec::new();
        for skip in skipped {
            match skip {
                Skipped::Output(p) => ctx
                    .printer
                    .trace(&format!("skipped {} (a klartext output)", p.display())),
                Skipped::Symlink(p) => links.push(p),
                Skipped::Unreadable(why) => ctx.printer.warn(&format!("skipped: {why}")),
            }
        }
        if !links.is_empty() {
            let names: Vec<String> = links.iter().map(|p| p.display().to_string()).collect();
            ctx.printer.note(&format!(
                "{} {} not followed: {} (--follow follows symlinks)",
                links.len(),
                crate::count::plural(links.len(), "symlink", "symlinks"),
                names.join(", ")
            ));
        }
        for f in found {
            if let Some(real) = &f.outside {
                ctx.printer.warn(&format!(
                    "{} is a symlink to {}, outside {} (read because of --follow)",
                    f.path.display(),
                    real.display(),
                    path.display()
                ));
            }
            inputs.push(Input::file(f.path, f.relative));
        }
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
    Ok((Mode::Tree, inputs))
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
