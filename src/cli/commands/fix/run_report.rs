//! The reports of a whole run: a folder run's `OUT/klartext-report.json` (the run record,
//! `klartext.run/2`) and `--report FILE` when the run has more than one file — one HTML page
//! or Markdown file with a summary table and a section per file, or the run record with each
//! file's change record. Each file's part is written to a [`Spool`] the moment it finishes,
//! so no document's text stays in memory; at the end of the run (after Ctrl-C or a quota
//! stop too, covering what was done) the parts are put together in the run's order behind the
//! summary, and written through [`Outputs`].

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::PathBuf;

use anyhow::Context as _;

use super::inputs::Mode;
use super::report::{FileEntry, FileReport, FileStatus, RunHead};
use super::show::Comparison;
use crate::backend::Usage;
use crate::cli::args::{FixArgs, ReportFormat, ReportPath};
use crate::config::Lang;
use crate::count::grouped;
use crate::files::{self, Outputs, Spool};
use crate::pipeline::{Input, Outcome, Work};
use crate::render::report::{self, run};
use crate::review::xliff;

/// Whether `--report FILE` is the report of one document (files named one by one, only one
/// of them) rather than of the run.
pub fn is_per_file(mode: Mode, inputs: usize) -> bool {
    mode == Mode::Files && inputs == 1
}

/// Where a folder run with `-o OUT` writes its record: `OUT/klartext-report.json`.
pub fn record_path(mode: Mode, args: &FixArgs) -> Option<PathBuf> {
    match (mode, &args.output) {
        (Mode::Tree, Some(out)) => Some(out.join(files::REPORT_NAME)),
        _ => None,
    }
}

/// The run's reports while it goes: every finished file's part, spooled.
pub struct RunReports {
    /// Each input's place in the run's order (by name for a folder run, as given otherwise),
    /// by its name; a name given twice has two, the first on top. `None` until every name is
    /// known (a folder is walked while the run goes on).
    places: Option<HashMap<String, Vec<usize>>>,
    mode: Mode,
    files: usize,
    /// Files finished under a name no input had (none, but a report loses no file): placed
    /// after the others.
    unplaced: usize,
    to: Lang,
    /// `OUT/klartext-report.json`.
    record: Option<(PathBuf, Spool)>,
    /// `--report FILE` over the run.
    named: Option<(ReportPath, Spool)>,
    /// The HTML or Markdown report's summary rows.
    rows: Vec<run::FileRow>,
    /// The first failure to spool a part; the reports cannot be written then.
    broken: Option<io::Error>,
    /// Each backend's model, for a TMX report's units.
    models: BTreeMap<String, String>,
    /// When the run started: the TMX units' date.
    started: i64,
}

/// What the reports say about the run as a whole, given at its end.
pub struct Closing<'a> {
    pub head: &'a RunHead<'a>,
    /// The page's title: the command that ran.
    pub title: &'a str,
    /// The run's counts and what stopped it, as the terminal summary says them.
    pub facts: &'a [(String, String)],
}

impl RunReports {
    /// The reports of a run over `inputs`, or (`None`) over inputs still being walked: then
    /// nothing may be added before [`RunReports::place`] is told every name.
    pub fn new(
        mode: Mode,
        args: &FixArgs,
        inputs: Option<&[Input]>,
        to: Lang,
    ) -> anyhow::Result<Self> {
        let spool = || Spool::new().context("cannot create a temporary file for the report");
        let record = match record_path(mode, args) {
            Some(path) => Some((path, spool()?)),
            None => None,
        };
        let named = match &args.display.report {
            Some(report) if !is_per_file(mode, inputs.map_or(0, <[Input]>::len)) => {
                Some((report.clone(), spool()?))
            }
            _ => None,
        };
        let mut reports = Self {
            places: None,
            mode,
            files: 0,
            unplaced: 0,
            to,
            record,
            named,
            rows: Vec::new(),
            broken: None,
            models: BTreeMap::new(),
            started: crate::cache::unix_now(),
        };
        if let Some(inputs) = inputs {
            reports.place(inputs.iter().map(Input::name).collect());
        }
        Ok(reports)
    }

    /// Each backend's model by its name, for a TMX report.
    pub fn with_models(mut self, models: BTreeMap<String, String>) -> Self {
        self.models = models;
        self
    }

