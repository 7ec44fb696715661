//! What the user sees of a run while it goes: for files named one by one, each document's
//! diff (the German against its repairs offline, the draft against the final English
//! otherwise), its notes and `--report`; for folders, a progress bar, with per-file notes left
//! to the summary. Errors always show, above the bar.

use std::io::Write;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::deliver::{Delivered, Destination};
use super::inputs::{Listener, Mode};
use super::report::Detail;
use crate::cli::args::{FixArgs, ReportFormat};
use crate::cli::printer::{Hinted, Printer};
use crate::cli::{Context, pager};
use crate::config::Lang;
use crate::cost::money;
use crate::count::{counted, grouped, plural};
use crate::diff::{DiffOptions, DocumentDiff, diff_by_index};
use crate::files::Outputs;
use crate::pipeline::{
    Engine, Estimate, Input, LITERAL, Outcome, PassPlan, Progress, RefineOutcome, SegmentResult,
    Translated, Work,
};
use crate::render::{self, Note, NoteLevel, report as diff_report};
use crate::repair::RepairMark;
use crate::review::xliff;

/// The run's output on the terminal.
pub struct Display {
    mode: Mode,
    printer: Printer,
    bar: ProgressBar,
    /// Diffs are shown (files named one by one, neither `--json` nor `-q`).
    diffs: bool,
    /// Several files named: each gets a header, none is paged.
    several: bool,
    json: bool,
    online: bool,
    /// Finished paragraphs go into a cache that can be written: a rerun sends only the rest.
    keeps_results: bool,
    /// File headers printed so far.
    headers: usize,
    to: Lang,
    display: crate::cli::args::DisplayArgs,
    /// Batch mode: the jobs, for the progress line.
    jobs: Option<crate::pipeline::jobs::Jobs>,
    /// Each backend's model, for a TMX report's units.
    models: std::collections::BTreeMap<String, String>,
}

impl Display {
    pub fn new(
        args: &FixArgs,
        ctx: &Context,
        mode: Mode,
        count: usize,
        engine: Option<&Engine>,
    ) -> Self {
        let printer = ctx.printer.clone();
        let bar = match mode {
            // Batch mode may wait for hours: even one file gets the line that says where
            // its jobs are.
            _ if (mode == Mode::Tree || (args.batch_api && !args.dry_run))
                && !printer.is_quiet()
                && ctx.terminal.stderr_is_tty =>
            {
                progress_bar(count)
            }
            _ => ProgressBar::hidden(),
        };
        Self {
            mode,
            bar,
            diffs: mode == Mode::Files && !args.json && !printer.is_quiet(),
            several: args.paths.len() > 1,
            json: args.json,
            online: engine.is_some(),
            keeps_results: engine.is_some_and(Engine::keeps_results),
            headers: 0,
            to: ctx.settings.to.value,
            display: crate::cli::args::DisplayArgs {
                // Over several files `--report` covers the whole run (`run_report`).
                report: args
                    .display
                    .report
                    .clone()
                    .filter(|_| super::run_report::is_per_file(mode, count)),
                ..args.display.clone()
            },
            printer,
            jobs: None,
            models: super::tmx::models(engine),
        }
    }

    /// Show where the run's batch jobs are in the progress line.
    pub fn watch_jobs(&mut self, jobs: crate::pipeline::jobs::Jobs) {
        self.jobs = Some(jobs);
    }

    /// The printer for per-document notes ("wrote …"): silent for folders, whose summary
    /// counts them instead.
    pub fn printer(&self) -> Printer {
        match self.mode {
            Mode::Files => self.printer.clone(),
            Mode::Tree => self.printer.quietly(),
        }
    }

    /// How much of each document the report keeps: everything when it is printed (`--json`)
    /// or there are few documents; counts alone for a folder's report file, so memory stays
    /// flat in the number of files.
    pub fn detail(&self) -> Detail {
        if self.json || self.mode == Mode::Files {
            Detail::Full
        } else {
            Detail::Counts
        }
    }

