//! `fix` with API passes: setting up the engine (backends, prompts, glossary, cache), running
//! it on one document, and what the user sees of it (draft-vs-final diff, failed segments,
//! dry-run plans, the usage line).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::backend::{Usage, grouped};
use crate::cache::Cache;
use crate::cli::Context;
use crate::cli::args::FixArgs;
use crate::cli::printer::Hinted;
use crate::config::{Lang, Source};
use crate::diff::{DiffOptions, diff_by_index};
use crate::files::Decoded;
use crate::glossary::Glossary;
use crate::pipeline::{Engine, PassPlan, SegmentResult, Translated};
use crate::render;
use crate::repair::RepairedDocument;
use crate::review::{self, Record};
use crate::segment::Piece;
use crate::verify::Severity;

/// Everything `fix` needs for the API passes, built once per run.
pub struct Online {
    /// Shared with the tasks of a batch.
    pub engine: Arc<Engine>,
    runtime: tokio::runtime::Runtime,
}

impl Online {
    pub fn new(args: &FixArgs, ctx: &Context) -> anyhow::Result<Self> {
        let settings = &ctx.settings;
        let config_dir = settings.user_file.parent().map(Path::to_path_buf);
        let glossary = load_glossary(args, ctx, config_dir.as_deref())?;
        let cache = if args.no_cache {
            None
        } else {
            match Cache::open(&settings.cache_dir.value) {
                Ok(cache) => Some(cache),
                Err(err) => {
                    let hint = err.hint().map(|h| format!(" ({h})")).unwrap_or_default();
                    ctx.printer
                        .warn(&format!("{err}; running without the cache{hint}"));
                    None
                }
            }
        };
        let prompts = config_dir.map(|dir| dir.join("prompts"));
        let engine = Engine::new(
            settings,
            settings.to.value,
            glossary,
            cache,
            prompts.as_deref(),
            args.jobs.map(usize::from),
        )?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            // File work is short; a few blocking threads keep memory flat.
            .max_blocking_threads(4)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Self {
            engine: Arc::new(engine),
            runtime,
        })
    }

    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    pub fn translate(&self, doc: &RepairedDocument, source: &str) -> Translated {
        self.runtime.block_on(self.engine.translate(doc, source))
    }

    pub fn plan(&self, doc: &RepairedDocument) -> Vec<PassPlan> {
        self.engine.plan(doc)
    }

    pub fn usage(&self) -> BTreeMap<String, Usage> {
        self.engine.usage()
    }
}

/// Config folder < project folder < `--glossary`; later files win on the same term.
fn load_glossary(
    args: &FixArgs,
    ctx: &Context,
    config_dir: Option<&Path>,
) -> anyhow::Result<Glossary> {
    let mut found: Vec<PathBuf> = Vec::new();
    for dir in config_dir.into_iter().chain([ctx.cwd.as_path()]) {
        for name in ["glossary.toml", "glossary.csv"] {
            let path = dir.join(name);
            if path.is_file() && !found.contains(&path) {
                found.push(path);
            }
        }
    }
    found.extend(args.glossary.iter().cloned());
    let mut glossary = Glossary::default();
    for path in found {
        ctx.printer.detail(&format!("glossary: {}", path.display()));
        glossary = glossary.merge(Glossary::load(&path)?);
    }
    Ok(glossary)
}

/// Say which backends were picked from provider key variables (no config file named them),
/// since they cost money: the user should know, and know how to opt out.
pub fn announce(engine: &Engine, ctx: &Context) {
    let restore = ctx.settings.passes.restore.as_ref();
    let Some(Source::BaseEnv(var)) = restore.map(|r| &r.source) else {
        return;
    };
    let draft = engine
        .draft
        .as_ref()
        .map(|d| format!(" and {} for the draft", d.first().backend.name()))
        .unwrap_or_default();
    ctx.printer.note(&format!(
        "using {} ({}) from {var} for the restore pass{draft}; --offline repairs the German only",
        engine.main.first().backend.name(),
        engine.main.first().backend.model(),
    ));
}

/// With `-v`: what came from the cache and what was sent, and the model's notes per paragraph.
pub fn details(name: &str, translated: &Translated, ctx: &Context) {
    // After a fallback, say which backend did what (always: it changes cost and quality).
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
            ctx.printer
                .note(&format!("{name}: {side} paragraphs: {}", list.join(", ")));
        }
    }
    let total = translated.segments.len();
    let cached = translated
        .segments
        .iter()
        .filter(|s| s.final_cached)
        .count();
    ctx.printer.detail(&format!(
        "{name}: {cached} of {total} paragraphs from the cache, {} sent",
        total - cached
    ));
    for (i, seg) in translated.segments.iter().enumerate() {
        if !seg.notes.is_empty() {
            ctx.printer
                .detail(&format!("{name} ¶ {}: {}", i + 1, seg.notes.join("; ")));
        }
    }
}

