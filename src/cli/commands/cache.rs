//! `klartext cache stats|clear`.

use std::io::Write;

use crate::cache::Cache;
use crate::cli::args::CacheCommand;
use crate::cli::{Context, Status};

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
    }
    Ok(Status::Success)
}
