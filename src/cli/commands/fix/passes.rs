//! Setting up the API passes for a run of `fix`: the engine with its backends, prompts,
//! glossary and cache, and the one line that says which backends were picked when no config
//! file named them.

use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::cli::Context;
use crate::cli::args::FixArgs;
use crate::config::Source;
use crate::glossary::Glossary;
use crate::pipeline::Engine;

/// The engine for this run. A cache that cannot be opened is a warning: the run goes on
/// without it. One that can only be read is a warning too: the run uses what it holds.
pub fn engine(args: &FixArgs, ctx: &Context) -> anyhow::Result<Engine> {
    let settings = &ctx.settings;
    let config_dir = settings.user_file.parent().map(Path::to_path_buf);
    let glossary = load_glossary(args, ctx, config_dir.as_deref())?;
    let cache = if args.no_cache {
        None
    } else {
        match Cache::open(&settings.cache_dir.value) {
            Ok(cache) => {
                if cache.is_read_only() {
                    let path = cache.path().unwrap_or(&settings.cache_dir.value);
                    ctx.printer.warn(&format!(
                        "cache {} is read-only: using what it holds, adding nothing",
                        path.display()
                    ));
                }
                Some(cache)
            }
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
        refine_rounds(args, ctx),
    )?;
    if engine.refine > 0 && !engine.refines() {
        ctx.printer.detail(&format!(
            "refine: skipped; {} is a translation service and takes no instructions",
            engine.main.first().backend.name()
        ));
    }
    Ok(engine)
}

/// `--no-refine`, else `--refine N`, else `passes.refine` (default 1).
fn refine_rounds(args: &FixArgs, ctx: &Context) -> u8 {
    if args.no_refine {
        0
    } else {
        args.refine.unwrap_or(ctx.settings.refine.value)
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
