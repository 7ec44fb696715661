//! The API passes, set up once per run: which backend drafts, which restores (or, with
//! `--to de`, polishes the German), their filled system prompts, the glossary, the cache, and
//! the tallies every document adds to (usage per backend, cache warnings, the error that
//! stopped a backend).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::flight::Flights;
use super::spend::Spending;
use crate::backend::{Backend, BackendError, Usage};
use crate::cache::Cache;
use crate::config::{
    BackendKind, BackendSettings, Capability, Lang, Literal, Quotes, Settings, Sourced,
};
use crate::glossary::Glossary;
use crate::prompt::{Prompt, PromptError, PromptName, literal_rule};
use crate::segment::content_hash;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
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

/// What a pass does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PassKind {
    /// A literal English draft.
    Draft,
    /// The restored English.
    Restore,
    /// `--to de`: the corrected German.
    PolishDe,
    /// A paragraph verify flagged, sent back to the main pass's backend with the findings.
    Refine,
}

impl PassKind {
    /// The name the cache, the reports and the messages use.
    pub fn name(self) -> &'static str {
        match self {
            PassKind::Draft => "draft",
            PassKind::Restore => "restore",
            PassKind::PolishDe => "polish-de",
            PassKind::Refine => "refine",
        }
    }
}

impl std::fmt::Display for PassKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One pass: its backends in fallback order.
pub struct Pass {
    pub kind: PassKind,
    /// The first serves; when it runs out of quota, fails auth or keeps failing past its
    /// retry budget, the remaining paragraphs go to the next.
    pub members: Vec<Member>,
}

impl Pass {
    /// The backend named first.
    pub fn first(&self) -> &Member {
        &self.members[0]
    }
}

/// One backend in a pass and how the pass uses it.
pub struct Member {
    pub backend: Backend,
    pub kind: MemberKind,
    /// Everything besides the texts that changes the result (for cache keys).
    pub params: Value,
}

/// A language model the pass prompts, or a translation service that takes the texts as they
/// are.
pub enum MemberKind {
    Chat(ChatSetup),
    Translation,
}

impl Member {
    /// The system prompt and reply shape, for a chat backend.
    pub fn chat(&self) -> Option<&ChatSetup> {
        match &self.kind {
            MemberKind::Chat(setup) => Some(setup),
            MemberKind::Translation => None,
        }
    }
}

pub struct ChatSetup {
    pub system: String,
    /// Hash of the filled prompt, so an edited template or variable re-runs the pass.
    pub prompt_hash: String,
    pub target: Lang,
    pub with_literal: bool,
    /// The restore pass: replies report the names they restored (`terms`), and later batches
    /// of the same document get them as glossary entries.
    pub learns_terms: bool,
    pub max_batch_tokens: u32,
    /// Small documents of a run share requests (see `pack`).
    pub pack_documents: bool,
    /// The refine round's prompt, for the main pass.
    pub refine: Option<RefineSetup>,
    /// With `learns_terms`: turns as many as the backend's `concurrency`, taken before a
    /// request is built and held until its reply, so a batch is built when it can be sent,
    /// with every name the batches before it decided (not when the document starts).
    pub(super) turns: Option<Semaphore>,
}

/// The system prompt of the refine round: the main pass's own prompt (without the literal
/// rendering, which the first answer gave already) followed by `refine.md`.
pub struct RefineSetup {
    pub system: String,
    pub prompt_hash: String,
}

pub struct Engine {
    pub draft: Option<Pass>,
    pub main: Pass,
    pub glossary: Glossary,
    /// Quotation marks of the results: `straight` makes the model's curly ones straight.
    pub quotes: Quotes,
    pub cache: Option<Mutex<Cache>>,
    /// `--refine N`: how many times at most a paragraph with an error-level finding goes back
    /// to the main pass's backend (0: never).
    pub refine: u8,
    pub(super) usage: Mutex<BTreeMap<String, Usage>>,
    pub(super) warnings: Mutex<Vec<String>>,
    /// Backends that stopped (quota, auth, or failing past their retries), by name.
    pub(super) stopped: Mutex<BTreeMap<String, BackendError>>,
    /// Ctrl-C: nothing more is sent, waits end.
    cancel: CancellationToken,
    /// `--jobs N`: requests in flight for the whole run, over all backends.
    pub(super) jobs: Option<Semaphore>,
    /// Segments in flight in the run, so none is sent twice at once (single flight).
    pub(super) flights: Flights,
    /// Prices, usage per pass and the `--max-cost` budget (`spend`).
    pub(super) spending: Spending,
    /// `passes.literal`: `none` asks no pass for a literal rendering.
    pub literal: Literal,
    /// `--memory FILE.tmx`: paragraphs whose German it has take its English, unsent.
    pub memory: Option<crate::tmx::Memory>,
}

