//! `klartext cache stats|clear|export`.

use std::collections::HashSet;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context as _;

use crate::cache::Cache;
use crate::cli::args::CacheCommand;
use crate::cli::{Context, Status};
use crate::files::{Ledger, Outputs};
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
        CacheCommand::Export { tmx, force } => {
            let mut outputs = Outputs::new(Ledger::open(&ctx.settings.cache_dir.value), *force);
            let units = export_tmx(&cache, tmx, &mut outputs)?;
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

/// Every finished restore of `cache` as TMX at `path`: the repaired German against the
/// English, protected spans as `<ph>`. A German and English pair cached more than once (other
/// context, another backend) is written once, the first time it was cached. The number of
/// units written.
fn export_tmx(cache: &Cache, path: &Path, outputs: &mut Outputs) -> anyhow::Result<usize> {
    let mut units = 0;
    let mut failed: Option<anyhow::Error> = None;
    outputs
        .write_with(path, |out| {
            let mut writer =
                tmx::Writer::start(out, env!("CARGO_PKG_VERSION"), now(), tmx::Langs::default())?;
            let mut seen = HashSet::new();
            let mut written: io::Result<()> = Ok(());
            let listed = cache.each_of_pass("restore", |entry| {
                let mut pair = blake3::Hasher::new();
                pair.update(entry.source.as_bytes());
                pair.update(b"\0");
                pair.update(entry.text.as_bytes());
                if !seen.insert(pair.finalize()) {
                    return true;
                }
                let protected = tmx::protected_spans(&entry.source);
                written = writer.unit(&tmx::Unit {
                    german: &entry.source,
                    protected: &protected,
                    english: &entry.text,
                    created: entry.created_at,
                    file: None,
                    backend: &entry.backend,
                    model: &entry.model,
                });
                written.is_ok()
            });
            written?;
            if let Err(err) = listed {
                // Not an I/O error of the file: kept to tell as it is, and nothing is written.
                failed = Some(err.into());
                return Err(io::Error::other("the cache could not be read"));
            }
            units = writer.finish()?;
            Ok(())
        })
        .map_err(|err| failed.take().unwrap_or_else(|| err.into()))
        .with_context(|| format!("cannot export the cache to {}", path.display()))?;
    Ok(units)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
