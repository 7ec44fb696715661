//! Settings, resolved once. `config` owns every layer a setting can come from — built-in
//! defaults, `NO_COLOR` and the providers' own variables, the user file, the project file
//! `.klartext.toml`, `KLARTEXT_*` variables and command-line flags (lowest first) — and records
//! for each value the layer it came from, for `klartext config show`. Nothing else reads config
//! files or setting variables. The environment comes in as an [`Env`] snapshot; the only other
//! outside reads are the two files and the platform directories (see `platform_dirs`).
//! API keys live in [`Secret`] and never appear in Debug output, `show()` or errors.

mod backends;
mod error;
mod file;
mod kinds;
#[cfg(test)]
mod tests;
mod tuning;
mod url;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use etcetera::BaseStrategy;

pub use error::ConfigError;
pub use kinds::{
    BackendKind, Capability, ColorChoice, Lang, Literal, Quotes, Secret, View, deepl_host,
};
pub use tuning::Tuning;
pub use url::redact_url;

use file::{FileConfig, FileLayer, read_layer};
use kinds::valid_names;

/// The project file's name, looked for in the working directory.
pub const PROJECT_FILE: &str = ".klartext.toml";
const APP_DIR: &str = "klartext";
const USER_FILE: &str = "config.toml";

const WIDTH_RANGE: RangeInclusive<i64> = 20..=1000;
const WIDTH_TEXT: &str = "a number from 20 to 1000";
const REFINE_RANGE: RangeInclusive<i64> = 0..=3;
const REFINE_TEXT: &str = "a number from 0 to 3 (0: never)";
/// Refine rounds when nothing says otherwise.
const REFINE_DEFAULT: u8 = 1;

/// A snapshot of the process environment, taken once by the CLI; tests build their own.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl Env {
    /// Variables whose name or value is not UTF-8 are left out; none of ours can be.
    pub fn from_process() -> Env {
        let vars = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        Env { vars }
    }

    pub fn from_pairs<I, K, V>(pairs: I) -> Env
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(name, value)| (name.into(), value.into()))
            .collect();
        Env { vars }
    }

    /// The value as set; an empty string counts as set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// The value if set and not empty, the usual meaning of "set" for `NO_COLOR` and friends.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }
}

/// Names only: the snapshot holds API keys.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Where a value came from, lowest precedence first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    /// `NO_COLOR` or a provider's own variable (`OPENAI_BASE_URL`, `OLLAMA_HOST`, …).
    BaseEnv(String),
    User(PathBuf),
    Project(PathBuf),
    /// A `KLARTEXT_*` variable, or the variable an API key was read from.
    Env(String),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::BaseEnv(var) | Self::Env(var) => write!(f, "env {var}"),
            Self::User(path) => write!(f, "user file {}", path.display()),
            Self::Project(path) => write!(f, "project file {}", path.display()),
            Self::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A value and the layer that set it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn new(value: T, source: Source) -> Self {
        Self { value, source }
    }
}

/// One configured backend, merged across layers.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendSettings {
    pub name: String,
    pub kind: Sourced<BackendKind>,
    /// `None` only for DeepL, whose host follows from the key ([`BackendSettings::endpoint`]).
    pub base_url: Option<Sourced<String>>,
    pub model: Option<Sourced<String>>,
    /// The variable the key is read from: `api_key_env` in a file, else the kind's default.
    pub api_key_env: Option<Sourced<String>>,
    /// From the variable named by `api_key_env` if set and non-empty, else a file's `api_key`.
    pub api_key: Option<Sourced<Secret>>,
    /// Azure Translator's region: a file's `region`, else `AZURE_TRANSLATOR_REGION`.
    pub region: Option<Sourced<String>>,
    pub tuning: Tuning,
    /// `[backends.NAME.price]`, else the built-in price of the kind and model; `None` when
    /// neither knows it (the cost of the backend is then unknown).
    pub price: Option<Sourced<crate::cost::Price>>,
}