/// Report the segments that failed: one line per run of paragraphs that failed the same way.
pub fn report_failures(name: &str, translated: &Translated, ctx: &Context) -> usize {
    let failed: Vec<(usize, &str)> = translated
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.final_text.is_none())
        .map(|(i, s)| (i, s.error.as_deref().unwrap_or("no result")))
        .collect();
    let mut at = 0;
    while at < failed.len() {
        let (first, why) = failed[at];
        let mut last = first;
        while at + 1 < failed.len() && failed[at + 1].1 == why && failed[at + 1].0 == last + 1 {
            at += 1;
            last = failed[at].0;
        }
        let which = if first == last {
            format!("¶ {} (s{first})", first + 1)
        } else {
            format!("¶ {}–{} (s{first}–s{last})", first + 1, last + 1)
        };
        ctx.printer.error(&anyhow::anyhow!("{name} {which}: {why}"));
        at += 1;
    }
    failed.len()
}

pub fn not_written(name: &str, failed: usize) -> anyhow::Error {
    anyhow::Error::new(Hinted::new(
        format!(
            "{name}: {failed} {} failed; nothing was written",
            if failed == 1 {
                "paragraph"
            } else {
                "paragraphs"
            }
        ),
        "finished paragraphs are cached: run the same command again to retry only the rest",
    ))
}

/// Draft against final (or, for `--to de`, the German against its correction), side by side.
/// What the diff view and a report show of a translated document.
pub struct View {
    pub titles: (String, String),
    pub diff: crate::diff::DocumentDiff,
    pub notes: Vec<Vec<render::Note>>,
    /// The German, for a third column (English output only).
    pub source: Option<Vec<String>>,
}

/// Draft against final (or, for `--to de`, the German against its correction).
pub fn view(translated: &Translated, ctx: &Context) -> View {
    let english = ctx.settings.to.value == Lang::En;
    let segments = &translated.segments;
    let (titles, old, new) = sides(segments, ctx.settings.to.value);
    // Without a draft the repaired German stands in, so the view still has two sides.
    let old: Vec<&str> = old
        .iter()
        .zip(segments)
        .map(|(old, s)| old.unwrap_or(&s.repaired))
        .collect();
    let (old_title, new_title) = titles;
    let findings: Vec<_> = segments
        .iter()
        .flat_map(|s| s.findings.iter().cloned())
        .collect();
    View {
        titles: (old_title, new_title),
        diff: diff_by_index(&old, &new, &DiffOptions::default()),
        notes: super::super::check::notes(&findings, segments.len()),
        source: english.then(|| segments.iter().map(|s| s.source.clone()).collect()),
    }
}

/// The view side by side (the German as a third pane when the terminal is wide enough).
pub fn show(view: &View, args: &FixArgs, ctx: &Context) -> anyhow::Result<()> {
    let titles = (view.titles.0.as_str(), view.titles.1.as_str());
    let Some(mut opts) = super::super::render_options(ctx, &args.display, titles) else {
        return Ok(());
    };
    opts.notes = view.notes.clone();
    if let Some(source) = &view.source
        && opts.width >= render::THREE_PANE_WIDTH
    {
        opts.source = Some(("German".to_owned(), source.clone()));
    }
    let mut out = super::view_output(args, ctx);
    render::render_diff(&view.diff, &opts, &mut out).context("writing the diff")?;
    Ok(out.finish()?)
}

/// The two sides of a translated document: titles, what a rejection keeps (the draft, or for
/// German output the German as read; `None` without a draft) and the result.
fn sides(segments: &[SegmentResult], to: Lang) -> ((String, String), Vec<Option<&str>>, Vec<&str>) {
    let (old_title, old): (String, Vec<Option<&str>>) = if to == Lang::En {
        let source = producers(segments.iter().map(|s| s.draft_backend.as_deref()));
        let texts = segments.iter().map(|s| s.draft.as_deref()).collect();
        (format!("draft · {source}"), texts)
    } else {
        let texts = segments.iter().map(|s| Some(s.source.as_str())).collect();
        ("German".to_owned(), texts)
    };
    let new: Vec<&str> = segments
        .iter()
        .map(|s| s.final_text.as_deref().unwrap_or_default())
        .collect();
    let new_title = format!(
        "final · {}",
        producers(segments.iter().map(|s| s.final_backend.as_deref()))
    );
    ((old_title, new_title), old, new)
}

