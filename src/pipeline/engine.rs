//! The API passes, set up once per run: which backend drafts, which restores (or, with
//! `--to de`, polishes the German), their filled system prompts, the glossary, the cache, and
//! the tallies every document adds to (usage per backend, cache warnings, the error that
//! stopped a backend).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::protocol::Target;
use crate::backend::{Backend, BackendError, Usage};
use crate::cache::Cache;
use crate::config::{BackendKind, Capability, Lang, Settings};
use crate::glossary::Glossary;
use crate::prompt::{Prompt, PromptError, PromptName, literal_rule};
use crate::segment::content_hash;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Backend(#[from] BackendError),
    #[error("{0}")]
    Prompt(#[from] PromptError),
    #[error("no restore pass is configured: set passes.restore to a chat backend")]
    NoRestore,
}

impl EngineError {
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Backend(e) => e.hint(),
            Self::Prompt(e) => e.hint(),
            Self::NoRestore => Some("see the README, \"Configuration\"".to_owned()),
        }
    }
}

/// One pass: its backend and, for language models, the filled system prompt.
pub struct Pass {
    /// "draft", "restore" or "polish-de": the cache and the report use it.
    pub name: &'static str,
    pub backend: Backend,
    /// For chat backends: the system prompt and the shape of the reply.
    pub chat: Option<ChatSetup>,
    /// Everything besides the texts that changes the result (for cache keys).
    pub params: Value,
}

pub struct ChatSetup {
    pub system: String,
    /// Hash of the filled prompt, so an edited template or variable re-runs the pass.
    pub prompt_hash: String,
    pub target: Target,
    pub with_literal: bool,
    pub max_batch_tokens: u32,
}

pub struct Engine {
    pub draft: Option<Pass>,
    pub main: Pass,
    pub glossary: Glossary,
    pub cache: Option<Mutex<Cache>>,
    pub(super) usage: Mutex<BTreeMap<String, Usage>>,
    pub(super) warnings: Mutex<Vec<String>>,
    /// Quota or auth failures: nothing more is sent to that backend.
    pub(super) stopped: Mutex<Option<BackendError>>,
}

impl Engine {
    /// Build the passes from the settings. `prompts_dir` may hold overrides of the templates.
    pub fn new(
        settings: &Settings,
        to: Lang,
        glossary: Glossary,
        cache: Option<Cache>,
        prompts_dir: Option<&Path>,
    ) -> Result<Self, EngineError> {
        let backend = |names: &Option<crate::config::Sourced<Vec<String>>>| {
            // Fallback lists arrive with the remaining providers; the first name serves now.
            names
                .as_ref()
                .and_then(|n| n.value.first())
                .and_then(|name| settings.backends.get(name))
        };
        let main_settings = backend(&settings.passes.restore).ok_or(EngineError::NoRestore)?;
        let draft = match (to, backend(&settings.passes.draft)) {
            (Lang::En, Some(draft)) => Some(draft),
            _ => None,
        };
        let british = draft.is_some_and(|d| {
            d.kind.value == BackendKind::Deepl && d.tuning.target_lang.value == "EN-GB"
        });
        let variant = if british {
            "British English"
        } else {
            "American English"
        };

        let draft = draft
            .map(|d| -> Result<Pass, EngineError> {
                let backend = Backend::new(d)?;
                let chat = if backend.capability() == Capability::Chat {
                    let prompt = Prompt::load(PromptName::Literal, prompts_dir)?;
                    let system = prompt.fill(&[("english_variant", variant)])?;
                    Some(chat_setup(system, Target::English, false, d))
                } else {
                    None
                };
                Ok(Pass {
                    name: "draft",
                    params: params(d, chat.as_ref()),
                    backend,
                    chat,
                })
            })
            .transpose()?;

        let backend = Backend::new(main_settings)?;
        let (name, chat) = match to {
            Lang::En => {
                let prompt = Prompt::load(PromptName::Restore, prompts_dir)?;
                let with_literal = draft.is_none();
                let system = prompt.fill(&[
                    ("english_variant", variant),
                    ("literal_rule", literal_rule(with_literal)),
                ])?;
                (
                    "restore",
                    chat_setup(system, Target::English, with_literal, main_settings),
                )
            }
            Lang::De => {
                let prompt = Prompt::load(PromptName::PolishDe, prompts_dir)?;
                let system = prompt.fill(&[])?;
                (
                    "polish-de",
                    chat_setup(system, Target::German, false, main_settings),
                )
            }
        };
        let main = Pass {
            name,
            params: params(main_settings, Some(&chat)),
            backend,
            chat: Some(chat),
        };
        Ok(Self {
            draft,
            main,
            glossary,
            cache: cache.map(Mutex::new),
            usage: Mutex::default(),
            warnings: Mutex::default(),
            stopped: Mutex::default(),
        })
    }

    /// Usage per backend name, so far.
    pub fn usage(&self) -> BTreeMap<String, Usage> {
        self.usage.lock().map(|u| u.clone()).unwrap_or_default()
    }

    /// Cache problems met so far (each once); the run went on without the cache.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// The quota or auth error that stopped a backend, if any.
    pub fn stopped(&self) -> Option<BackendError> {
        self.stopped.lock().ok().and_then(|s| s.clone())
    }

    pub(super) fn add_usage(&self, backend: &str, usage: Usage) {
        if let Ok(mut all) = self.usage.lock() {
            *all.entry(backend.to_owned()).or_default() += usage;
        }
    }

    pub(super) fn warn(&self, message: String) {
        if let Ok(mut warnings) = self.warnings.lock()
            && !warnings.contains(&message)
        {
            warnings.push(message);
        }
    }

    pub(super) fn stop(&self, error: &BackendError) {
        if let Ok(mut stopped) = self.stopped.lock()
            && stopped.is_none()
        {
            *stopped = Some(error.clone());
        }
    }
}

fn chat_setup(
    system: String,
    target: Target,
    with_literal: bool,
    settings: &crate::config::BackendSettings,
) -> ChatSetup {
    ChatSetup {
        prompt_hash: content_hash(&system),
        system,
        target,
        with_literal,
        max_batch_tokens: settings.tuning.batch_tokens.value,
    }
}

/// Settings that change a result, for the cache key (never the key or URL).
fn params(settings: &crate::config::BackendSettings, chat: Option<&ChatSetup>) -> Value {
    let tuning = &settings.tuning;
    match chat {
        Some(chat) => json!({
            "temperature": tuning.temperature.as_ref().map(|t| t.value),
            "structured": settings.kind.value == BackendKind::Openai && tuning.structured.value,
            "target": chat.target.field(),
            "literal": chat.with_literal,
        }),
        None => json!({"target_lang": tuning.target_lang.value}),
    }
}