impl Engine {
    /// Build the passes from the settings. `prompts_dir` may hold overrides of the templates.
    pub fn new(
        settings: &Settings,
        to: Lang,
        glossary: Glossary,
        cache: Option<Cache>,
        prompts_dir: Option<&Path>,
        jobs: Option<usize>,
        refine: u8,
    ) -> Result<Self, EngineError> {
        let cancel = CancellationToken::new();
        let listed = |names: &Option<Sourced<Vec<String>>>| -> Vec<&BackendSettings> {
            names
                .iter()
                .flat_map(|n| &n.value)
                .filter_map(|name| settings.backends.get(name))
                .collect()
        };
        let restore = listed(&settings.passes.restore);
        if restore.is_empty() {
            return Err(EngineError::NoRestore);
        }
        let literal = settings.literal.value;
        let draft = match (to, literal) {
            (Lang::En, Literal::Auto) => listed(&settings.passes.draft),
            (Lang::En, Literal::None) | (Lang::De, _) => Vec::new(),
        };
        let spending = Spending::new(
            settings,
            draft.iter().chain(&restore).map(|b| b.name.as_str()),
        );
        let british = draft.first().is_some_and(|d| {
            d.kind.value == BackendKind::Deepl && d.tuning.target_lang.value == "EN-GB"
        });
        let variant = if british {
            "British English"
        } else {
            "American English"
        };

        let draft = if draft.is_empty() {
            None
        } else {
            let prompt = Prompt::load(PromptName::Literal, prompts_dir)?;
            let system = prompt.fill(&[("english_variant", variant)])?;
            let members = draft
                .into_iter()
                .map(|d| {
                    member(d, &cancel, |d| {
                        chat_setup(system.clone(), Lang::En, false, None, false, d)
                    })
                })
                .collect::<Result<_, _>>()?;
            Some(Pass {
                kind: PassKind::Draft,
                members,
            })
        };

        let addendum = Prompt::load(PromptName::Refine, prompts_dir)?.fill(&[])?;
        let (kind, system, target, with_literal, refine_system) = match to {
            Lang::En => {
                let prompt = Prompt::load(PromptName::Restore, prompts_dir)?;
                let with_literal = draft.is_none() && literal == Literal::Auto;
                let fill = |literal: bool| {
                    prompt.fill(&[
                        ("english_variant", variant),
                        ("literal_rule", literal_rule(literal)),
                    ])
                };
                let refine_system = format!("{}\n\n{addendum}", fill(false)?);
                (
                    PassKind::Restore,
                    fill(with_literal)?,
                    Lang::En,
                    with_literal,
                    refine_system,
                )
            }
            Lang::De => {
                let prompt = Prompt::load(PromptName::PolishDe, prompts_dir)?;
                let system = prompt.fill(&[])?;
                let refine_system = format!("{system}\n\n{addendum}");
                (PassKind::PolishDe, system, Lang::De, false, refine_system)
            }
        };
        let members = restore
            .into_iter()
            .map(|r| {
                member(r, &cancel, |r| {
                    let refine = RefineSetup {
                        prompt_hash: content_hash(&refine_system),
                        system: refine_system.clone(),
                    };
                    let learns_terms = kind == PassKind::Restore;
                    chat_setup(
                        system.clone(),
                        target,
                        with_literal,
                        Some(refine),
                        learns_terms,
                        r,
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            draft,
            main: Pass { kind, members },
            glossary,
            quotes: settings.quotes.value,
            cache: cache.map(Mutex::new),
            refine,
            usage: Mutex::default(),
            warnings: Mutex::default(),
            stopped: Mutex::default(),
            cancel,
            jobs: jobs.map(|n| Semaphore::new(n.max(1))),
            flights: Flights::default(),
            spending,
            literal,
            memory: None,
        })
    }

    /// Ctrl-C: send nothing more; requests in flight are dropped, finished work is kept.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A handle that cancels the run (for a Ctrl-C listener).
    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Whether finished paragraphs are kept for the next run (a cache that can be written).
    pub fn keeps_results(&self) -> bool {
        self.cache
            .as_ref()
            .and_then(|c| c.lock().ok().map(|c| !c.is_read_only()))
            .unwrap_or(false)
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Ends when the run is cancelled.
    pub(super) async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Usage per backend name, so far. Requests and retries are counted where they are sent,
    /// so a request that failed counts as much as one that came back.
    pub fn usage(&self) -> BTreeMap<String, Usage> {
        let mut usage = self.usage.lock().map(|u| u.clone()).unwrap_or_default();
        let members = self
            .draft
            .iter()
            .chain([&self.main])
            .flat_map(|p| &p.members);
        // A backend used by both passes has a transport in each.
        let mut sent: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        // A deferred backend's HTTP calls are job uploads and polls; its requests are the
        // lines its replies counted.
        for member in members.filter(|m| !m.backend.is_deferred()) {
            let (requests, retries) = member.backend.requests_sent();
            let total = sent.entry(member.backend.name()).or_default();
            total.0 += requests;
            total.1 += retries;
        }
        for (name, (requests, retries)) in sent {
            if requests > 0 {
                let entry = usage.entry(name.to_owned()).or_default();
                entry.requests = requests;
                entry.retries = retries;
            }
        }
        usage
    }

    /// Cache problems met so far (each once); the run went on without the cache.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// The errors that stopped backends (quota, auth, failing past their retries), if any.
    pub fn stopped(&self) -> Vec<BackendError> {
        self.stopped
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(super) fn is_stopped(&self, backend: &str) -> bool {
        self.stopped
            .lock()
            .map(|s| s.contains_key(backend))
            .unwrap_or(true)
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
        if let Ok(mut stopped) = self.stopped.lock() {
            stopped
                .entry(error.backend.clone())
                .or_insert_with(|| error.clone());
        }
    }
}

/// A pass member: a chat backend gets the pass's prompt, a translation service none.
fn member(
    settings: &BackendSettings,
    cancel: &CancellationToken,
    setup: impl Fn(&BackendSettings) -> ChatSetup,
) -> Result<Member, EngineError> {
    let mut backend = Backend::new(settings)?;
    backend.watch(cancel.clone());
    let kind = match backend.capability() {
        Capability::Chat => MemberKind::Chat(setup(settings)),
        Capability::Translate => MemberKind::Translation,
    };
    Ok(Member {
        params: params(settings, &kind),
        backend,
        kind,
    })
}

fn chat_setup(
    system: String,
    target: Lang,
    with_literal: bool,
    refine: Option<RefineSetup>,
    learns_terms: bool,
    settings: &BackendSettings,
) -> ChatSetup {
    ChatSetup {
        prompt_hash: content_hash(&system),
        system,
        target,
        with_literal,
        learns_terms,
        turns: learns_terms
            .then(|| Semaphore::new(settings.tuning.concurrency.value.max(1) as usize)),
        max_batch_tokens: settings.tuning.batch_tokens.value,
        pack_documents: settings.tuning.pack_documents.value,
        refine,
    }
}

/// Settings that change a result, for the cache key (never the key or URL).
fn params(settings: &BackendSettings, kind: &MemberKind) -> Value {
    let tuning = &settings.tuning;
    match kind {
        MemberKind::Chat(chat) => json!({
            "temperature": tuning.temperature.as_ref().map(|t| t.value),
            "structured": settings.kind.value == BackendKind::Openai && tuning.structured.value,
            "target": chat.target.code(),
            "literal": chat.with_literal,
        }),
        MemberKind::Translation => json!({"target_lang": tuning.target_lang.value}),
    }
}
