//! `klartext cache stats|clear|export`.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::ops::Range;
use std::path::Path;

use anyhow::Context as _;

use crate::cache::{Cache, CacheError, Entry, Exported, unix_now};
use crate::cli::args::CacheCommand;
use crate::cli::{Context, Status};
use crate::files::{Ledger, Outputs};
use crate::review::{Decisions, Doc, Outcome, Record};
use crate::tmx;

pub fn run(command: &CacheCommand, ctx: &Context, out: &mut dyn Write) -> anyhow::Result<Status> {
    let cache = Cache::open(&ctx.settings.cache_dir.value)?;
    match command {
        CacheCommand::Stats { json: true } => {
            let stats = cache.stats()?;
            super::print_json(
                &serde_json::json!({
                    "schema": "klartext.cache-stats/1",
                    "path": stats.path.display().to_string(),
                    "entries": stats.entries,
                    "bytes": stats.bytes,
                    "by_pass": stats.by_pass.iter().map(|(pass, backend, n)| {
                        serde_json::json!({"pass": pass, "backend": backend, "entries": n})
                    }).collect::<Vec<_>>(),
                }),
                out,
            )?;
        }
        CacheCommand::Stats { json: false } => {
            let stats = cache.stats()?;
            writeln!(out, "{}", stats.path.display())?;
            writeln!(
                out,
                "{}, {}",
                crate::count::counted(stats.entries as usize, "entry", "entries"),
                crate::count::bytes(stats.bytes)
            )?;
            for (pass, backend, n) in &stats.by_pass {
                writeln!(out, "  {pass:<10} {backend:<16} {n}")?;
            }
        }
        CacheCommand::Clear => {
            let removed = cache.clear()?;
            ctx.printer.note(&format!(
                "removed {removed} cached {} from {}",
                crate::count::plural(removed as usize, "entry", "entries"),
                cache
                    .path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
        }
        CacheCommand::Export {
            tmx,
            reviewed,
            force,
        } => {
            let mut paragraphs = Vec::new();
            for folder in reviewed {
                paragraphs.extend(reviewed_paragraphs(folder, ctx)?);
            }
            let mut outputs = Outputs::new(Ledger::open(&ctx.settings.cache_dir.value), *force);
            let units = export_tmx(&cache, tmx, &paragraphs, &mut outputs)?;
            ctx.printer.note(&format!(
                "wrote {} to {}",
                crate::count::counted(units, "translation unit", "translation units"),
                tmx.display()
            ));
            if let Some(err) = outputs.take_unrecorded() {
                ctx.printer.warn(&err.to_string());
            }
        }
    }
    Ok(Status::Success)
}

/// One paragraph of an output of `fix`, as its review record and decisions make it.
struct Reviewed {
    /// The German as sent (repaired): what the cache holds it as.
    german: String,
    protected: Vec<Range<usize>>,
    /// The English as reviewed (the correction where nothing was decided).
    english: String,
    /// What the reviewer made of it; `None` when its output has no decisions at all.
    outcome: Option<&'static str>,
    /// The English is the draft's (rejected), not the correction's the cache holds.
    drafted: bool,
    /// The input `fix` read.
    file: String,
    /// Who wrote the English (the correction, or the draft kept), as the record's titles
    /// name them.
    backend: String,
    /// When the decisions (or, without them, the record) were saved.
    created: i64,
}

/// The paragraphs of every review record under `path` (a folder, an output of fix, or a
/// report of fix naming outputs), with their decisions applied the way `review` writes them.
fn reviewed_paragraphs(path: &Path, ctx: &Context) -> anyhow::Result<Vec<Reviewed>> {
    let mut paragraphs = Vec::new();
    for record_path in super::review::locate(path, &ctx.cwd)? {
        let record = Record::read(&record_path)?;
        record
            .check()
            .map_err(|err| anyhow::anyhow!("{} {err}", record_path.display()))?;
        if record.to != "en" {
            ctx.printer.warn(&format!(
                "{}: corrects German rather than restoring English; left out of the memory",
                record.input
            ));
            continue;
        }
        let output = record.output_path(&record_path);
        let saved = Decisions::read(&output)?;
        let created = modified(&Record::decisions_path_for(&output))
            .or_else(|| modified(&record_path))
            .unwrap_or_else(unix_now);
        let producers = |title: &str| {
            title
                .split_once(" · ")
                .map(|(_, producers)| producers.to_owned())
        };
        let corrected_by = producers(&record.titles.1).unwrap_or_default();
        let drafted_by = producers(&record.titles.0).unwrap_or_else(|| corrected_by.clone());
        let file = record.input.clone();
        let decided = saved.is_some();
        let doc = Doc::new(
            String::new(),
            record,
            &saved.unwrap_or_else(|| Decisions::new("")),
            String::new(),
        );
        for (item, paragraph) in doc.items.iter().zip(&doc.record.paragraphs) {
            let outcome = item.outcome();
            // A rejection keeps the draft: its backend wrote the English.
            let drafted = outcome == Outcome::Rejected && paragraph.old.is_some();
            let german = paragraph.sent().to_owned();
            let protected = if paragraph.protected.is_empty() {
                tmx::protected_spans(&german)
            } else {
                paragraph.protected.clone()
            };
            paragraphs.push(Reviewed {
                german,
                protected,
                english: item.result().into_owned(),
                outcome: decided.then(|| outcome.as_str()),
                drafted,
                file: file.clone(),
                backend: if drafted {
                    drafted_by.clone()
                } else {
                    corrected_by.clone()
                },
                created,
            });
        }
    }
    Ok(paragraphs)
}

fn modified(path: &Path) -> Option<i64> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(since.as_secs() as i64)
}

/// Every finished restore of `cache` as TMX at `path`: the repaired German against the
/// English — the refine round's, where it changed the first answer ([`Cache::refined`]) —
/// protected spans as `<ph>`. A German and English pair cached more than once (other
/// context, another backend) is written once, the first time it was cached. Of `reviewed`, a
/// paragraph whose output has decisions takes the place of the cache's English for its German
/// (where the cache has it; kept with the cache's backend, model and date), and any the cache
/// lacks are added at the end. The number of units written.
fn export_tmx(
    cache: &Cache,
    path: &Path,
    reviewed: &[Reviewed],
    outputs: &mut Outputs,
) -> anyhow::Result<usize> {
    // The reviewed paragraphs that replace the cache's English, by their German.
    let mut replacing: HashMap<&str, Vec<&Reviewed>> = HashMap::new();
    for paragraph in reviewed.iter().filter(|p| p.outcome.is_some()) {
        replacing
            .entry(paragraph.german.as_str())
            .or_default()
            .push(paragraph);
    }
    let mut units = 0;
    // A cache error, kept to tell as it is (not as an I/O error of the file); nothing is
    // written then.
    let mut failed: Option<anyhow::Error> = None;
    let mut stop = |err: CacheError| {
        failed = Some(err.into());
        io::Error::other("the cache could not be read")
    };
    outputs
        .write_with(path, |out| {
            let mut writer = tmx::Writer::start(
                out,
                env!("CARGO_PKG_VERSION"),
                unix_now(),
                tmx::Langs::default(),
            )?;
            let mut seen = HashSet::new();
            let mut cached: HashSet<String> = HashSet::new();
            let mut written: io::Result<()> = Ok(());
            let listed = cache.each_of_pass("restore", |entry| {
                written = match replacing.get(entry.source.as_str()) {
                    Some(paragraphs) => write_reviewed(&mut writer, &mut seen, &entry, paragraphs),
                    None => match cache.refined(&entry.source, &entry.text) {
                        Ok(refined) => {
                            write_cached(&mut writer, &mut seen, &entry, refined.as_ref())
                        }
                        Err(err) => Err(stop(err)),
                    },
                };
                cached.insert(entry.source);
                written.is_ok()
            });
            written?;
            listed.map_err(&mut stop)?;
            // Reviewed paragraphs the cache does not hold (cleared, or another machine's).
            for paragraph in reviewed {
                if !cached.contains(&paragraph.german) {
                    write_once(&mut writer, &mut seen, &reviewed_unit(paragraph))?;
                }
            }
            units = writer.finish()?;
            Ok(())
        })
        .map_err(|err| failed.take().unwrap_or_else(|| err.into()))
        .with_context(|| format!("cannot export the cache to {}", path.display()))?;
    Ok(units)
}

/// The reviewed English of a German the cache holds, in place of the cache's: a correction
/// with the cache's backend, model and date (they made it), a kept draft with the record's.
fn write_reviewed(
    writer: &mut tmx::Writer,
    seen: &mut HashSet<blake3::Hash>,
    entry: &Exported,
    paragraphs: &[&Reviewed],
) -> io::Result<()> {
    for p in paragraphs {
        let unit = if p.drafted {
            reviewed_unit(p)
        } else {
            tmx::Unit {
                created: entry.created_at,
                backend: &entry.backend,
                model: &entry.model,
                ..reviewed_unit(p)
            }
        };
        write_once(writer, seen, &unit)?;
    }
    Ok(())
}

/// A cache entry as a unit: its English, or the one the refine round left (`refined`) where
/// it changed the first answer.
fn write_cached(
    writer: &mut tmx::Writer,
    seen: &mut HashSet<blake3::Hash>,
    entry: &Exported,
    refined: Option<&Entry>,
) -> io::Result<()> {
    let protected = tmx::protected_spans(&entry.source);
    let (english, backend, model) = refined
        .map_or((&entry.text, &entry.backend, &entry.model), |r| {
            (&r.text, &r.backend, &r.model)
        });
    write_once(
        writer,
        seen,
        &tmx::Unit {
            german: &entry.source,
            protected: &protected,
            english,
            created: entry.created_at,
            file: None,
            backend,
            model,
            review: None,
        },
    )
}

/// A reviewed paragraph as a unit, with the record's backend and no model.
fn reviewed_unit(paragraph: &Reviewed) -> tmx::Unit<'_> {
    tmx::Unit {
        german: &paragraph.german,
        protected: &paragraph.protected,
        english: &paragraph.english,
        created: paragraph.created,
        file: Some(&paragraph.file),
        backend: &paragraph.backend,
        model: "",
        review: paragraph.outcome,
    }
}

/// Writes `unit` unless its German and English were written already.
fn write_once(
    writer: &mut tmx::Writer,
    seen: &mut HashSet<blake3::Hash>,
    unit: &tmx::Unit,
) -> io::Result<()> {
    let mut pair = blake3::Hasher::new();
    pair.update(unit.german.as_bytes());
    pair.update(b"\0");
    pair.update(unit.english.as_bytes());
    if seen.insert(pair.finalize()) {
        writer.unit(unit)?;
    }
    Ok(())
}
