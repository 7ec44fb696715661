//! The closed sets of values a setting can take, and the API-key wrapper that keeps keys out of
//! every printout. Names are shared by the CLI (`clap::ValueEnum`), the files (serde) and
//! `Display`, so `--view side-by-side`, `view = "side-by-side"` and `config show` agree.

use std::fmt;

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// Writes the clap name of a value, the one spelling used everywhere.
fn write_name<T: ValueEnum>(value: &T, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let name = value.to_possible_value().expect("no variant is skipped");
    f.write_str(name.get_name())
}

/// All names of a value set, for "valid values: …" messages.
pub(crate) fn valid_names<T: ValueEnum>() -> String {
    T::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value)
        .map(|value| value.get_name().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

macro_rules! display_by_clap_name {
    ($($ty:ty),*) => {$(
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_name(self, f)
            }
        }
    )*};
}

/// The language of the output text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lang {
    En,
    De,
}

/// How the terminal diff is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    Auto,
    SideBySide,
    Stacked,
    Inline,
    None,
}

/// Whether output is coloured; `auto` is decided later by `term`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
    /// Styles as readable tags (`<del>…</del>`): for snapshots and bug reports.
    Debug,
}

/// The quotation marks and apostrophes of the output. The restore prompt asks for curly ones
/// (“…”, it’s); `straight` turns them into `"` and `'` after the model, outside protected
/// spans, for text that must stay ASCII-plain (code comments, grep, older tools). Done offline
/// rather than asked of the model: exact every time, and switching costs no request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Quotes {
    Curly,
    Straight,
}

/// Where the literal rendering beside the result comes from (`passes.literal`, `--literal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Literal {
    /// The draft pass when one is configured (a translation service, or a cheaper chat model
    /// with `literal.md`), else the restore model writes it beside each restoration.
    Auto,
    /// No draft pass, and the restore model writes only the restoration (fewer output
    /// tokens); the view shows the repaired German beside the English.
    None,
}

/// The provider protocol a configured backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    Openai,
    Anthropic,
    Gemini,
    Ollama,
    Deepl,
    Google,
    Azure,
    Libretranslate,
}

/// What a backend can do: translate text, or chat with a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Translate,
    Chat,
}

display_by_clap_name!(
    Lang,
    View,
    ColorChoice,
    Quotes,
    Literal,
    BackendKind,
    Capability
);

impl Lang {
    /// The ISO 639-1 code, as the segment protocol's text field is named (`en`, `de`).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }
}

impl BackendKind {
    pub fn capability(self) -> Capability {
        match self {
            Self::Deepl | Self::Google | Self::Azure | Self::Libretranslate => {
                Capability::Translate
            }
            Self::Openai | Self::Anthropic | Self::Gemini | Self::Ollama => Capability::Chat,
        }
    }

    /// Whether klartext can send this kind's chat requests as provider batch jobs
    /// (`backend::batch`): OpenAI's Batch API and Anthropic's Message Batches.
    pub fn has_batch_api(self) -> bool {
        matches!(self, Self::Openai | Self::Anthropic)
    }

    /// The public endpoint; `None` for DeepL, whose host depends on the key (see [`deepl_host`]).
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Openai => Some("https://api.openai.com/v1"),
            Self::Anthropic => Some("https://api.anthropic.com"),
            Self::Gemini => Some("https://generativelanguage.googleapis.com"),
            Self::Ollama => Some("http://localhost:11434"),
            Self::Deepl => None,
            Self::Google => Some("https://translation.googleapis.com"),
            Self::Azure => Some("https://api.cognitive.microsofttranslator.com"),
            Self::Libretranslate => Some("http://127.0.0.1:5000"),
        }
    }

    /// The provider's own variable for the API key; Ollama needs none.
    pub fn default_key_env(self) -> Option<&'static str> {
        match self {
            Self::Openai => Some("OPENAI_API_KEY"),
            Self::Anthropic => Some("ANTHROPIC_API_KEY"),
            Self::Gemini => Some("GEMINI_API_KEY"),
            Self::Ollama => None,
            Self::Deepl => Some("DEEPL_API_KEY"),
            Self::Google => Some("GOOGLE_TRANSLATE_API_KEY"),
            Self::Azure => Some("AZURE_TRANSLATOR_KEY"),
            Self::Libretranslate => Some("LIBRETRANSLATE_API_KEY"),
        }
    }

    /// A second variable the provider's own tools read the key from, tried after the default.
    pub fn fallback_key_env(self) -> Option<&'static str> {
        match self {
            Self::Gemini => Some("GOOGLE_API_KEY"),
            _ => None,
        }
    }

    /// The provider's own variable for the endpoint, honoured below the config files.
    pub fn base_url_env(self) -> Option<&'static str> {
        match self {
            Self::Openai => Some("OPENAI_BASE_URL"),
            Self::Anthropic => Some("ANTHROPIC_BASE_URL"),
            Self::Ollama => Some("OLLAMA_HOST"),
            Self::Libretranslate => Some("LIBRETRANSLATE_URL"),
            Self::Gemini | Self::Deepl | Self::Google | Self::Azure => None,
        }
    }
}

/// DeepL's host for a key: Free-plan keys end in `:fx`, everything else is Pro.
pub fn deepl_host(key: &Secret) -> &'static str {
    if key.expose().ends_with(":fx") {
        "https://api-free.deepl.com"
    } else {
        "https://api.deepl.com"
    }
}

/// An API key. Debug and Display print a mask; only the HTTP layer calls [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub const MASK: &'static str = "••••••••";

    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::MASK)
    }
}

/// Only strings are accepted, and a wrong type is reported without echoing the value
/// (serde's default message would quote it).
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl serde::de::Visitor<'_> for SecretVisitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an API key as a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                Ok(Secret::new(v))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Secret, E> {
                Err(E::custom("`api_key` must be a string"))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Secret, E> {
                Err(E::custom("`api_key` must be a string"))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Secret, E> {
                Err(E::custom("`api_key` must be a string"))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Secret, E> {
                Err(E::custom("`api_key` must be a string"))
            }
        }
        deserializer.deserialize_str(SecretVisitor)
    }
}
