//! The end of a run of `fix`: the JSON reports, the closing lines (files, usage, what stopped,
//! what is left, what verify found) and the exit status. Files named one by one and folders
//! end the same way; a folder adds its file tally and `OUT/klartext-report.json`, and the
//! run's reports say what the closing lines say, in the same numbers.

use std::collections::BTreeMap;

use super::inputs::Mode;
use super::report::{FileReport, FileStatus, RUN_SCHEMA, RunHead, RunReport, SCHEMA, Totals};
use super::run_report::Closing;
use super::{Offline, Session, show};
use crate::backend::Usage;
use crate::cli::Status;
use crate::config::{Capability, Settings};
use crate::cost::{Amounts, money};
use crate::count::{counted, grouped, nonzero, plural};
use crate::pipeline::jobs::{JobBook, Jobs, JobsReport};
use crate::pipeline::{BUDGET_HINT, Ended, Engine, Estimate, LITERAL, Spent};

pub fn finish(
    session: Session,
    engine: Option<&Engine>,
    ended: Ended,
    batch: Option<(JobsReport, JobBook, Jobs)>,
) -> anyhow::Result<Status> {
    let Session {
        args,
        ctx,
        mode,
        offline,
        reports,
        run_reports,
        plans,
        display,
        mut outputs,
        out,
        ..
    } = session;
    let reports = reports.as_slice();
    let p = &ctx.printer;
    let usage: BTreeMap<String, Usage> = engine.map(Engine::usage).unwrap_or_default();
    let totals = Totals::of(reports, &usage, ended.elapsed);
    let spent = engine.filter(|_| !args.dry_run).map(Engine::spent);
    let estimate = (args.dry_run && engine.is_some()).then(|| Estimate::of(&plans));
    if args.json {
        super::super::print_json(
            &RunReport {
                schema: SCHEMA,
                offline: engine.is_none(),
                dry_run: args.dry_run,
                files: reports,
                usage: &usage,
                cost: spent.as_ref(),
                estimate: estimate.as_ref(),
                plan: &plans,
            },
            out,
        )?;
    }
    let stopped: Vec<String> = engine
        .map(|e| e.stopped().iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    let head = RunHead {
        schema: RUN_SCHEMA,
        generator: super::super::GENERATOR,
        offline: engine.is_none(),
        dry_run: args.dry_run,
        interrupted: ended.interrupted,
        stopped: &stopped,
        totals: &totals,
        usage: &usage,
        cost: spent.as_ref(),
        estimate: estimate.as_ref(),
    };
    let closing = Closing {
        head: &head,
        title: &super::command_line(args),
        facts: &facts(&totals, &usage, spent.as_ref(), &stopped, ended.interrupted),
    };
    let report_files = run_reports.finish(&closing, &mut outputs)?;
    if let Some(err) = outputs.take_unrecorded() {
        p.warn(&format!(
            "{err}: klartext will not know the files it wrote as its own, and a later run \
             asks for --force to replace them"
        ));
    }
    // A folder's plan, or several files' added up: the run's requests and its tokens per
    // paragraph token (small files share requests).
    if args.dry_run && (mode == Mode::Tree || reports.len() > 1) && engine.is_some() {
        let name = counted(reports.len(), "file", "files");
        show::print_plan(&name, &plans, p);
    }

    let unfinished: Vec<&FileReport> = reports
        .iter()
        .filter(|r| matches!(r.status, FileStatus::Failed | FileStatus::NotStarted))
        .collect();
    if mode == Mode::Tree {
        let requests = match engine {
            Some(_) => format!(
                " · {}, {}",
                counted(totals.requests as usize, "request", "requests"),
                counted(totals.retries as usize, "retry", "retries")
            ),
            None => String::new(),
        };
        p.note(&format!(
            "{}: {}{requests} in {:.1} s",
            counted(reports.len(), "file", "files"),
            totals.tally(),
            totals.seconds
        ));
    }
    if let Some(line) = usage_line(&usage, spent.as_ref()) {
        p.note(&line);
    }
    // A dry run's backends without a price, or those of a run that were used.
    let unpriced = estimate.iter().flat_map(|e| &e.unpriced).chain(
        spent
            .iter()
            .flat_map(|s| &s.unpriced)
            .filter(|b| usage.contains_key(*b)),
    );
    for backend in unpriced {
        p.warn(&format!(
            "cost unknown for backend {backend}: set backends.{backend}.price"
        ));
    }
    if let Some(line) = spent.as_ref().and_then(cost_line) {
        p.note(&line);
    }
    if let Some(engine) = engine {
        for warning in engine.warnings() {
            p.warn(&warning);
        }
        // A backend that stopped is an error when work was left undone, otherwise a warning:
        // its paragraphs went to the next backend of the pass.
        for stopped in engine.stopped() {
            if unfinished.is_empty() {
                p.warn(&format!(
                    "{stopped}; its paragraphs went to the next backend of the pass"
                ));
            } else {
                p.error(&anyhow::Error::new(stopped));
            }
        }
        if args.dry_run {
            p.note("dry run: nothing was sent");
        }
    }
    if !unfinished.is_empty() {
        match mode {
            Mode::Files => p.note(&format!(
                "{} of {} inputs failed",
                unfinished.len(),
                reports.len()
            )),
            Mode::Tree => {
                let shown = unfinished.len().min(20);
                let names: Vec<&str> = unfinished[..shown]
                    .iter()
                    .map(|r| r.input.as_str())
                    .collect();
                p.note(&format!(
                    "not finished: {}{}",
                    names.join(", "),
                    if unfinished.len() > shown {
                        format!(" and {} more", unfinished.len() - shown)
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    let jobs_running = batch
        .as_ref()
        .is_some_and(|(report, book, jobs)| super::batch::summarize(report, book, jobs, p));
    if ended.interrupted {
        p.note("interrupted: every finished file was written");
    }
    // Files named one by one had this hint with their error already.
    let not_started = reports.iter().any(|r| r.status == FileStatus::NotStarted);
    let unfinished_tree = mode == Mode::Tree && !unfinished.is_empty();
    // The budget's own hint says how to go on.
    let budget_stop = engine.is_some_and(|e| {
        e.stopped()
            .iter()
            .any(|s| s.hint.as_deref() == Some(BUDGET_HINT))
    });
    if engine.is_some()
        && !budget_stop
        && !jobs_running
        && (ended.interrupted || not_started || unfinished_tree)
    {
        p.hint(show::retry_hint(engine.is_some_and(Engine::keeps_results)));
    }
    let found = nonzero(&[
        (totals.errors, "error", "errors"),
        (totals.warnings, "warning", "warnings"),
    ]);
    if let Some(found) = found {
        let whereabouts = if !report_files.is_empty() {
            " (per file in the report)"
        } else if display.diffs_shown() {
            match (totals.errors, totals.warnings) {
                (0, _) => " (marked ⚠ in the diff)",
                (_, 0) => " (marked ✗ in the diff)",
                _ => " (marked ✗ and ⚠ in the diff)",
            }
        } else {
            ""
        };
        p.note(&format!("verify: {found} to check{whereabouts}"));
    }
    for path in &report_files {
        p.note(&format!("report: {}", path.display()));
    }
    // Last, so an offline run ends by saying why, and how to get English.
    if let Some(offline) = offline
        && reports.iter().any(FileReport::finished)
    {
        p.hint(&offline_hint(offline, &ctx.settings));
    }
    let failed = reports.iter().any(|r| r.status == FileStatus::Failed);
    Ok(if ended.interrupted {
        Status::Interrupted
    } else if jobs_running && !failed {
        Status::Pending
    } else if !unfinished.is_empty() {
        Status::Failure
    } else if reports.iter().any(|r| r.reaches(args.fail_on)) {
        Status::Differences
    } else {
        Status::Success
    })
}

/// Why only the German was repaired, and what would bring the English.
fn offline_hint(offline: Offline, settings: &Settings) -> String {
    match offline {
        Offline::Requested => {
            let restore = settings
                .passes
                .restore
                .as_ref()
                .and_then(|names| names.value.first())
                .map(|name| format!("; without it, {name} restores the English"))
                .unwrap_or_default();
            format!("offline by request (--offline): only the German was repaired{restore}")
        }
        Offline::NoPass => {
            let names: Vec<&str> = settings.backends.keys().map(String::as_str).collect();
            let chat = settings
                .backends
                .values()
                .find(|b| b.capability() == Capability::Chat)
                .map_or_else(
                    || {
                        "define a language model backend and name it in [passes] restore \
                         (README, \"Configuration\")"
                            .to_owned()
                    },
                    |b| format!("add `restore = \"{}\"` under [passes]", b.name),
                );
            format!(
                "only the German was repaired: {} {} defined, but no pass uses {}; for English, \
                 {chat}",
                names.join(", "),
                plural(names.len(), "is", "are"),
                plural(names.len(), "it", "them"),
            )
        }
        Offline::NoBackend => "offline run: only the German was repaired. For English, set \
             OPENAI_API_KEY or ANTHROPIC_API_KEY (DEEPL_API_KEY adds a draft), or configure a \
             backend (README, \"Configuration\")"
            .to_owned(),
    }
}

/// What the run's reports say about it as a whole, in the closing summary's words.
fn facts(
    totals: &Totals,
    usage: &BTreeMap<String, Usage>,
    spent: Option<&Spent>,
    stopped: &[String],
    interrupted: bool,
) -> Vec<(String, String)> {
    let mut facts = vec![(
        "Files".to_owned(),
        format!(
            "{}: {}",
            counted(totals.files, "file", "files"),
            totals.tally()
        ),
    )];
    let mut paragraphs = format!(
        "{}, {} changed",
        grouped(totals.paragraphs),
        grouped(totals.changed)
    );
    if totals.repairs > 0 {
        paragraphs += &format!(
            ", {}",
            counted(totals.repairs as usize, "offline repair", "offline repairs")
        );
    }
    facts.push(("Paragraphs".to_owned(), paragraphs));
    let mut found: Vec<String> = Vec::new();
    if totals.errors > 0 {
        found.push(format!("✗ {}", counted(totals.errors, "error", "errors")));
    }
    if totals.warnings > 0 {
        let doubts = match totals.doubts {
            0 => String::new(),
            n => format!(" ({})", counted(n, "model doubt", "model doubts")),
        };
        found.push(format!(
            "⚠ {}{doubts}",
            counted(totals.warnings, "warning", "warnings")
        ));
    }
    if totals.infos > 0 {
        found.push(format!("ℹ {}", counted(totals.infos, "note", "notes")));
    }
    let found = if found.is_empty() {
        "no findings".to_owned()
    } else {
        found.join(", ")
    };
    facts.push(("Findings".to_owned(), found));
    if totals.requests > 0 {
        facts.push((
            "Requests".to_owned(),
            format!(
                "{}, {}",
                counted(totals.requests as usize, "request", "requests"),
                counted(totals.retries as usize, "retry", "retries")
            ),
        ));
    }
    if let Some(text) = usage_text(usage, spent) {
        facts.push(("Usage".to_owned(), text));
    }
    if let Some(text) = spent.and_then(cost_text) {
        facts.push(("Cost".to_owned(), text));
    }
    if !stopped.is_empty() {
        facts.push(("Stopped".to_owned(), stopped.join("; ")));
    }
    if interrupted {
        facts.push((
            "Interrupted".to_owned(),
            "Ctrl-C: the files it came before are listed as not started".to_owned(),
        ));
    }
    facts
}

/// `cost: $0.0123 spent (estimated $0.0150 before sending): literal $0.0031 25%, restore
/// $0.0080 65%, refine $0.0012 10%; prices as of …`; `None` when nothing priced was used.
pub fn cost_line(spent: &Spent) -> Option<String> {
    cost_text(spent).map(|text| format!("cost: {text}"))
}

/// [`cost_line`] without its `cost: `, as the run's reports give it.
fn cost_text(spent: &Spent) -> Option<String> {
    if spent.backends.values().all(|line| line.cost.is_none()) {
        return None;
    }
    let shares = shares(
        &spent.total,
        &["draft", LITERAL, "restore", "polish-de", "refine"],
        |pass| spent.passes.get(pass)?.cost.as_ref(),
    );
    let estimated = match spent.estimated.is_empty() {
        true => String::new(),
        false => format!(" (estimated {} before sending)", spent.estimated),
    };
    let limit = match (spent.max_cost, spent.total.single()) {
        (Some(limit), Some((_, currency))) => format!(", --max-cost {}", money(limit, currency)),
        _ => String::new(),
    };
    Some(format!(
        "{} spent{estimated}{limit}: {}; prices as of {}",
        spent.total, shares, spent.prices_as_of
    ))
}

/// "draft $0.0031 25%, restore $0.0080 65%": what each of `passes` that has an amount cost,
/// with its share of `total` when both are in one currency.
pub fn shares<'a>(
    total: &Amounts,
    passes: &[&str],
    amount: impl Fn(&str) -> Option<&'a Amounts>,
) -> String {
    let total = total.single().map_or(0.0, |(amount, _)| amount);
    let shares: Vec<String> = passes
        .iter()
        .filter_map(|pass| {
            let cost = amount(pass)?;
            let share = match cost.single() {
                Some((amount, _)) if total > 0.0 => format!(" {:.0}%", amount / total * 100.0),
                _ => String::new(),
            };
            Some(format!("{pass} {cost}{share}"))
        })
        .collect();
    shares.join(", ")
}

/// `usage: openai: 5,123 tokens in, 1,234 out, 3 requests (1 retry), $0.0123`: the cost when
/// the backend has a price.
pub fn usage_line(usage: &BTreeMap<String, Usage>, spent: Option<&Spent>) -> Option<String> {
    usage_text(usage, spent).map(|text| format!("usage: {text}"))
}

/// [`usage_line`] without its `usage: `, as the run's reports give it.
fn usage_text(usage: &BTreeMap<String, Usage>, spent: Option<&Spent>) -> Option<String> {
    let parts: Vec<String> = usage
        .iter()
        .filter(|(_, u)| u.requests > 0)
        .map(|(name, u)| {
            let amount = if u.billed_characters > 0 {
                format!("{} characters billed", grouped(u.billed_characters))
            } else {
                let cached = match u.cached_input_tokens {
                    0 => String::new(),
                    n => format!(" ({} cached)", grouped(n)),
                };
                format!(
                    "{} tokens in{cached}, {} out",
                    grouped(u.input_tokens),
                    grouped(u.output_tokens)
                )
            };
            let retries = match u.retries {
                0 => String::new(),
                n => format!(" ({})", counted(n as usize, "retry", "retries")),
            };
            let cost = spent
                .and_then(|s| s.backends.get(name)?.cost.as_ref())
                .map(|cost| format!(", {cost}"))
                .unwrap_or_default();
            let requests = counted(u.requests as usize, "request", "requests");
            format!("{name}: {amount}, {requests}{retries}{cost}")
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_well() {
        let mut usage = BTreeMap::new();
        usage.insert(
            "deepl".to_owned(),
            Usage {
                requests: 2,
                billed_characters: 12_345,
                ..Usage::default()
            },
        );
        usage.insert(
            "openai".to_owned(),
            Usage {
                requests: 3,
                retries: 1,
                input_tokens: 5123,
                cached_input_tokens: 4096,
                output_tokens: 1234,
                ..Usage::default()
            },
        );
        assert_eq!(
            usage_line(&usage, None).as_deref(),
            Some(
                "usage: deepl: 12,345 characters billed, 2 requests; openai: 5,123 tokens in \
                 (4,096 cached), 1,234 out, 3 requests (1 retry)"
            )
        );
    }
}