impl BackendSettings {
    pub fn capability(&self) -> Capability {
        self.kind.value.capability()
    }

    /// The URL to call: the configured one, or DeepL's Free/Pro host chosen by the key.
    pub fn endpoint(&self) -> Option<&str> {
        match (&self.base_url, &self.api_key) {
            (Some(url), _) => Some(&url.value),
            (None, Some(key)) if self.kind.value == BackendKind::Deepl => {
                Some(deepl_host(&key.value))
            }
            (None, _) => None,
        }
    }
}

/// Which backends run each pass; a list is tried in order as fallbacks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Passes {
    pub draft: Option<Sourced<Vec<String>>>,
    pub restore: Option<Sourced<Vec<String>>>,
}

/// Every setting, resolved once.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub to: Sourced<Lang>,
    pub view: Sourced<View>,
    pub color: Sourced<ColorChoice>,
    /// `None`: the terminal decides.
    pub width: Option<Sourced<u16>>,
    /// Quotation marks of the output: curly as the model writes them, or made straight.
    pub quotes: Sourced<Quotes>,
    pub passes: Passes,
    /// `passes.refine`: how many times at most a flagged paragraph goes back (`fix --refine`
    /// overrides it).
    pub refine: Sourced<u8>,
    /// `passes.literal`: where the literal rendering comes from (`fix --literal` overrides).
    pub literal: Sourced<Literal>,
    /// `max_cost`: the most a run of `fix` may spend (`fix --max-cost` overrides).
    pub max_cost: Option<Sourced<f64>>,
    /// `memory`: translation memories (TMX) for `fix`, from the last file that lists them,
    /// relative to its folder (`fix --memory` adds to them).
    pub memory: Option<Sourced<Vec<PathBuf>>>,
    pub backends: BTreeMap<String, BackendSettings>,
    /// Where the user file is looked for, whether or not it exists.
    pub user_file: PathBuf,
    pub project_file: PathBuf,
    /// The files that existed and were read, lowest first.
    pub loaded_files: Vec<PathBuf>,
    pub cache_dir: Sourced<PathBuf>,
}

/// Values from command-line flags; `None` leaves the lower layers alone.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub to: Option<Lang>,
    pub view: Option<View>,
    pub color: Option<ColorChoice>,
    pub width: Option<u16>,
    /// `--no-config`: skip the user and project files.
    pub no_config: bool,
}

/// One row of `klartext config show`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShownValue {
    pub key: String,
    pub value: String,
    pub source: String,
}

