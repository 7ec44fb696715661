//! Resolving `[backends.*]` and `[passes]`: field-by-field merge of the file layers over each
//! kind's defaults and the provider-standard variables, then `KLARTEXT_<NAME>_URL` and the key
//! variables, then the checks that need the merged picture (model present, passes defined).

use std::collections::{BTreeMap, BTreeSet};

use clap::ValueEnum;

use super::error::ConfigError;
use super::file::{FileBackend, FileLayer, FilePasses, PassSpec};
use super::kinds::{BackendKind, Capability, Secret, deepl_host, valid_names};
use super::tuning::resolve_tuning;
use super::url::{BadUrl, normalize_url, redact_url};
use super::{BackendSettings, Env, Passes, Source, Sourced};
use crate::cost::{self, Price};

const OLLAMA_PORT: u16 = 11434;

pub(crate) fn resolve_backends(
    env: &Env,
    layers: &[FileLayer],
) -> Result<BTreeMap<String, BackendSettings>, ConfigError> {
    let names: BTreeSet<&String> = layers
        .iter()
        .flat_map(|layer| layer.config.backends.keys())
        .collect();
    names
        .into_iter()
        .map(|name| Ok((name.clone(), resolve_backend(env, layers, name)?)))
        .collect()
}

fn resolve_backend(
    env: &Env,
    layers: &[FileLayer],
    name: &str,
) -> Result<BackendSettings, ConfigError> {
    // Lowest layer first, so the last match wins.
    let tables: Vec<(&FileLayer, &FileBackend)> = layers
        .iter()
        .filter_map(|layer| layer.config.backends.get(name).map(|table| (layer, table)))
        .collect();
    let first = tables
        .first()
        .expect("a backend name comes from some layer")
        .0;

    let kind_layer = tables
        .iter()
        .rev()
        .find_map(|(layer, table)| table.kind.map(|kind| (layer, kind)));
    let (kind, origin) = match kind_layer {
        Some((layer, kind)) => (Sourced::new(kind, layer.source.clone()), *layer),
        None => match BackendKind::from_str(name, false) {
            // The table name is the kind: `[backends.deepl]`.
            Ok(kind) => (Sourced::new(kind, first.source.clone()), first),
            Err(_) => {
                return Err(ConfigError::Invalid {
                    key: format!("backends.{name}.kind"),
                    origin: first.path.display().to_string(),
                    message: format!(
                        "`kind` is missing and `{name}` is not a backend kind; valid kinds: {}",
                        valid_names::<BackendKind>()
                    ),
                });
            }
        },
    };
    let field = |get: fn(&FileBackend) -> Option<&String>| {
        tables.iter().rev().find_map(|(layer, table)| {
            get(table).map(|value| Sourced::new(value.clone(), layer.source.clone()))
        })
    };

    let mut base_url = kind
        .value
        .default_base_url()
        .map(|url| Sourced::new(url.to_owned(), Source::Default));
    if let Some(var) = kind.value.base_url_env()
        && let Some(value) = env.get_nonempty(var)
    {
        let url = if kind.value == BackendKind::Ollama {
            ollama_host_url(value)
        } else {
            value.to_owned()
        };
        base_url = Some(Sourced::new(
            env_url(var, value, &url)?,
            Source::BaseEnv(var.to_owned()),
        ));
    }
    if let Some(file_url) = field(|table| table.base_url.as_ref()) {
        let url = normalize_url(&file_url.value).expect("file URLs are checked on reading");
        base_url = Some(Sourced::new(url, file_url.source));
    }
    let url_var = format!("KLARTEXT_{}_URL", env_name(name));
    if let Some(value) = env.get_nonempty(&url_var) {
        base_url = Some(Sourced::new(
            env_url(&url_var, value, value)?,
            Source::Env(url_var),
        ));
    }

    let model = field(|table| table.model.as_ref());
    if kind.value.capability() == Capability::Chat
        && model
            .as_ref()
            .is_none_or(|model| model.value.trim().is_empty())
    {
        return Err(ConfigError::Invalid {
            key: format!("backends.{name}"),
            origin: origin.path.display().to_string(),
            message: format!("`model` is required for kind {}", kind.value),
        });
    }

    let api_key_env = field(|table| table.api_key_env.as_ref()).or_else(|| {
        kind.value
            .default_key_env()
            .map(|var| Sourced::new(var.to_owned(), Source::Default))
    });
    let api_key = resolve_key(env, kind.value, api_key_env.as_ref()).or_else(|| {
        tables.iter().rev().find_map(|(layer, table)| {
            table
                .api_key
                .as_ref()
                .map(|key| Sourced::new(key.clone(), layer.source.clone()))
        })
    });
    let region = field(|table| table.region.as_ref()).or_else(|| region_from_env(env, kind.value));

    let tuning = resolve_tuning(
        kind.value,
        base_url.as_ref().map(|url| url.value.as_str()),
        &tables,
    );
    let price = resolve_price(name, kind.value, model.as_ref(), api_key.as_ref(), &tables)?;
    Ok(BackendSettings {
        name: name.to_owned(),
        kind,
        base_url,
        model,
        api_key_env,
        api_key,
        region,
        tuning,
        price,
    })
}

