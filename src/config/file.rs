//! One config file as written: reading it, parsing it strictly (`deny_unknown_fields`), and the
//! checks that need only that file. Checks across layers live in `resolve`.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::ConfigError;
use super::kinds::{BackendKind, ColorChoice, Lang, Literal, Quotes, Secret, View};
use super::url::{BadUrl, normalize_url};
use super::{REFINE_RANGE, REFINE_TEXT, Source, WIDTH_RANGE, WIDTH_TEXT};

/// A config file that existed and parsed, with the source its values carry.
#[derive(Debug)]
pub(crate) struct FileLayer {
    pub path: PathBuf,
    pub source: Source,
    pub config: FileConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileConfig {
    pub to: Option<Lang>,
    pub view: Option<View>,
    pub color: Option<ColorChoice>,
    /// Read wide so an out-of-range number gets our message, not "expected u16".
    pub width: Option<i64>,
    pub quotes: Option<Quotes>,
    /// The most a run of `fix` may spend, in the currency of the prices.
    pub max_cost: Option<f64>,
    /// Translation memories (TMX) `fix` takes exact matches from, relative to the file.
    pub memory: Option<Vec<PathBuf>>,
    #[serde(default)]
    pub passes: FilePasses,
    #[serde(default)]
    pub backends: BTreeMap<String, FileBackend>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilePasses {
    pub draft: Option<PassSpec>,
    pub restore: Option<PassSpec>,
    /// Rounds of the refine round; read wide so an out-of-range number gets our message.
    pub refine: Option<i64>,
    /// Where the literal rendering comes from: `auto` (the draft pass, else the restore
    /// model), or `none`.
    pub literal: Option<Literal>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBackend {
    pub kind: Option<BackendKind>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key: Option<Secret>,
    /// Azure Translator: the resource's region (`Ocp-Apim-Subscription-Region`).
    pub region: Option<String>,
    // Tuning (see `tuning.rs`); range-checked in `check`.
    pub concurrency: Option<u32>,
    pub requests_per_minute: Option<u32>,
    pub tokens_per_minute: Option<u32>,
    pub timeout_secs: Option<u64>,
    pub max_attempts: Option<u32>,
    pub max_wait_secs: Option<u64>,
    pub max_output_tokens: Option<u32>,
    pub batch_tokens: Option<u32>,
    pub pack_documents: Option<bool>,
    pub temperature: Option<f64>,
    pub structured: Option<bool>,
    pub target_lang: Option<String>,
    pub job_requests: Option<u32>,
    pub job_bytes: Option<u64>,
    pub poll_secs: Option<f64>,
    /// `[backends.NAME.price]`: what the backend charges (see `crate::cost`).
    pub price: Option<FilePrice>,
}

/// A backend's prices as written: per million tokens (input, cached input, output) for a
/// chat model, per million characters for a translation service.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilePrice {
    pub input: Option<f64>,
    pub cached_input: Option<f64>,
    pub output: Option<f64>,
    pub characters: Option<f64>,
    pub currency: Option<String>,
}

/// A pass names one backend (`"deepl"`) or a fallback list (`["openai", "local"]`).
#[derive(Debug)]
pub(crate) struct PassSpec(pub Vec<String>);

impl<'de> Deserialize<'de> for PassSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PassVisitor;
        impl<'de> serde::de::Visitor<'de> for PassVisitor {
            type Value = PassSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a backend name or a list of backend names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PassSpec, E> {
                Ok(PassSpec(vec![v.to_owned()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<PassSpec, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(PassSpec(names))
            }
        }
        deserializer.deserialize_any(PassVisitor)
    }
}

/// Reads and checks one file; `Ok(None)` when it does not exist.
pub(crate) fn read_layer(path: &Path, source: Source) -> Result<Option<FileLayer>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let config = parse(path, &text)?;
    check(path, &config)?;
    Ok(Some(FileLayer {
        path: path.to_owned(),
        source,
        config,
    }))
}

/// Uses only toml's message and span, never its rendered snippet, which would quote the
/// offending line (possibly an `api_key`).
fn parse(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let message = err
            .message()
            .trim_end()
            .replace("unknown field", "unknown key");
        let Some(span) = err.span() else {
            return ConfigError::Parse {
                path: path.to_owned(),
                message,
                line: None,
                column: None,
            };
        };
        let (line, column) = line_column(text, span.start);
        let message = match key_at(text, span.start) {
            Some(key) if !message.contains(&format!("`{key}`")) => format!("{key}: {message}"),
            _ => message,
        };
        ConfigError::Parse {
            path: path.to_owned(),
            message,
            line: Some(line),
            column: Some(column),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The dotted key whose value sits at `offset`: the last `[table]` header above it plus the key
/// left of `=` on its line. Only key names are taken from the text, never values. `None` when
/// the line does not look like `key = value` (multi-line values, broken syntax).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    let is_key = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if !is_key(key) {
        return None;
    }
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|header| header.trim_matches(|c| c == '[' || c == ']').trim());
    match table {
        Some(table) if is_key(table) => Some(format!("{table}.{key}")),
        Some(_) => None,
        None => Some(key.to_owned()),
    }
}

fn check(path: &Path, config: &FileConfig) -> Result<(), ConfigError> {
    let invalid = |key: String, message: String| ConfigError::Invalid {
        key,
        origin: path.display().to_string(),
        message,
    };
    if let Some(width) = config.width
        && !WIDTH_RANGE.contains(&width)
    {
        return Err(invalid(
            "width".to_owned(),
            format!("{width} is out of range; use {WIDTH_TEXT}"),
        ));
    }
    for (name, backend) in &config.backends {
        if let Some(url) = &backend.base_url
            && let Err(bad) = normalize_url(url)
        {
            let key = format!("backends.{name}.base_url");
            return Err(match bad {
                BadUrl::Credentials(url) => ConfigError::UrlCredentials {
                    origin: format!("{}: {key}", path.display()),
                    url,
                },
                BadUrl::Invalid(message) => invalid(key, message),
            });
        }
        if let Some(price) = &backend.price
            && let Some((key, message)) = check_price(price)
        {
            return Err(invalid(format!("backends.{name}.price.{key}"), message));
        }
        if let Some((key, message)) = check_table(backend) {
            return Err(invalid(format!("backends.{name}.{key}"), message));
        }
        if backend.api_key_env.as_deref().is_some_and(str::is_empty) {
            return Err(invalid(
                format!("backends.{name}.api_key_env"),
                "must name an environment variable".to_owned(),
            ));
        }
    }
    if let Some(cost) = config.max_cost
        && !(cost.is_finite() && cost >= 0.0)
    {
        return Err(invalid(
            "max_cost".to_owned(),
            format!("{cost} is not an amount; use a number of 0 or more"),
        ));
    }
    if let Some(rounds) = config.passes.refine
        && !REFINE_RANGE.contains(&rounds)
    {
        return Err(invalid(
            "passes.refine".to_owned(),
            format!("{rounds} is out of range; use {REFINE_TEXT}"),
        ));
    }
    for (pass, spec) in [
        ("draft", &config.passes.draft),
        ("restore", &config.passes.restore),
    ] {
        if spec.as_ref().is_some_and(|spec| spec.0.is_empty()) {
            return Err(invalid(
                format!("passes.{pass}"),
                "the list is empty; name at least one backend or remove the key".to_owned(),
            ));
        }
    }
    Ok(())
}

const CONCURRENCY: RangeInclusive<u32> = 1..=64;
const TIMEOUT: RangeInclusive<u64> = 1..=3600;
const ATTEMPTS: RangeInclusive<u32> = 1..=20;
const MAX_WAIT: RangeInclusive<u64> = 0..=3600;
const OUTPUT_TOKENS: RangeInclusive<u32> = 64..=1_000_000;
const BATCH_TOKENS: RangeInclusive<u32> = 50..=200_000;
const TEMPERATURE: RangeInclusive<f64> = 0.0..=2.0;
/// Anthropic's limit; OpenAI's (50,000) is lower and applies on top.
const JOB_REQUESTS: RangeInclusive<u32> = 1..=100_000;
/// 1 KiB to Anthropic's 256 MB; OpenAI's 200 MB applies on top.
const JOB_BYTES: RangeInclusive<u64> = 1024..=256_000_000;
const POLL_SECS: RangeInclusive<f64> = 0.01..=3600.0;
const TARGET_LANGS: [&str; 2] = ["EN-US", "EN-GB"];

/// Range checks for one file's backend table: `(key, message)` of the first problem.
fn check_table(table: &FileBackend) -> Option<(&'static str, String)> {
    fn out_of<T: PartialOrd + std::fmt::Display>(
        value: Option<T>,
        range: &RangeInclusive<T>,
    ) -> Option<String> {
        let value = value?;
        (!range.contains(&value)).then(|| {
            format!(
                "{value} is out of range; use {} to {}",
                range.start(),
                range.end()
            )
        })
    }
    let checks = [
        ("concurrency", out_of(table.concurrency, &CONCURRENCY)),
        (
            "requests_per_minute",
            out_of(table.requests_per_minute, &(1..=u32::MAX)),
        ),
        (
            "tokens_per_minute",
            out_of(table.tokens_per_minute, &(1..=u32::MAX)),
        ),
        ("timeout_secs", out_of(table.timeout_secs, &TIMEOUT)),
        ("max_attempts", out_of(table.max_attempts, &ATTEMPTS)),
        ("max_wait_secs", out_of(table.max_wait_secs, &MAX_WAIT)),
        (
            "max_output_tokens",
            out_of(table.max_output_tokens, &OUTPUT_TOKENS),
        ),
        ("batch_tokens", out_of(table.batch_tokens, &BATCH_TOKENS)),
        ("temperature", out_of(table.temperature, &TEMPERATURE)),
        ("job_requests", out_of(table.job_requests, &JOB_REQUESTS)),
        ("job_bytes", out_of(table.job_bytes, &JOB_BYTES)),
        ("poll_secs", out_of(table.poll_secs, &POLL_SECS)),
    ];
    if let Some((key, Some(message))) = checks.into_iter().find(|(_, m)| m.is_some()) {
        return Some((key, message));
    }
    let lang = table.target_lang.as_deref()?;
    (!TARGET_LANGS.iter().any(|l| l.eq_ignore_ascii_case(lang))).then(|| {
        (
            "target_lang",
            format!(
                "`{lang}` is not supported; use {}",
                TARGET_LANGS.join(" or ")
            ),
        )
    })
}

/// A price table: amounts of 0 or more, a currency of three letters, some price set (what the
/// backend's kind needs is checked when the layers are merged).
fn check_price(price: &FilePrice) -> Option<(&'static str, String)> {
    let fields = [
        ("input", price.input),
        ("cached_input", price.cached_input),
        ("output", price.output),
        ("characters", price.characters),
    ];
    for (key, value) in fields {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            return Some((
                key,
                format!("{value} is not a price; use a number of 0 or more"),
            ));
        }
    }
    if let Some(currency) = &price.currency
        && !(currency.len() == 3 && currency.chars().all(|c| c.is_ascii_alphabetic()))
    {
        return Some((
            "currency",
            format!("`{currency}` is not a currency code; use three letters such as USD or EUR"),
        ));
    }
    if price.characters.is_none() && price.input.is_none() && price.output.is_none() {
        return Some((
            "input",
            "no price is set; give input and output (per million tokens) or characters \
             (per million characters)"
                .to_owned(),
        ));
    }
    None
}