pub fn load(env: &Env, cwd: &Path, flags: &Overrides) -> Result<Settings, ConfigError> {
    let user_file = user_config_path(env)?;
    let project_file = cwd.join(PROJECT_FILE);
    let mut layers = Vec::new();
    if !flags.no_config {
        layers.extend(read_layer(&user_file, Source::User(user_file.clone()))?);
        // `KLARTEXT_CONFIG` may name the project file itself; read it once.
        if project_file != user_file {
            layers.extend(read_layer(
                &project_file,
                Source::Project(project_file.clone()),
            )?);
        }
    }

    let mut color = Sourced::new(ColorChoice::Auto, Source::Default);
    if env.get_nonempty("NO_COLOR").is_some() {
        color = Sourced::new(ColorChoice::Never, Source::BaseEnv("NO_COLOR".to_owned()));
    }
    let color = choice(env, &layers, color, |c| c.color, "KLARTEXT_COLOR")?;
    let to = Sourced::new(Lang::En, Source::Default);
    let to = choice(env, &layers, to, |c| c.to, "KLARTEXT_TO")?;
    let view = Sourced::new(View::Auto, Source::Default);
    let view = choice(env, &layers, view, |c| c.view, "KLARTEXT_VIEW")?;
    let width = width(env, &layers, flags.width)?;
    let quotes = Sourced::new(Quotes::Curly, Source::Default);
    let quotes = choice(env, &layers, quotes, |c| c.quotes, "KLARTEXT_QUOTES")?;

    backends::check_pass_names(&layers)?;
    let mut backends = backends::resolve_backends(env, &layers)?;
    let mut passes = backends::resolve_passes(&layers, &backends)?;
    if backends.is_empty()
        && passes == Passes::default()
        && let Some((found, picked)) = backends::from_provider_keys(env)?
    {
        backends = found;
        passes = picked;
    }

    let cache_dir = match env.get_nonempty("KLARTEXT_CACHE_DIR") {
        // A folder that does not exist yet is created when needed; a file never could be.
        Some(dir) if Path::new(dir).exists() && !Path::new(dir).is_dir() => {
            return Err(ConfigError::Env {
                var: "KLARTEXT_CACHE_DIR".to_owned(),
                value: dir.to_owned(),
                message: "not a folder".to_owned(),
            });
        }
        Some(dir) => Sourced::new(
            PathBuf::from(dir),
            Source::Env("KLARTEXT_CACHE_DIR".to_owned()),
        ),
        None => {
            let (_, cache) = platform_dirs().ok_or(ConfigError::NoCacheDir)?;
            Sourced::new(cache.join(APP_DIR), Source::Default)
        }
    };

    Ok(Settings {
        to: flag(to, flags.to, "--to"),
        view: flag(view, flags.view, "--view"),
        color: flag(color, flags.color, "--color"),
        width,
        quotes,
        passes,
        refine: refine(&layers),
        literal: literal(&layers),
        max_cost: max_cost(env, &layers)?,
        memory: memory(&layers),
        backends,
        user_file,
        project_file,
        loaded_files: layers.into_iter().map(|layer| layer.path).collect(),
        cache_dir,
    })
}

/// `$KLARTEXT_CONFIG` (an exact file), else `$KLARTEXT_CONFIG_DIR/config.toml`, else
/// `<platform config dir>/klartext/config.toml`.
pub fn user_config_path(env: &Env) -> Result<PathBuf, ConfigError> {
    if let Some(file) = env.get_nonempty("KLARTEXT_CONFIG") {
        return Ok(PathBuf::from(file));
    }
    if let Some(dir) = env.get_nonempty("KLARTEXT_CONFIG_DIR") {
        return Ok(Path::new(dir).join(USER_FILE));
    }
    let (config, _) = platform_dirs().ok_or(ConfigError::NoConfigDir)?;
    Ok(config.join(APP_DIR).join(USER_FILE))
}

/// The platform's config and cache directories. The one place this module lets the process
/// environment in (etcetera reads `HOME`/`XDG_*`), and only when no `KLARTEXT_*_DIR` is set.
fn platform_dirs() -> Option<(PathBuf, PathBuf)> {
    let strategy = etcetera::choose_base_strategy().ok()?;
    Some((strategy.config_dir(), strategy.cache_dir()))
}

/// Applies the file layers and then the `KLARTEXT_*` variable to a choice setting.
fn choice<T: ValueEnum + Clone>(
    env: &Env,
    layers: &[FileLayer],
    below: Sourced<T>,
    field: fn(&FileConfig) -> Option<T>,
    var: &str,
) -> Result<Sourced<T>, ConfigError> {
    let from_files = layers
        .iter()
        .fold(below, |current, layer| match field(&layer.config) {
            Some(value) => Sourced::new(value, layer.source.clone()),
            None => current,
        });
    let Some(value) = env.get_nonempty(var) else {
        return Ok(from_files);
    };
    let parsed = T::from_str(value, false).map_err(|_| ConfigError::Env {
        var: var.to_owned(),
        value: value.to_owned(),
        message: format!("valid values: {}", valid_names::<T>()),
    })?;
    Ok(Sourced::new(parsed, Source::Env(var.to_owned())))
}

fn flag<T>(below: Sourced<T>, flag: Option<T>, name: &'static str) -> Sourced<T> {
    match flag {
        Some(value) => Sourced::new(value, Source::Flag(name)),
        None => below,
    }
}