    pub fn progress(&self, progress: &Progress) {
        let usage = progress.usage;
        let mut line = format!("{} ¶", grouped(progress.paragraphs));
        if self.online {
            line += &format!(
                " · {} req · {} retries · {} tok",
                grouped(usage.requests),
                grouped(usage.retries),
                grouped(usage.input_tokens + usage.output_tokens)
            );
            if usage.billed_characters > 0 {
                line += &format!(" · {} chars", grouped(usage.billed_characters));
            }
        }
        if let Some(jobs) = self
            .jobs
            .as_ref()
            .and_then(crate::pipeline::jobs::Jobs::line)
        {
            line += &format!(" · {jobs}");
        }
        self.bar.set_message(line);
    }

    /// Whether documents were shown as diffs (where verify's marks are).
    pub fn diffs_shown(&self) -> bool {
        self.diffs
    }

    pub fn finished_one(&self) {
        self.bar.inc(1);
    }

    /// What a folder's walk tells the display as it goes: one more input (the bar grows), and
    /// a message about what it skipped, printed with the bar out of the way.
    pub fn walk_listener(&self) -> WalkShown {
        WalkShown {
            bar: self.bar.clone(),
            printer: self.printer.clone(),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    pub fn error(&self, err: &anyhow::Error) {
        self.bar.suspend(|| self.printer.error(err));
    }

    pub fn note(&self, message: &str) {
        self.printer().note(message);
    }

    /// `══ name ══` before each of several files shown one after another.
    pub fn header(&mut self, input: &Input, out: &mut dyn Write) -> anyhow::Result<()> {
        if self.diffs && self.several {
            if self.headers > 0 {
                writeln!(out)?;
            }
            writeln!(out, "══ {} ══", render::sanitize(&input.name()))?;
            self.headers += 1;
        }
        Ok(())
    }

    /// With `-v`: what came from the cache and what was sent, and (where no diff shows them
    /// under their paragraphs) the model's notes per paragraph; after a fallback, always which
    /// backend did what (it changes cost and quality).
    pub fn details(&self, name: &str, translated: &Translated) {
        let printer = self.printer();
        for (side, pick) in [
            (
                "draft",
                (|s| s.draft_backend.as_deref()) as fn(&SegmentResult) -> Option<&str>,
            ),
            ("final", |s| s.final_backend.as_deref()),
        ] {
            let mut counts: Vec<(&str, usize)> = Vec::new();
            for backend in translated.segments.iter().filter_map(pick) {
                match counts.iter_mut().find(|(b, _)| *b == backend) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((backend, 1)),
                }
            }
            if counts.len() > 1 {
                let list: Vec<String> = counts.iter().map(|(b, n)| format!("{n} by {b}")).collect();
                printer.note(&format!("{name}: {side} paragraphs: {}", list.join(", ")));
            }
        }
        if self.to == Lang::En && !translated.has_literal() && translated.failed().next().is_none()
        {
            printer.note(&format!(
                "{name}: no literal (literal = none): the repaired German is shown beside the English"
            ));
        }
        let total = translated.segments.len();
        let cached = translated
            .segments
            .iter()
            .filter(|s| s.final_cached)
            .count();
        let remembered = translated
            .segments
            .iter()
            .filter(|s| s.final_backend.as_deref() == Some(crate::pipeline::MEMORY))
            .count();
        let memory = if remembered > 0 {
            format!(", {remembered} from the translation memory")
        } else {
            String::new()
        };
        printer.detail(&format!(
            "{name}: {cached} of {} from the cache{memory}, {} sent",
            counted(total, "paragraph", "paragraphs"),
            total - cached - remembered
        ));
        // The notes are under their paragraphs when a diff is shown.
        if !self.diffs {
            for seg in translated.segments.iter().filter(|s| !s.notes.is_empty()) {
                printer.detail(&format!(
                    "{name} ¶ {}: {}",
                    seg.id.paragraph(),
                    seg.notes.join("; ")
                ));
            }
        }
        let refined: Vec<&crate::pipeline::Refinement> = translated
            .segments
            .iter()
            .filter_map(|s| s.refine.as_ref())
            .collect();
        if !refined.is_empty() {
            let count = |outcome| refined.iter().filter(|r| r.outcome == outcome).count();
            let cached = refined.iter().filter(|r| r.cached).count();
            printer.detail(&format!(
                "{name}: refine: {} sent back ({cached} answered from the cache): {} resolved, \
                 {} improved, {} kept, {} failed",
                counted(refined.len(), "paragraph", "paragraphs"),
                count(RefineOutcome::Resolved),
                count(RefineOutcome::Improved),
                count(RefineOutcome::Kept),
                count(RefineOutcome::Failed),
            ));
        }
    }

    /// Report the segments that failed, one line per run of paragraphs that failed the same
    /// way; the error that says nothing was written.
    pub fn failures(&self, name: &str, failed: &[&SegmentResult]) -> anyhow::Error {
        fn why(s: &SegmentResult) -> &str {
            s.error.as_ref().map_or("no result", |e| e.message.as_str())
        }
        let mut at = 0;
        while at < failed.len() {
            let first = failed[at];
            let mut last = first;
            while at + 1 < failed.len()
                && why(failed[at + 1]) == why(first)
                && failed[at + 1].id.index() == last.id.index() + 1
            {
                at += 1;
                last = failed[at];
            }
            let which = if first.id == last.id {
                format!("¶ {} ({})", first.id.paragraph(), first.id)
            } else {
                format!(
                    "¶ {}–{} ({}–{})",
                    first.id.paragraph(),
                    last.id.paragraph(),
                    first.id,
                    last.id
                )
            };
            self.error(&anyhow::anyhow!("{name} {which}: {}", why(first)));
            at += 1;
        }
        let err = anyhow::Error::new(Hinted::new(
            format!(
                "{name}: {} {} failed; nothing was written",
                failed.len(),
                plural(failed.len(), "paragraph", "paragraphs")
            ),
            retry_hint(self.keeps_results),
        ));
        self.error(&err);
        err
    }

    /// After a document was written: its diff, `--report` (of one file), and (offline) what
    /// was repaired.
    pub fn show(
        &self,
        ctx: &Context,
        input: &Input,
        outcome: &Outcome,
        delivered: &Delivered,
        outputs: &mut Outputs,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        if self.mode == Mode::Tree {
            return Ok(());
        }
        // Built once, and only for the diff or a report that shows the texts side by side.
        let view = std::cell::OnceCell::new();
        let view = || view.get_or_init(|| Comparison::of(outcome, self.to));
        // Stdout carries the text itself when it is the destination; the diff would corrupt it.
        if self.diffs && delivered.destination != Destination::Stdout {
            self.show_diff(ctx, view(), outcome, out)?;
        }
        if let Some(report) = &self.display.report {
            let name = input.name();
            match report.format {
                ReportFormat::Tmx => outputs.write_with(&report.path, |out| {
                    super::tmx::document(outcome, &name, &self.models, self.to, out)
                })?,
                ReportFormat::Xliff => {
                    let Some(record) = outcome.record() else {
                        anyhow::bail!(Hinted::new(
                            format!(
                                "{}: an XLIFF report holds translations, and {name} was not \
                                 translated",
                                report.path.display(),
                            ),
                            "XLIFF needs a backend; offline, name the report FILE.html, FILE.md \
                             or FILE.json",
                        ));
                    };
                    outputs.write_with(&report.path, |out| {
                        xliff::write_head(out)?;
                        xliff::write_file(record, env!("CARGO_PKG_VERSION"), out)?;
                        xliff::write_tail(out)
                    })?;
                }
                ReportFormat::Html | ReportFormat::Markdown | ReportFormat::Json => {
                    let input_report = view().report_input(Some(&name));
                    let writer = super::super::report_writer(report.format);
                    outputs.write_with(&report.path, |out| writer(&input_report, out))?;
                }
            }
            self.printer
                .note(&format!("wrote {}", report.path.display()));
        }
        if let Work::Repaired { .. } = outcome.work {
            self.summarize_repairs(&input.name(), outcome);
        }
        Ok(())
    }

    fn show_diff(
        &self,
        ctx: &Context,
        view: &Comparison,
        outcome: &Outcome,
        out: &mut dyn Write,
    ) -> anyhow::Result<()> {
        let titles = (view.titles.0.as_str(), view.titles.1.as_str());
        let Some(mut opts) = super::super::render_options(ctx, &self.display, titles) else {
            return Ok(());
        };
        opts.notes = view.notes.clone();
        if let Some(source) = &view.source
            && opts.width >= render::THREE_PANE_WIDTH
        {
            opts.source = Some(("German".to_owned(), source.clone()));
            opts.source_repairs = view.source_repairs.clone();
        }
        // One file's diff may be paged; several print one after another.
        let paging = if self.several {
            pager::Paging::Never
        } else {
            self.display.paging
        };
        let mut out = pager::Output::open(paging, &ctx.env, &ctx.terminal, out);
        render::render_diff(&view.diff, &opts, &mut out).context("writing the diff")?;
        if let Work::Repaired { .. } = outcome.work {
            render::render_repairs(
                &outcome.repaired.segments,
                &outcome.decoded.text,
                &opts,
                &mut out,
            )
            .context("writing the repairs")?;
        }
        Ok(out.finish()?)
    }

    fn summarize_repairs(&self, name: &str, outcome: &Outcome) {
        let doc = &outcome.repaired;
        let touched = doc
            .segments
            .iter()
            .filter(|s| !s.repairs.is_empty())
            .count();
        // What the repairs could not fix safely is among verify's warnings, said once below.
        let paragraphs = counted(doc.segments.len(), "paragraph", "paragraphs");
        self.printer.note(&match doc.repair_count() {
            0 => format!("{name}: nothing to repair in {paragraphs}"),
            n => format!(
                "{name}: {} in {touched} of {paragraphs}",
                counted(n, "repair", "repairs")
            ),
        });
    }
}

/// What to do about paragraphs that did not finish.
pub fn retry_hint(keeps_results: bool) -> &'static str {
    if keeps_results {
        "finished paragraphs are cached: run the same command again to send only the rest"
    } else {
        "run the same command again to retry (without a cache it sends every paragraph again)"
    }
}

