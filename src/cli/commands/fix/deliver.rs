//! Where a finished document goes, and writing it there: stdout, a file (`-o`, or next to the
//! input under its output name, or mirrored under an output folder), or the input itself
//! (`--in-place`, keeping a backup). Decisions from an earlier review are applied to
//! paragraphs that came out the same, the review record is saved beside the output, and every
//! write goes through [`Outputs`]: a file klartext did not write is never replaced without
//! `--force`, and a backup never replaces anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::inputs::{Mode, is_folder_output, is_stdin};
use crate::cli::args::FixArgs;
use crate::cli::printer::{Hinted, Printer};
use crate::config::Lang;
use crate::files::{self, Backup, Decoded, FileError, Outputs};
use crate::pipeline::{Input, Outcome, Work};
use crate::review::{self, Decisions, Record};

/// Where a document's result goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Offline without -o or --in-place: only show the diff.
    Nowhere,
    Stdout,
    File(PathBuf),
    /// Inside the output folder (`-o FOLDER`): missing subfolders are created.
    Below(PathBuf),
    InPlace(PathBuf),
}

/// The rule that names every document's destination in a run.
pub struct Destinations {
    output: Option<PathBuf>,
    /// `-o` names a folder: each result goes below it under its output name (mirrored for
    /// folders).
    into_folder: bool,
    in_place: bool,
    /// The language of the results when API passes run; offline the result is German.
    online: Option<Lang>,
}

impl Destinations {
    pub fn new(args: &FixArgs, mode: Mode, online: Option<Lang>) -> Self {
        let into_folder =
            mode == Mode::Tree || args.output.as_deref().is_some_and(is_folder_output);
        Self {
            output: args.output.clone(),
            into_folder,
            in_place: args.in_place,
            online,
        }
    }

    pub fn of(&self, input: &Input) -> anyhow::Result<Destination> {
        let lang = self.online.unwrap_or(Lang::De);
        let path = input.path();
        Ok(match (&self.output, self.in_place) {
            (Some(out), _) if is_stdin(out) => Destination::Stdout,
            (Some(dir), _) if self.into_folder => {
                if path.is_none() {
                    anyhow::bail!(Hinted::new(
                        format!("-o {} is a folder, and stdin has no name", dir.display()),
                        "name the output file: -o FOLDER/NAME.txt"
                    ));
                }
                Destination::Below(dir.join(files::output_path(&input.relative, lang)))
            }
            (Some(out), _) => {
                if path.is_some_and(|p| same_file(p, out)) {
                    anyhow::bail!(Hinted::new(
                        format!("-o {} is the input itself", out.display()),
                        "use --in-place to replace the input (it keeps a .bak copy)"
                    ));
                }
                Destination::File(out.clone())
            }
            (None, true) => match path {
                Some(path) => Destination::InPlace(path.to_owned()),
                None => Destination::Stdout,
            },
            (None, false) => match path {
                None => Destination::Stdout,
                Some(path) if self.online.is_some() => {
                    Destination::File(files::output_path(path, lang))
                }
                Some(_) => Destination::Nowhere,
            },
        })
    }
}

/// What became of a document's result.
pub struct Delivered {
    pub destination: Destination,
    /// The file written, if any.
    pub output: Option<PathBuf>,
    /// The result itself, for the JSON report, when it would otherwise have gone to stdout.
    pub text: Option<String>,
}

