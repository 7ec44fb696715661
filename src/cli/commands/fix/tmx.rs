//! `--report run.tmx`: the run's finished paragraphs as a translation memory (TMX 1.4b), one
//! `<tu>` per finished segment — the repaired German that was sent against the English as
//! written — with the file, backend and model as properties ([`crate::tmx`]).

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::config::Lang;
use crate::pipeline::{Engine, Outcome, Work};
use crate::tmx::{self, Langs, Unit};

/// Each backend's model, by the backend's name, for the units' `x-model`.
pub fn models(engine: Option<&Engine>) -> BTreeMap<String, String> {
    let Some(engine) = engine else {
        return BTreeMap::new();
    };
    engine
        .draft
        .iter()
        .chain([&engine.main])
        .flat_map(|pass| &pass.members)
        .map(|m| (m.backend.name().to_owned(), m.backend.model().to_owned()))
        .collect()
}

/// The memory's languages: German against the output's.
pub fn langs(to: Lang) -> Langs<'static> {
    Langs {
        source: "de",
        target: to.code(),
    }
}

/// The `<tu>` of each finished segment of `outcome`, from file `file`; the number written.
pub fn units(
    outcome: &Outcome,
    file: &str,
    models: &BTreeMap<String, String>,
    now: i64,
    to: Lang,
    out: &mut dyn Write,
) -> io::Result<usize> {
    let Work::Translated { translated, .. } = &outcome.work else {
        return Ok(0);
    };
    let mut written = 0;
    for result in &translated.segments {
        let Some(english) = &result.final_text else {
            continue;
        };
        let protected = outcome
            .repaired
            .segments
            .get(result.id.index())
            .filter(|seg| seg.text == result.repaired)
            .map_or(&[][..], |seg| &seg.protected[..]);
        let backend = result.final_backend.as_deref().unwrap_or_default();
        let unit = Unit {
            german: &result.repaired,
            protected,
            english,
            created: now,
            file: Some(file),
            backend,
            model: models.get(backend).map_or("", String::as_str),
            review: None,
        };
        tmx::unit(out, &unit, langs(to))?;
        written += 1;
    }
    Ok(written)
}

/// A whole memory of one document: `--report run.tmx` for one file.
pub fn document(
    outcome: &Outcome,
    file: &str,
    models: &BTreeMap<String, String>,
    to: Lang,
    out: &mut dyn Write,
) -> io::Result<()> {
    let now = crate::cache::unix_now();
    tmx::head(out, env!("CARGO_PKG_VERSION"), now, langs(to))?;
    units(outcome, file, models, now, to, out)?;
    tmx::tail(out)
}