/// What the diff view and a report show of a document: two texts side by side, the German
/// for a third column, and the notes.
pub struct Comparison {
    titles: (String, String),
    diff: DocumentDiff,
    notes: Vec<Vec<Note>>,
    /// The German as it was sent (after the offline repairs), for a third column (English
    /// output only).
    source: Option<Vec<String>>,
    /// Where the repairs wrote in each `source` text.
    source_repairs: Vec<Vec<RepairMark>>,
    langs: diff_report::Langs<'static>,
}

impl Comparison {
    /// What a report shows of this comparison; `document` names it in the page's title.
    pub fn report_input<'a>(&'a self, document: Option<&'a str>) -> diff_report::ReportInput<'a> {
        diff_report::ReportInput {
            source: self.source.as_ref().map(|s| ("German", s.as_slice())),
            source_repairs: &self.source_repairs,
            document,
            notes: &self.notes,
            langs: self.langs,
            ..diff_report::ReportInput::new(
                &self.diff,
                (&self.titles.0, &self.titles.1),
                super::super::GENERATOR,
            )
        }
    }

    pub fn of(outcome: &Outcome, to: Lang) -> Comparison {
        let segments = outcome.repaired.segments.len();
        let mut notes = render::notes_by_segment(outcome.findings(), segments);
        add_refine_notes(&mut notes, outcome);
        match outcome.translated() {
            None => {
                let (old, new) = outcome.repaired.sides(&outcome.decoded.text);
                Comparison {
                    titles: ("source".to_owned(), "repaired".to_owned()),
                    diff: diff_by_index(&old, &new, &DiffOptions::default()),
                    notes,
                    source: None,
                    source_repairs: Vec::new(),
                    langs: diff_report::Langs {
                        old: Some("de"),
                        new: Some("de"),
                        source: None,
                    },
                }
            }
            Some(translated) => {
                let sides = translated.sides(to);
                // Without a draft the repaired German stands in, so the view has two sides.
                let old: Vec<&str> = sides
                    .old
                    .iter()
                    .zip(&translated.segments)
                    .map(|(old, s)| old.unwrap_or(&s.repaired))
                    .collect();
                Comparison {
                    diff: diff_by_index(&old, &sides.new, &DiffOptions::default()),
                    titles: sides.titles,
                    notes,
                    source: (to == Lang::En).then(|| {
                        translated
                            .segments
                            .iter()
                            .map(|s| s.repaired.clone())
                            .collect()
                    }),
                    source_repairs: outcome.repaired.marks(),
                    langs: diff_report::Langs {
                        old: Some(if translated.has_literal() { "en" } else { "de" }),
                        new: Some(to.code()),
                        source: Some("de"),
                    },
                }
            }
        }
    }
}