    /// Every input's name, in the run's order as given (a folder run lists them by name).
    pub fn place(&mut self, mut names: Vec<String>) {
        if self.mode == Mode::Tree {
            // As the summary lists them.
            names.sort();
        }
        let mut places: HashMap<String, Vec<usize>> = HashMap::new();
        self.files = names.len();
        for (place, name) in names.into_iter().enumerate().rev() {
            places.entry(name).or_default().push(place);
        }
        self.places = Some(places);
    }

    /// Whether files can be added now: every name is known, or there is nothing to spool.
    pub fn placed(&self) -> bool {
        self.places.is_some() || (self.record.is_none() && self.named.is_none())
    }

    /// Spool a finished file's parts: its record entry, and its section of `--report`.
    /// `outcome` is what the pipeline made of it, if it was read at all.
    pub fn add(&mut self, report: &FileReport, outcome: Option<&Outcome>) {
        if self.record.is_none() && self.named.is_none() {
            return;
        }
        let place = match self
            .places
            .as_mut()
            .and_then(|p| p.get_mut(&report.input))
            .and_then(Vec::pop)
        {
            Some(place) => place,
            None => {
                self.unplaced += 1;
                self.files + self.unplaced - 1
            }
        };
        if let Err(err) = self.spool(place, report, outcome) {
            self.broken.get_or_insert(err);
        }
    }

    fn spool(
        &mut self,
        place: usize,
        report: &FileReport,
        outcome: Option<&Outcome>,
    ) -> io::Result<()> {
        if let Some((_, spool)) = &mut self.record {
            spool_entry(spool, place, &FileEntry::new(report, outcome))?;
        }
        let Some((named, spool)) = &mut self.named else {
            return Ok(());
        };
        // The texts side by side, for a file that finished with something to show, in a
        // report that shows them (TMX and XLIFF hold translation units instead).
        let shown = outcome
            .filter(|o| report.finished() && !matches!(o.work, Work::Empty))
            .filter(|_| !matches!(named.format, ReportFormat::Tmx | ReportFormat::Xliff))
            .map(|o| Comparison::of(o, self.to));
        let diff = shown
            .as_ref()
            .map(|c| c.report_input(Some(report.input.as_str())));
        let row = row(place + 1, report);
        let open = run::sections_open(self.files);
        match named.format {
            // A file that was not translated (or not to the end) has no units to offer.
            ReportFormat::Xliff => {
                if let Some(record) = outcome.and_then(Outcome::record) {
                    spool.put(place, |out| {
                        xliff::write_file(record, env!("CARGO_PKG_VERSION"), out)
                    })?;
                }
            }
            ReportFormat::Html => {
                spool.put(place, |out| {
                    run::html_section(&row, diff.as_ref(), open, out)
                })?;
            }
            ReportFormat::Markdown => {
                spool.put(place, |out| run::markdown_section(&row, diff.as_ref(), out))?;
            }
            ReportFormat::Tmx => {
                // Every segment that finished, in a file that failed too.
                if let Some(outcome) = outcome {
                    let (models, started, to) = (&self.models, self.started, self.to);
                    spool.put(place, |out| {
                        super::tmx::units(outcome, &report.input, models, started, to, out)
                            .map(|_| ())
                    })?;
                }
            }
            ReportFormat::Json => {
                let mut entry = FileEntry::new(report, outcome);
                entry.diff = diff
                    .as_ref()
                    .map(report::json_value)
                    .transpose()
                    .map_err(io::Error::other)?;
                spool_entry(spool, place, &entry)?;
            }
        }
        self.rows.push(row);
        Ok(())
    }