/// The built-in price; a DeepL Free key (`…:fx`) bills nothing up to its monthly limit.
fn builtin_price(
    kind: BackendKind,
    model: Option<&str>,
    api_key: Option<&Sourced<Secret>>,
) -> Option<Sourced<Price>> {
    let mut price = cost::builtin(kind, model)?;
    if kind == BackendKind::Deepl && api_key.is_some_and(|k| deepl_host(&k.value).contains("free"))
    {
        price.characters = 0.0;
    }
    Some(Sourced::new(price, Source::Default))
}

/// The highest layer's `[backends.NAME.price]`, else the built-in price of the kind and
/// model (`crate::cost`), else none.
fn resolve_price(
    name: &str,
    kind: BackendKind,
    model: Option<&Sourced<String>>,
    api_key: Option<&Sourced<Secret>>,
    tables: &[(&FileLayer, &FileBackend)],
) -> Result<Option<Sourced<Price>>, ConfigError> {
    let Some((layer, price)) = tables
        .iter()
        .rev()
        .find_map(|(layer, table)| table.price.as_ref().map(|price| (layer, price)))
    else {
        let model = model.map(|m| m.value.as_str());
        return Ok(builtin_price(kind, model, api_key));
    };
    let invalid = |key: &str, message: &str| ConfigError::Invalid {
        key: format!("backends.{name}.price.{key}"),
        origin: layer.path.display().to_string(),
        message: message.to_owned(),
    };
    let chat = kind.capability() == Capability::Chat;
    if chat && price.input.is_none() {
        return Err(invalid(
            "input",
            "a chat model needs input and output prices",
        ));
    }
    if chat && price.output.is_none() {
        return Err(invalid(
            "output",
            "a chat model needs input and output prices",
        ));
    }
    if !chat && price.characters.is_none() {
        return Err(invalid(
            "characters",
            "a translation service is priced per million characters",
        ));
    }
    let input = price.input.unwrap_or_default();
    Ok(Some(Sourced::new(
        Price {
            input,
            cached_input: price.cached_input.unwrap_or(input),
            output: price.output.unwrap_or_default(),
            characters: price.characters.unwrap_or_default(),
            currency: price
                .currency
                .as_deref()
                .unwrap_or("USD")
                .to_ascii_uppercase(),
            batch_discount: Price::batch_discount_for(kind),
        },
        layer.source.clone(),
    )))
}

/// The key from the variable named by `api_key_env`; for the kind's default variable also from
/// the provider's second one (Gemini: `GOOGLE_API_KEY`).
fn resolve_key(
    env: &Env,
    kind: BackendKind,
    api_key_env: Option<&Sourced<String>>,
) -> Option<Sourced<Secret>> {
    let var = api_key_env?;
    let fallback = (var.source == Source::Default)
        .then(|| kind.fallback_key_env())
        .flatten();
    [Some(var.value.as_str()), fallback]
        .into_iter()
        .flatten()
        .find_map(|name| {
            env.get_nonempty(name)
                .map(|key| Sourced::new(Secret::new(key), Source::Env(name.to_owned())))
        })
}

fn region_from_env(env: &Env, kind: BackendKind) -> Option<Sourced<String>> {
    const VAR: &str = "AZURE_TRANSLATOR_REGION";
    (kind == BackendKind::Azure)
        .then(|| env.get_nonempty(VAR))
        .flatten()
        .map(|region| Sourced::new(region.to_owned(), Source::BaseEnv(VAR.to_owned())))
}

/// Backends and passes picked from the environment.
pub(crate) type Picked = (BTreeMap<String, BackendSettings>, Passes);