/// What the refine round did, as a note under each paragraph it sent back.
fn add_refine_notes(notes: &mut [Vec<Note>], outcome: &Outcome) {
    let Some(translated) = outcome.translated() else {
        return;
    };
    for (slot, segment) in notes.iter_mut().zip(&translated.segments) {
        if let Some(refinement) = &segment.refine {
            slot.push(Note {
                level: NoteLevel::Info,
                text: refinement.summary(),
            });
        }
    }
}

/// `name: draft · deepl: 3 of 5 paragraphs to send in 1 request, about 1,234 characters`.
pub fn print_plan(name: &str, plans: &[PassPlan], printer: &Printer) {
    for plan in plans {
        let cost = plan_cost(plan);
        if let Some(rounds) = plan.rounds {
            printer.note(&format!(
                "{name}: {} · {}: up to {}, only those verify flags; at most {} {} \
                 ({}, about {} {}{cost}, if every paragraph went back)",
                plan.pass,
                plan.backend,
                counted(plan.segments, "paragraph", "paragraphs"),
                rounds,
                plural(usize::from(rounds), "round", "rounds"),
                counted(plan.requests, "request", "requests"),
                grouped(plan.estimated_input),
                plan.unit,
            ));
            continue;
        }
        // How much the prompt, framing and context add on top of the paragraphs themselves.
        let ratio = plan
            .per_paragraph_token
            .map_or_else(String::new, |r| format!(", {r:.1} per paragraph token"));
        let remembered = match plan.remembered {
            0 => String::new(),
            n => format!(", {} from the memory", grouped(n as u64)),
        };
        let requests = if plan.shared {
            "the request of an earlier file".to_owned()
        } else {
            counted(plan.requests, "request", "requests")
        };
        printer.note(&format!(
            "{name}: {} · {}: {} of {} to send in {requests}, about {} {}{ratio} \
             ({} cached{remembered}){cost}",
            plan.pass,
            plan.backend,
            grouped(plan.to_send() as u64),
            counted(plan.segments, "paragraph", "paragraphs"),
            grouped(plan.estimated_input),
            plan.unit,
            grouped(plan.cached as u64),
        ));
    }
    print_estimate(name, &Estimate::of(plans), printer);
}