/// Write `outcome`'s result (which must have one) to `destination`.
pub fn deliver(
    input: &Input,
    outcome: &Outcome,
    destination: Destination,
    args: &FixArgs,
    printer: &Printer,
    outputs: &mut Outputs,
    out: &mut dyn Write,
) -> anyhow::Result<Delivered> {
    let Some(mut text) = outcome.text() else {
        anyhow::bail!("{}: there is no result to write", input.name());
    };
    let mut record = match &outcome.work {
        Work::Translated {
            record: Some(record),
            ..
        } => Some(record.as_ref().clone()),
        _ => None,
    };
    // Decisions from an earlier review still hold for paragraphs that came out the same.
    if let (
        Destination::File(target) | Destination::Below(target) | Destination::InPlace(target),
        Some(record),
    ) = (&destination, &mut record)
    {
        record.output = file_name(target);
        if let Some(reviewed) = with_saved_decisions(record, target, printer)? {
            text = reviewed;
        }
    }
    let decoded = &outcome.decoded;
    let mut output = None;
    let mut kept_text = None;
    match &destination {
        Destination::Nowhere => {}
        Destination::Stdout if args.json => kept_text = Some(text),
        Destination::Stdout => {
            let bytes = encode(Path::new("stdout"), &text, decoded)?;
            out.write_all(&bytes)?;
            out.flush()?;
        }
        Destination::File(target) | Destination::Below(target) => {
            let bytes = encode(target, &text, decoded)?;
            outputs.check(target)?;
            if let (Destination::Below(_), Some(parent)) = (&destination, target.parent()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
            }
            outputs.write(target, &bytes)?;
            printer.note(&format!("wrote {}", target.display()));
            save_record(record.as_ref(), target, printer);
            output = Some(target.clone());
        }
        Destination::InPlace(target) if text == decoded.text => {
            printer.note(&format!(
                "{}: nothing to change, left as it was",
                target.display()
            ));
        }
        Destination::InPlace(target) => {
            let bytes = encode(target, &text, decoded)?;
            match outputs.rewrite_input(target, &bytes, !args.no_backup)? {
                Some(Backup::Written {
                    path,
                    taken: Some(taken),
                }) => printer.note(&format!(
                    "{} is taken; kept {} as it was in {}",
                    taken.display(),
                    target.display(),
                    path.display()
                )),
                Some(Backup::Written { path, taken: None } | Backup::Kept { path: Some(path) }) => {
                    printer.detail(&format!("kept {}", path.display()));
                }
                Some(Backup::Kept { path: None }) => printer.detail(&format!(
                    "{} held klartext's own earlier result: no backup needed",
                    target.display()
                )),
                None => {}
            }
            printer.note(&format!("rewrote {}", target.display()));
            save_record(record.as_ref(), target, printer);
            output = Some(target.clone());
        }
    }
    Ok(Delivered {
        destination,
        output,
        text: kept_text,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The output with the saved review decisions about `target` applied, when there are any that
/// still match their paragraphs. Saved decisions that cannot be read are an error: writing
/// without them would silently undo a review.
fn with_saved_decisions(
    record: &Record,
    target: &Path,
    printer: &Printer,
) -> anyhow::Result<Option<String>> {
    let Some(saved) = Decisions::read(target)? else {
        return Ok(None);
    };
    let doc = review::Doc::new(String::new(), record.clone(), &saved, String::new());
    // Partly decided paragraphs count: their decided changes are kept too.
    let kept = doc
        .items
        .iter()
        .filter(|i| i.reviewable() && i.verdict != review::Verdict::Pending)
        .count();
    let stale = saved.stale(record);
    if stale > 0 {
        printer.note(&format!(
            "{}: {stale} review {} dropped: their paragraphs were translated anew",
            target.display(),
            crate::count::plural(stale, "decision", "decisions")
        ));
    }
    if kept == 0 {
        return Ok(None);
    }
    printer.note(&format!(
        "{}: kept {kept} review {} for unchanged paragraphs",
        target.display(),
        crate::count::plural(kept, "decision", "decisions")
    ));
    Ok(Some(doc.text()))
}

/// Save `record` beside the output it describes. Failing to is not fatal: the output is
/// written; only a later review needs the record.
fn save_record(record: Option<&Record>, target: &Path, printer: &Printer) {
    if let Some(Err(err)) = record.map(|r| r.save(target)) {
        printer.warn(&format!(
            "wrote {}, but not its review record: {err}",
            target.display()
        ));
    }
}

fn encode(target: &Path, text: &str, like: &Decoded) -> Result<Vec<u8>, FileError> {
    files::encode_for(target, text, like.encoding, like.line_ending)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