/// With no backend configured anywhere, the providers' own key variables pick sensible ones:
/// `OPENAI_API_KEY` (else `ANTHROPIC_API_KEY`, `GEMINI_API_KEY` or `GOOGLE_API_KEY`, else
/// `OLLAMA_HOST` with `KLARTEXT_MODEL`) for the
/// restore pass, and `DEEPL_API_KEY` for the draft. `KLARTEXT_MODEL` names the model. Nothing
/// is picked without a language model: a draft alone gives no English worth restoring.
pub(crate) fn from_provider_keys(env: &Env) -> Result<Option<Picked>, ConfigError> {
    let model = env.get_nonempty("KLARTEXT_MODEL");
    let restore = [
        (
            BackendKind::Openai,
            "OPENAI_API_KEY",
            Some(DEFAULT_OPENAI_MODEL),
        ),
        (
            BackendKind::Anthropic,
            "ANTHROPIC_API_KEY",
            Some(DEFAULT_ANTHROPIC_MODEL),
        ),
        (
            BackendKind::Gemini,
            "GEMINI_API_KEY",
            Some(DEFAULT_GEMINI_MODEL),
        ),
        (
            BackendKind::Gemini,
            "GOOGLE_API_KEY",
            Some(DEFAULT_GEMINI_MODEL),
        ),
        (BackendKind::Ollama, "OLLAMA_HOST", None),
    ]
    .into_iter()
    .find_map(|(kind, var, default)| {
        env.get_nonempty(var)?;
        let model = model
            .map(|m| (m, "KLARTEXT_MODEL"))
            .or(default.map(|m| (m, var)))?;
        Some((kind, var, model))
    });
    let Some((kind, var, (model, model_source))) = restore else {
        return Ok(None);
    };
    let mut backends = BTreeMap::new();
    let mut add = |kind: BackendKind,
                   var: &str,
                   model: Option<(&str, &str)>|
     -> Result<String, ConfigError> {
        let name = kind.to_string();
        let source = Source::BaseEnv(var.to_owned());
        let mut base_url = kind
            .default_base_url()
            .map(|url| Sourced::new(url.to_owned(), Source::Default));
        if let Some(url_var) = kind.base_url_env()
            && let Some(value) = env.get_nonempty(url_var)
        {
            let url = if kind == BackendKind::Ollama {
                ollama_host_url(value)
            } else {
                value.to_owned()
            };
            base_url = Some(Sourced::new(
                env_url(url_var, value, &url)?,
                Source::BaseEnv(url_var.to_owned()),
            ));
        }
        let key_env = kind
            .default_key_env()
            .map(|k| Sourced::new(k.to_owned(), Source::Default));
        let api_key = resolve_key(env, kind, key_env.as_ref());
        let price = builtin_price(kind, model.map(|(m, _)| m), api_key.as_ref());
        let tuning = resolve_tuning(kind, base_url.as_ref().map(|u| u.value.as_str()), &[]);
        backends.insert(
            name.clone(),
            BackendSettings {
                name: name.clone(),
                kind: Sourced::new(kind, source.clone()),
                base_url,
                model: model
                    .map(|(m, from)| Sourced::new(m.to_owned(), Source::BaseEnv(from.to_owned()))),
                api_key_env: key_env,
                api_key,
                region: region_from_env(env, kind),
                tuning,
                price,
            },
        );
        Ok(name)
    };
    let restore = add(kind, var, Some((model, model_source)))?;
    let draft = match env.get_nonempty("DEEPL_API_KEY") {
        Some(_) => Some(add(BackendKind::Deepl, "DEEPL_API_KEY", None)?),
        None => None,
    };
    let passes = Passes {
        draft: draft
            .map(|name| Sourced::new(vec![name], Source::BaseEnv("DEEPL_API_KEY".to_owned()))),
        restore: Some(Sourced::new(vec![restore], Source::BaseEnv(var.to_owned()))),
    };
    Ok(Some((backends, passes)))
}

/// Models picked when only a key variable is set (override with `KLARTEXT_MODEL`).
const DEFAULT_OPENAI_MODEL: &str = "gpt-4.1-mini";
const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";
const DEFAULT_GEMINI_MODEL: &str = "gemini-2.5-flash";

/// `url` (made from the variable's `value`) checked; errors show the value masked.
fn env_url(var: &str, value: &str, url: &str) -> Result<String, ConfigError> {
    normalize_url(url).map_err(|bad| match bad {
        BadUrl::Credentials(_) => ConfigError::UrlCredentials {
            origin: format!("environment variable {var}"),
            url: redact_url(value).into_owned(),
        },
        BadUrl::Invalid(message) => ConfigError::Env {
            var: var.to_owned(),
            value: redact_url(value).into_owned(),
            message,
        },
    })
}

