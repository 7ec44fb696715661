//! Setting up the API passes for a run of `fix`: the engine with its backends, prompts,
//! glossary and cache, and the one line that says which backends were picked when no config
//! file named them.

use std::path::{Path, PathBuf};

use crate::cache::Cache;
use crate::cli::Context;
use crate::cli::args::FixArgs;
use std::collections::BTreeSet;

use crate::cli::printer::Hinted;
use crate::config::{Settings, Source, Sourced};
use crate::glossary::Glossary;
use crate::pipeline::Engine;
use crate::tmx::Memory;

use anyhow::Context as _;

/// The engine for this run. A cache that cannot be opened is a warning: the run goes on
/// without it. One that can only be read is a warning too: the run uses what it holds.
pub fn engine(args: &FixArgs, ctx: &Context) -> anyhow::Result<Engine> {
    let settings = &with_flags(args, &ctx.settings);
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
    let memory = load_memory(args, ctx)?;
    let prompts = config_dir.map(|dir| dir.join("prompts"));
    let mut engine = Engine::new(
        settings,
        settings.to.value,
        glossary,
        cache,
        prompts.as_deref(),
        args.jobs.map(usize::from),
        refine_rounds(args, ctx),
    )?;
    engine.memory = memory;
    check_budget(&engine, settings)?;
    if engine.refine > 0 && !engine.refines() {
        ctx.printer.detail(&format!(
            "refine: skipped; {} is a translation service and takes no instructions",
            engine.main.first().backend.name()
        ));
    }
    Ok(engine)
}

/// The settings with `--max-cost` and `--literal` over the config's `max_cost` and
/// `passes.literal`.
fn with_flags(args: &FixArgs, settings: &Settings) -> Settings {
    let mut settings = settings.clone();
    if let Some(cost) = args.max_cost {
        settings.max_cost = Some(Sourced::new(cost, Source::Flag("--max-cost")));
    }
    if let Some(literal) = args.literal {
        settings.literal = Sourced::new(literal, Source::Flag("--literal"));
    }
    settings
}

/// A budget needs every backend's price, in one currency: refused before anything is sent.
fn check_budget(engine: &Engine, settings: &Settings) -> anyhow::Result<()> {
    let Some(limit) = &settings.max_cost else {
        return Ok(());
    };
    let by = match &limit.source {
        Source::Flag(flag) => (*flag).to_owned(),
        source => format!("max_cost ({source})"),
    };
    if let Some(backend) = engine.unpriced().first() {
        anyhow::bail!(Hinted::new(
            format!("{by} needs the price of every backend, and {backend} has none"),
            format!(
                "set backends.{backend}.price in the config (input and output per million \
                 tokens, or characters per million characters), or run without {by}"
            )
        ));
    }
    let currencies: BTreeSet<&str> = engine
        .draft
        .iter()
        .chain([&engine.main])
        .flat_map(|pass| &pass.members)
        .filter_map(|m| engine.price(m.backend.name()))
        .map(|p| p.currency.as_str())
        .collect();
    if currencies.len() > 1 {
        let listed: Vec<&str> = currencies.into_iter().collect();
        anyhow::bail!(Hinted::new(
            format!(
                "{by} is one amount, but the backends' prices are in {}",
                listed.join(" and ")
            ),
            "set the same currency in every backends.NAME.price"
        ));
    }
    Ok(())
}

/// `--no-refine`, else `--refine N`, else `passes.refine` (default 1).
fn refine_rounds(args: &FixArgs, ctx: &Context) -> u8 {
    if args.no_refine {
        0
    } else {
        args.refine.unwrap_or(ctx.settings.refine.value)
    }
}

/// `--memory` files, then the config's `memory`: the first that has a German gives its
/// English. `None` without any.
fn load_memory(args: &FixArgs, ctx: &Context) -> anyhow::Result<Option<Memory>> {
    let configured = ctx.settings.memory.iter().flat_map(|m| &m.value);
    let files: Vec<&PathBuf> = args.memory.iter().chain(configured).collect();
    if files.is_empty() {
        return Ok(None);
    }
    let mut memory = Memory::default();
    for path in files {
        // Any encoding a CAT tool saves in (Trados writes UTF-16), as for documents.
        let text = crate::files::read_document(path)
            .with_context(|| format!("cannot read the translation memory {}", path.display()))?
            .text;
        let units = memory
            .add_tmx(&text)
            .with_context(|| format!("{} is not a TMX translation memory", path.display()))?;
        ctx.printer.detail(&format!(
            "memory: {} ({})",
            path.display(),
            crate::count::counted(units, "unit", "units")
        ));
    }
    Ok(Some(memory))
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