fn width(
    env: &Env,
    layers: &[FileLayer],
    flag: Option<u16>,
) -> Result<Option<Sourced<u16>>, ConfigError> {
    if let Some(width) = flag {
        if !WIDTH_RANGE.contains(&i64::from(width)) {
            return Err(ConfigError::Invalid {
                key: "width".to_owned(),
                origin: "flag --width".to_owned(),
                message: format!("{width} is out of range; use {WIDTH_TEXT}"),
            });
        }
        return Ok(Some(Sourced::new(width, Source::Flag("--width"))));
    }
    const VAR: &str = "KLARTEXT_WIDTH";
    if let Some(value) = env.get_nonempty(VAR) {
        let width = value
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|width| WIDTH_RANGE.contains(width))
            .and_then(|width| u16::try_from(width).ok())
            .ok_or_else(|| ConfigError::Env {
                var: VAR.to_owned(),
                value: value.to_owned(),
                message: format!("valid values: {WIDTH_TEXT}"),
            })?;
        return Ok(Some(Sourced::new(width, Source::Env(VAR.to_owned()))));
    }
    Ok(layers.iter().rev().find_map(|layer| {
        let width = layer.config.width?;
        let width = u16::try_from(width).expect("file widths are range-checked on reading");
        Some(Sourced::new(width, layer.source.clone()))
    }))
}

/// `passes.refine` from the last file that sets it (range-checked on reading).
fn refine(layers: &[FileLayer]) -> Sourced<u8> {
    layers
        .iter()
        .rev()
        .find_map(|layer| {
            let rounds = u8::try_from(layer.config.passes.refine?).ok()?;
            Some(Sourced::new(rounds, layer.source.clone()))
        })
        .unwrap_or(Sourced::new(REFINE_DEFAULT, Source::Default))
}

/// `passes.literal` from the last file that sets it.
fn literal(layers: &[FileLayer]) -> Sourced<Literal> {
    layers
        .iter()
        .rev()
        .find_map(|layer| {
            Some(Sourced::new(
                layer.config.passes.literal?,
                layer.source.clone(),
            ))
        })
        .unwrap_or(Sourced::new(Literal::Auto, Source::Default))
}

/// `memory` from the last file that sets it, each path relative to that file's folder.
fn memory(layers: &[FileLayer]) -> Option<Sourced<Vec<PathBuf>>> {
    layers.iter().rev().find_map(|layer| {
        let dir = layer.path.parent().unwrap_or(Path::new(""));
        let paths = layer.config.memory.as_ref()?;
        Some(Sourced::new(
            paths.iter().map(|p| dir.join(p)).collect(),
            layer.source.clone(),
        ))
    })
}

/// `KLARTEXT_MAX_COST`, else `max_cost` from the last file that sets it (checked on reading).
fn max_cost(env: &Env, layers: &[FileLayer]) -> Result<Option<Sourced<f64>>, ConfigError> {
    const VAR: &str = "KLARTEXT_MAX_COST";
    if let Some(value) = env.get_nonempty(VAR) {
        let cost = value
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|cost| cost.is_finite() && *cost >= 0.0)
            .ok_or_else(|| ConfigError::Env {
                var: VAR.to_owned(),
                value: value.to_owned(),
                message: "valid values: an amount of 0 or more".to_owned(),
            })?;
        return Ok(Some(Sourced::new(cost, Source::Env(VAR.to_owned()))));
    }
    Ok(layers
        .iter()
        .rev()
        .find_map(|layer| Some(Sourced::new(layer.config.max_cost?, layer.source.clone()))))
}

impl Settings {
    /// True when at least one API pass is configured; otherwise `fix` runs offline only.
    pub fn has_passes(&self) -> bool {
        self.passes.draft.is_some() || self.passes.restore.is_some()
    }