/// `my-local` → `MY_LOCAL`, for `KLARTEXT_MY_LOCAL_URL`.
pub(crate) fn env_name(backend: &str) -> String {
    backend
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// `OLLAMA_HOST` as Ollama itself reads it: `host`, `host:port`, `[v6]:port` or a full URL;
/// without a scheme it is plain HTTP on port 11434.
pub(crate) fn ollama_host_url(value: &str) -> String {
    let value = value.trim();
    if value.contains("://") {
        return value.to_owned();
    }
    let (authority, path) = value.split_once('/').unwrap_or((value, ""));
    let has_port = match authority.strip_prefix('[') {
        Some(rest) => rest.contains("]:"),
        None => authority.matches(':').count() == 1,
    };
    let authority = if has_port {
        match authority.strip_prefix(':') {
            Some(port) => format!("127.0.0.1:{port}"),
            None => authority.to_owned(),
        }
    } else if authority.is_empty() {
        format!("127.0.0.1:{OLLAMA_PORT}")
    } else if authority.contains(':') && !authority.starts_with('[') {
        format!("[{authority}]:{OLLAMA_PORT}")
    } else {
        format!("{authority}:{OLLAMA_PORT}")
    };
    if path.is_empty() {
        format!("http://{authority}")
    } else {
        format!("http://{authority}/{path}")
    }
}

/// Every name in `[passes]` has a `[backends.NAME]` table in some layer. Checked before the
/// tables are resolved: a misspelt name is the first thing to fix, and what is wrong with a
/// table no pass names may be the same misspelling.
pub(crate) fn check_pass_names(layers: &[FileLayer]) -> Result<(), ConfigError> {
    let defined: BTreeSet<&str> = layers
        .iter()
        .flat_map(|layer| layer.config.backends.keys())
        .map(String::as_str)
        .collect();
    for (pass, get) in PASSES {
        let Some((layer, spec)) = pass_spec(layers, get) else {
            continue;
        };
        if let Some(name) = spec.0.iter().find(|name| !defined.contains(name.as_str())) {
            return Err(undefined(pass, layer, name, &defined));
        }
    }
    Ok(())
}

pub(crate) fn resolve_passes(
    layers: &[FileLayer],
    backends: &BTreeMap<String, BackendSettings>,
) -> Result<Passes, ConfigError> {
    let [draft, restore] = PASSES.map(|(pass, get)| resolve_pass(pass, layers, backends, get));
    Ok(Passes {
        draft: draft?,
        restore: restore?,
    })
}

type PassField = fn(&FilePasses) -> Option<&PassSpec>;

const PASSES: [(&str, PassField); 2] = [
    ("draft", |passes| passes.draft.as_ref()),
    ("restore", |passes| passes.restore.as_ref()),
];

/// The layer that sets a pass last, and what it says.
fn pass_spec(layers: &[FileLayer], get: PassField) -> Option<(&FileLayer, &PassSpec)> {
    layers
        .iter()
        .rev()
        .find_map(|layer| get(&layer.config.passes).map(|spec| (layer, spec)))
}

fn undefined(pass: &str, layer: &FileLayer, name: &str, defined: &BTreeSet<&str>) -> ConfigError {
    let defined = if defined.is_empty() {
        "no backends are defined; add a [backends.NAME] table".to_owned()
    } else {
        let names: Vec<&str> = defined.iter().copied().collect();
        format!("defined backends: {}", names.join(", "))
    };
    ConfigError::Invalid {
        key: format!("passes.{pass}"),
        origin: layer.path.display().to_string(),
        message: format!("backend `{name}` is not defined; {defined}"),
    }
}

fn resolve_pass(
    pass: &str,
    layers: &[FileLayer],
    backends: &BTreeMap<String, BackendSettings>,
    get: PassField,
) -> Result<Option<Sourced<Vec<String>>>, ConfigError> {
    let Some((layer, spec)) = pass_spec(layers, get) else {
        return Ok(None);
    };
    for name in &spec.0 {
        let Some(backend) = backends.get(name) else {
            let defined = backends.keys().map(String::as_str).collect();
            return Err(undefined(pass, layer, name, &defined));
        };
        if pass == "restore" && backend.kind.value.capability() == Capability::Translate {
            return Err(ConfigError::Invalid {
                key: format!("passes.{pass}"),
                origin: layer.path.display().to_string(),
                message: format!(
                    "backend `{name}` is a translation service ({}); restore needs a chat model",
                    backend.kind.value
                ),
            });
        }
    }
    Ok(Some(Sourced::new(spec.0.clone(), layer.source.clone())))
}