    /// Put the reports together and write them; the files written.
    pub fn finish(
        mut self,
        closing: &Closing,
        outputs: &mut Outputs,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        let places = self.files + self.unplaced;
        if let Some(err) = self.broken.take() {
            let paths = self.record.iter().map(|(p, _)| p.clone());
            let names = self.named.iter().map(|(r, _)| r.path.clone());
            let all: Vec<String> = paths
                .chain(names)
                .map(|p| p.display().to_string())
                .collect();
            anyhow::bail!("cannot write {}: {err}", all.join(" and "));
        }
        if let Some((path, mut spool)) = self.record.take() {
            outputs.write_with(&path, |out| {
                write_record(closing.head, &mut spool, places, out)
            })?;
            written.push(path);
        }
        if let Some((named, mut spool)) = self.named.take() {
            self.rows.sort_by_key(|row| row.number);
            let head = run::RunHead {
                title: closing.title,
                generator: super::super::GENERATOR,
                facts: closing.facts,
            };
            let rows = &self.rows;
            let section = |spool: &mut Spool, row: &run::FileRow, out: &mut dyn Write| {
                spool.copy(row.number - 1, out).map(|_| ())
            };
            outputs.write_with(&named.path, |out| match named.format {
                ReportFormat::Html => {
                    run::html(&head, rows, |row, out| section(&mut spool, row, out), out)
                }
                ReportFormat::Markdown => {
                    run::markdown(&head, rows, |row, out| section(&mut spool, row, out), out)
                }
                ReportFormat::Json => write_record(closing.head, &mut spool, places, out),
                ReportFormat::Tmx => {
                    let langs = super::tmx::langs(self.to);
                    crate::tmx::head(out, env!("CARGO_PKG_VERSION"), self.started, langs)?;
                    spool.copy_all(out)?;
                    crate::tmx::tail(out)
                }
                ReportFormat::Xliff => {
                    xliff::write_head(out)?;
                    spool.copy_all(out)?;
                    xliff::write_tail(out)
                }
            })?;
            written.push(named.path);
        }
        Ok(written)
    }
}

/// A file's row in the summary table.
fn row(number: usize, report: &FileReport) -> run::FileRow {
    run::FileRow {
        number,
        name: report.input.clone(),
        output: report.output.clone(),
        status: match report.status {
            FileStatus::Ok => run::FileStatus::Ok,
            FileStatus::Flagged => run::FileStatus::Flagged,
            FileStatus::Failed => run::FileStatus::Failed,
            FileStatus::NotStarted => run::FileStatus::NotStarted,
            FileStatus::Empty => run::FileStatus::Empty,
        },
        why: report.error.clone(),
        paragraphs: report.counts.paragraphs,
        changed: report.counts.changed,
        errors: report.counts.errors,
        warnings: report.counts.warnings,
        infos: report.counts.infos,
        doubts: report.counts.doubts,
        backends: report.backends.line(),
        usage: usage_cell(&report.usage),
    }
}

/// "openai: 1,200 tokens; deepl: 3,969 characters".
fn usage_cell(usage: &std::collections::BTreeMap<String, Usage>) -> String {
    let parts: Vec<String> = usage
        .iter()
        .map(|(name, u)| {
            if u.billed_characters > 0 {
                format!("{name}: {} characters", grouped(u.billed_characters))
            } else {
                let tokens = u.input_tokens + u.output_tokens;
                format!("{name}: {} tokens", grouped(tokens))
            }
        })
        .collect();
    parts.join("; ")
}

/// A file's record entry as pretty JSON, indented to sit in the run record's `files`.
fn spool_entry(spool: &mut Spool, place: usize, entry: &FileEntry) -> io::Result<()> {
    let text = serde_json::to_string_pretty(entry).map_err(io::Error::other)?;
    let text = report::escape_invisible(&text);
    spool.put(place, |out| {
        for (n, line) in text.lines().enumerate() {
            if n > 0 {
                out.write_all(b"\n")?;
            }
            write!(out, "    {line}")?;
        }
        Ok(())
    })
}

/// The run record: `head`'s fields, then `files` with every spooled entry in order. JSON
/// strings hold no raw line breaks, so the head's closing brace is its last line.
fn write_record(
    head: &RunHead,
    spool: &mut Spool,
    places: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let text = serde_json::to_string_pretty(head).map_err(io::Error::other)?;
    let open = text
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(&text)
        .trim_end();
    write!(out, "{},\n  \"files\": [", report::escape_invisible(open))?;
    let mut any = false;
    for place in 0..places {
        if !spool.has(place) {
            continue;
        }
        out.write_all(if any { b",\n" } else { b"\n" })?;
        spool.copy(place, out)?;
        any = true;
    }
    out.write_all(if any { b"\n  ]\n}\n" } else { b"]\n}\n" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_cells_read_well() {
        let mut usage = std::collections::BTreeMap::new();
        assert_eq!(usage_cell(&usage), "");
        usage.insert(
            "deepl".to_owned(),
            Usage {
                requests: 1,
                billed_characters: 3969,
                ..Usage::default()
            },
        );
        usage.insert(
            "openai".to_owned(),
            Usage {
                requests: 2,
                input_tokens: 1000,
                output_tokens: 200,
                ..Usage::default()
            },
        );
        assert_eq!(
            usage_cell(&usage),
            "deepl: 3,969 characters; openai: 1,200 tokens"
        );
    }
}