/// `, 1,234 tokens out, $0.0123` after a pass's plan (the output only for chat backends).
fn plan_cost(plan: &PassPlan) -> String {
    let output = match plan.estimated_output {
        0 => String::new(),
        n => format!(", {} tokens out", grouped(n)),
    };
    let cost = match &plan.cost {
        Some(cost) => format!(", {}", money(cost.synchronous, &cost.currency)),
        None => String::new(),
    };
    format!("{output}{cost}")
}

/// `a.txt: estimated cost $0.0412, $0.0206 with --batch-api (draft 0%, literal 31%, restore
/// 69%); refine up to $0.0100 more; prices as of …` (the summary names the backends without
/// a price, once).
fn print_estimate(name: &str, estimate: &Estimate, printer: &Printer) {
    if estimate.passes.is_empty() {
        return;
    }
    let shares = super::summary::shares(
        &estimate.synchronous,
        &["draft", LITERAL, "restore", "polish-de"],
        |pass| Some(&estimate.passes.get(pass)?.synchronous),
    );
    let refine = match estimate.passes.get("refine") {
        Some(refine) => format!(
            "; refine up to {} more if verify sent every paragraph back",
            refine.synchronous
        ),
        None => String::new(),
    };
    printer.note(&format!(
        "{name}: estimated cost {}, {} with --batch-api ({}){refine}; prices as of {}, \
         set backends.NAME.price to change them",
        estimate.synchronous, estimate.batch, shares, estimate.prices_as_of,
    ));
}

/// The display as a folder's walk sees it.
pub struct WalkShown {
    bar: ProgressBar,
    printer: Printer,
}

impl Listener for WalkShown {
    fn found(&self) {
        self.bar.inc_length(1);
    }

    fn say(&self, print: &dyn Fn(&Printer)) {
        self.bar.suspend(|| print(&self.printer));
    }
}

fn progress_bar(total: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:20}] {pos}/{len} files · {wide_msg} ETA {eta}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