    /// Every setting with its value and source, defaults included; keys are masked.
    pub fn show(&self) -> Vec<ShownValue> {
        let mut rows = Vec::new();
        let mut row = |key: String, value: String, source: &Source| {
            rows.push(ShownValue {
                key,
                value,
                source: source.to_string(),
            });
        };
        row("to".into(), self.to.value.to_string(), &self.to.source);
        row(
            "view".into(),
            self.view.value.to_string(),
            &self.view.source,
        );
        row(
            "color".into(),
            self.color.value.to_string(),
            &self.color.source,
        );
        match &self.width {
            Some(width) => row("width".into(), width.value.to_string(), &width.source),
            None => row("width".into(), "auto (terminal)".into(), &Source::Default),
        }
        row(
            "quotes".into(),
            self.quotes.value.to_string(),
            &self.quotes.source,
        );
        for (pass, value) in [
            ("draft", &self.passes.draft),
            ("restore", &self.passes.restore),
        ] {
            let key = format!("passes.{pass}");
            match value {
                Some(names) => row(key, names.value.join(", "), &names.source),
                None => row(key, NOT_SET.into(), &Source::Default),
            }
        }
        row(
            "passes.refine".into(),
            self.refine.value.to_string(),
            &self.refine.source,
        );
        row(
            "passes.literal".into(),
            self.literal.value.to_string(),
            &self.literal.source,
        );
        match &self.max_cost {
            Some(cost) => row("max_cost".into(), cost.value.to_string(), &cost.source),
            None => row("max_cost".into(), "(no limit)".into(), &Source::Default),
        }
        match &self.memory {
            Some(memory) => {
                let paths: Vec<String> = memory
                    .value
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                row("memory".into(), paths.join(", "), &memory.source);
            }
            None => row("memory".into(), "(none)".into(), &Source::Default),
        }
        for (name, backend) in &self.backends {
            let key = |field: &str| format!("backends.{name}.{field}");
            let kind = &backend.kind;
            row(key("kind"), kind.value.to_string(), &kind.source);
            match &backend.base_url {
                Some(url) => row(key("base_url"), redact_url(&url.value).into(), &url.source),
                None => row(key("base_url"), "(chosen by key)".into(), &Source::Default),
            }
            for (field, value) in [
                ("model", &backend.model),
                ("api_key_env", &backend.api_key_env),
            ] {
                match value {
                    Some(value) => row(key(field), value.value.clone(), &value.source),
                    None => row(key(field), NOT_SET.into(), &Source::Default),
                }
            }
            match &backend.api_key {
                Some(secret) => row(
                    key("api_key"),
                    format!("{} (set)", Secret::MASK),
                    &secret.source,
                ),
                None => row(key("api_key"), NOT_SET.into(), &Source::Default),
            }
            if backend.kind.value == BackendKind::Azure {
                match &backend.region {
                    Some(region) => row(key("region"), region.value.clone(), &region.source),
                    None => row(key("region"), NOT_SET.into(), &Source::Default),
                }
            }
            for (field, value, source) in backend.tuning.shown(backend.kind.value) {
                row(key(field), value, source);
            }
            match &backend.price {
                Some(price) => {
                    for (field, value) in shown_price(&price.value, backend.kind.value) {
                        row(key(&format!("price.{field}")), value, &price.source);
                    }
                }
                None => row(key("price"), "(unknown)".into(), &Source::Default),
            }
        }
        let cache = &self.cache_dir;
        row(
            "cache_dir".into(),
            cache.value.display().to_string(),
            &cache.source,
        );
        rows
    }
}

const NOT_SET: &str = "(not set)";

/// The price's keys as a config file sets them: per million tokens for a language model, per
/// million characters for a translation service.
fn shown_price(price: &crate::cost::Price, kind: BackendKind) -> Vec<(&'static str, String)> {
    let mut rows = match kind.capability() {
        Capability::Translate => vec![("characters", price.characters.to_string())],
        Capability::Chat => vec![
            ("input", price.input.to_string()),
            ("cached_input", price.cached_input.to_string()),
            ("output", price.output.to_string()),
        ],
    };
    rows.push(("currency", price.currency.clone()));
    rows
}