/// What `review` needs to revisit this output later: every paragraph's German, draft and
/// result, and the text around the paragraphs. The output's name is filled in when it is
/// written.
pub fn record(
    input: &str,
    doc: &RepairedDocument,
    source: &str,
    translated: &Translated,
    decoded: &Decoded,
    to: Lang,
) -> Record {
    let (titles, old, new) = sides(&translated.segments, to);
    let mut blocks = vec![String::new()];
    for piece in &doc.segmented.pieces {
        match piece {
            Piece::Segment(_) => blocks.push(String::new()),
            Piece::Block(block) => {
                if let (Some(last), Some(text)) =
                    (blocks.last_mut(), source.get(block.range.clone()))
                {
                    last.push_str(text);
                }
            }
        }
    }
    let paragraphs = translated
        .segments
        .iter()
        .zip(old.into_iter().zip(new))
        .map(|(s, (old, new))| review::Paragraph {
            id: s.id.clone(),
            german: s.source.clone(),
            old: old.map(str::to_owned),
            new: new.to_owned(),
            notes: s.notes.clone(),
            findings: s
                .findings
                .iter()
                .filter(|f| f.severity > Severity::Info)
                .map(|f| review::record::FindingNote {
                    severity: f.severity,
                    message: f.message.clone(),
                })
                .collect(),
        })
        .collect();
    Record {
        schema: review::record::RECORD_SCHEMA.to_owned(),
        input: input.to_owned(),
        output: String::new(),
        encoding: decoded.encoding,
        line_ending: decoded.line_ending,
        titles,
        to: to.to_string(),
        blocks,
        paragraphs,
    }
}

/// The backends that produced a side, in order of first use: `deepl`, or `openai+local` after
/// a fallback.
fn producers<'a>(names: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for name in names.flatten() {
        if !seen.contains(&name) {
            seen.push(name);
        }
    }
    seen.join("+")
}

pub fn print_plan(name: &str, plans: &[PassPlan], ctx: &Context) {
    for plan in plans {
        // How much the prompt, framing and context add on top of the paragraphs themselves.
        let ratio = match plan.unit {
            "tokens" if plan.source_input > 0 => format!(
                ", {:.1} per paragraph token",
                plan.estimated_input as f64 / plan.source_input as f64
            ),
            _ => String::new(),
        };
        let requests = if plan.requests == 1 {
            "request"
        } else {
            "requests"
        };
        ctx.printer.note(&format!(
            "{name}: {} · {}: {} of {} paragraphs to send in {} {requests}, about {} {}{ratio} \
             ({} cached)",
            plan.pass,
            plan.backend,
            plan.segments - plan.cached,
            plan.segments,
            plan.requests,
            grouped(plan.estimated_input),
            plan.unit,
            plan.cached,
        ));
    }
}

/// `openai: 5,123 tokens in, 1,234 out, 3 requests (1 retry)`.
pub fn usage_line(usage: &BTreeMap<String, Usage>) -> Option<String> {
    let parts: Vec<String> = usage
        .iter()
        .filter(|(_, u)| u.requests > 0)
        .map(|(name, u)| {
            let amount = if u.billed_characters > 0 {
                format!("{} characters billed", grouped(u.billed_characters))
            } else {
                format!(
                    "{} tokens in, {} out",
                    grouped(u.input_tokens),
                    grouped(u.output_tokens)
                )
            };
            let retries = match u.retries {
                0 => String::new(),
                1 => " (1 retry)".to_owned(),
                n => format!(" ({n} retries)"),
            };
            let requests = if u.requests == 1 {
                "request"
            } else {
                "requests"
            };
            format!("{name}: {amount}, {} {requests}{retries}", u.requests)
        })
        .collect();
    (!parts.is_empty()).then(|| format!("usage: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_reads_well() {
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(12), "12");
        assert_eq!(grouped(123), "123");
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
                output_tokens: 1234,
                ..Usage::default()
            },
        );
        assert_eq!(
            usage_line(&usage).as_deref(),
            Some(
                "usage: deepl: 12,345 characters billed, 2 requests; openai: 5,123 tokens in, \
                 1,234 out, 3 requests (1 retry)"
            )
        );
    }
}
