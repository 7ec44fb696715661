//! The providers klartext talks to, behind one closed enum of concrete clients. Two
//! capabilities: *translate* (texts + context → texts: DeepL, Google Cloud Translation, Azure
//! Translator, LibreTranslate) and *chat* (system + user message, optional JSON schema → text,
//! stop reason, usage: OpenAI-compatible servers, Anthropic, Gemini, Ollama). Each client owns
//! its wire format (DTOs, auth, parsing); the [`transport`], held once by each [`Backend`] and
//! handed to its client with every call, owns the HTTP client, limits and retries, and
//! [`failure`] classifies errors once for all of them. Nothing here knows about files, diffs
//! or terminals.

mod anthropic;
mod azure;
pub mod batch;
mod deepl;
mod deferral;
pub mod failure;
mod gemini;
mod google;
mod libretranslate;
mod ollama;
mod openai;
mod slots;
mod translation;
pub mod transport;

use std::ops::AddAssign;
use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::config::{BackendKind, BackendSettings, Capability, Source};
pub use deferral::{Answer, Deferred, ORIGIN, custom_id};
pub use failure::FailureKind;
pub use translation::{Limits, Size};
use transport::Transport;

/// What a backend used, summed over requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub requests: u64,
    pub retries: u64,
    /// Every input token the model read, cached or not (for Anthropic the sum of its
    /// `input_tokens`, `cache_creation_input_tokens` and `cache_read_input_tokens`), so that
    /// the totals of providers compare.
    pub input_tokens: u64,
    /// The part of `input_tokens` read from the provider's prompt cache (billed at a discount).
    pub cached_input_tokens: u64,
    /// The part of `input_tokens` written to the prompt cache (Anthropic bills it at a premium).
    pub cache_creation_input_tokens: u64,
    pub output_tokens: u64,
    /// Characters a translation service billed.
    pub billed_characters: u64,
}

impl Usage {
    /// Every count, in a fixed order (to share a usage out among documents).
    pub fn counts_mut(&mut self) -> [&mut u64; 7] {
        [
            &mut self.requests,
            &mut self.retries,
            &mut self.input_tokens,
            &mut self.cached_input_tokens,
            &mut self.cache_creation_input_tokens,
            &mut self.output_tokens,
            &mut self.billed_characters,
        ]
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, other: Self) {
        self.requests += other.requests;
        self.retries += other.retries;
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.output_tokens += other.output_tokens;
        self.billed_characters += other.billed_characters;
    }
}

/// One chat call: the instructions, the data, and the shape the reply must have.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub system: String,
    pub user: String,
    /// JSON Schema of the reply, for providers with structured output.
    pub schema: Option<serde_json::Value>,
    /// Estimated input tokens, for the token rate limiter.
    pub estimated_tokens: u32,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stop", content = "detail", rename_all = "kebab-case")]
pub enum Stop {
    Complete,
    /// The output limit cut the reply off.
    Truncated,
    /// A refusal or a content filter; the text is what the provider said.
    Refused(String),
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatReply {
    pub text: String,
    pub stop: Stop,
    pub usage: Usage,
}

/// One translation call: texts translated independently, `context` read but not translated.
#[derive(Debug, Clone)]
pub struct TranslateRequest {
    pub texts: Vec<String>,
    pub context: Option<String>,
    /// The texts carry XML tags (protected spans) that must come back unchanged.
    pub xml: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TranslateReply {
    pub texts: Vec<String>,
    pub usage: Usage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// Out of quota or credit: stop the whole run.
    Quota,
    /// Key, permission, URL or model wrong: this backend cannot work.
    Fatal,
    /// This request was refused; others may work.
    Rejected,
    /// Still rate-limited after every retry.
    RateLimited,
    /// Unreachable, timing out or failing after every retry.
    Unavailable,
    /// The answer did not have the documented shape.
    Malformed,
    /// The backend is not set up to be used (no key, wrong capability).
    Config,
    /// The user pressed Ctrl-C.
    Cancelled,
    /// Not sent: an earlier request of this run stopped the backend (quota, key); the message
    /// is that request's.
    Halted,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{backend}: {message}")]
pub struct BackendError {
    pub backend: String,
    pub kind: ErrorKind,
    /// Never contains an API key.
    pub message: String,
    pub hint: Option<String>,
    /// The HTTP status of the answer that failed, if one came (`None` for timeouts, refused
    /// connections and errors of our own), so that callers need not read it from `message`.
    pub status: Option<u16>,
}

impl BackendError {
    pub fn hint(&self) -> Option<String> {
        self.hint.clone()
    }

    /// Quota, auth and configuration errors: no later request to this backend can succeed.
    pub fn is_fatal_for_backend(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Quota | ErrorKind::Fatal | ErrorKind::Config | ErrorKind::Halted
        )
    }

    fn malformed(backend: &str, what: impl std::fmt::Display) -> Self {
        Self {
            backend: backend.to_owned(),
            kind: ErrorKind::Malformed,
            message: format!("unexpected answer: {what}"),
            hint: None,
            status: None,
        }
    }

    /// The service answers but cannot do what klartext needs (`backends --check`: the model
    /// is missing, German is not offered); `hint` says what to change.
    fn unusable(backend: &str, message: String, hint: String) -> Self {
        Self {
            backend: backend.to_owned(),
            kind: ErrorKind::Fatal,
            message,
            hint: Some(hint),
            status: None,
        }
    }

    /// The backend is not set up to be used; `hint` says what to change.
    fn config(backend: &str, message: String, hint: Option<String>) -> Self {
        Self {
            backend: backend.to_owned(),
            kind: ErrorKind::Config,
            message,
            hint,
            status: None,
        }
    }
}

/// A configured backend, ready to send requests: its connection to the service, held once,
/// beside the client that speaks the provider's wire format over it.
pub struct Backend {
    transport: Transport,
    client: Client,
    /// Batch mode: chat requests go to this collector instead of out over HTTP.
    deferral: Option<tokio::sync::mpsc::UnboundedSender<Deferred>>,
    /// How big a provider batch job may be and how often to poll it (`batch`).
    jobs: batch::JobTuning,
    /// Batch mode: what the requests the collector sent back to go out directly used (billed
    /// at the synchronous price).
    direct: std::sync::Mutex<Usage>,
}

/// The providers klartext speaks; the set is closed. Each client gets the [`Transport`] with
/// every call.
enum Client {
    Openai(openai::Openai),
    Anthropic(anthropic::Anthropic),
    Gemini(gemini::Gemini),
    Ollama(ollama::Ollama),
    Deepl(deepl::Deepl),
    Google(google::Google),
    Azure(azure::Azure),
    Libretranslate(libretranslate::Libretranslate),
}

impl Backend {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        // The client first: a missing key or URL is what the user has to fix.
        let client = match settings.kind.value {
            BackendKind::Openai => Client::Openai(openai::Openai::new(settings)?),
            BackendKind::Anthropic => Client::Anthropic(anthropic::Anthropic::new(settings)?),
            BackendKind::Gemini => Client::Gemini(gemini::Gemini::new(settings)?),
            BackendKind::Ollama => Client::Ollama(ollama::Ollama::new(settings)?),
            BackendKind::Deepl => Client::Deepl(deepl::Deepl::new(settings)?),
            BackendKind::Google => Client::Google(google::Google::new(settings)?),
            BackendKind::Azure => Client::Azure(azure::Azure::new(settings)?),
            BackendKind::Libretranslate => {
                Client::Libretranslate(libretranslate::Libretranslate::new(settings)?)
            }
        };
        Ok(Self {
            transport: Transport::for_backend(settings)?,
            client,
            deferral: None,
            jobs: batch::JobTuning::new(&settings.tuning),
            direct: std::sync::Mutex::default(),
        })
    }

    #[cfg(test)]
    pub(crate) fn with_backoff(mut self, backoff: transport::Backoff) -> Self {
        self.transport = self.transport.with_backoff(backoff);
        self
    }

    /// Stop sending when `token` is cancelled.
    pub fn watch(&mut self, token: tokio_util::sync::CancellationToken) {
        self.transport.watch(token);
    }

    /// Requests in flight allowed now (the configured concurrency, lowered after 429s).
    pub fn concurrency(&self) -> usize {
        self.transport.concurrency()
    }

    pub fn name(&self) -> &str {
        &self.transport.name
    }

    pub fn kind(&self) -> BackendKind {
        self.transport.kind
    }

    pub fn capability(&self) -> Capability {
        self.kind().capability()
    }

    /// The model id, or "" for translation services.
    pub fn model(&self) -> &str {
        match &self.client {
            Client::Openai(c) => &c.model,
            Client::Anthropic(c) => &c.model,
            Client::Gemini(c) => &c.model,
            Client::Ollama(c) => &c.model,
            Client::Deepl(_) | Client::Google(_) | Client::Azure(_) | Client::Libretranslate(_) => {
                ""
            }
        }
    }

    /// Requests sent so far, retries and failed ones included, and how many of them were
    /// retries.
    pub fn requests_sent(&self) -> (u64, u64) {
        (
            self.transport.requests_sent.load(Ordering::Relaxed),
            self.transport.retries_sent.load(Ordering::Relaxed),
        )
    }

    pub async fn chat(&self, request: &ChatRequest) -> Result<ChatReply, BackendError> {
        if let Some(collector) = &self.deferral {
            if let Some(done) = self.deferred_chat(collector, request).await {
                return done;
            }
            let reply = self.chat_directly(request).await;
            if let (Ok(reply), Ok(mut direct)) = (&reply, self.direct.lock()) {
                *direct += reply.usage;
            }
            return reply;
        }
        self.chat_directly(request).await
    }

    /// Batch mode: the usage of the requests that went out directly after all.
    pub fn direct_usage(&self) -> Usage {
        self.direct.lock().map(|u| *u).unwrap_or_default()
    }

    async fn chat_directly(&self, request: &ChatRequest) -> Result<ChatReply, BackendError> {
        let transport = &self.transport;
        match &self.client {
            Client::Openai(c) => c.chat(transport, request).await,
            Client::Anthropic(c) => c.chat(transport, request).await,
            Client::Gemini(c) => c.chat(transport, request).await,
            Client::Ollama(c) => c.chat(transport, request).await,
            Client::Deepl(_) | Client::Google(_) | Client::Azure(_) | Client::Libretranslate(_) => {
                Err(self.wrong_capability("chat"))
            }
        }
    }

    pub async fn translate(
        &self,
        request: &TranslateRequest,
    ) -> Result<TranslateReply, BackendError> {
        let transport = &self.transport;
        match &self.client {
            Client::Deepl(c) => c.translate(transport, request).await,
            Client::Google(c) => c.translate(transport, request).await,
            Client::Azure(c) => c.translate(transport, request).await,
            Client::Libretranslate(c) => c.translate(transport, request).await,
            Client::Openai(_) | Client::Anthropic(_) | Client::Gemini(_) | Client::Ollama(_) => {
                Err(self.wrong_capability("translate"))
            }
        }
    }

    /// What one request to this translation service may carry — the values its requests are
    /// sliced by, so a caller that batches within them sends one request per batch. `None` for
    /// a chat backend, whose requests are bounded by the caller's token budget instead.
    pub fn limits(&self) -> Option<Limits> {
        match &self.client {
            Client::Deepl(_) => Some(deepl::LIMITS),
            Client::Google(_) => Some(google::LIMITS),
            Client::Azure(_) => Some(azure::LIMITS),
            Client::Libretranslate(_) => Some(libretranslate::LIMITS),
            Client::Openai(_) | Client::Anthropic(_) | Client::Gemini(_) | Client::Ollama(_) => {
                None
            }
        }
    }

    /// One minimal authenticated call; on success a short description of what answered.
    pub async fn check(&self) -> Result<String, BackendError> {
        let transport = &self.transport;
        match &self.client {
            Client::Openai(c) => c.check(transport).await,
            Client::Anthropic(c) => c.check(transport).await,
            Client::Gemini(c) => c.check(transport).await,
            Client::Ollama(c) => c.check(transport).await,
            Client::Deepl(c) => c.check(transport).await,
            Client::Google(c) => c.check(transport).await,
            Client::Azure(c) => c.check(transport).await,
            Client::Libretranslate(c) => c.check(transport).await,
        }
    }

    fn wrong_capability(&self, what: &str) -> BackendError {
        BackendError::config(
            self.name(),
            format!("a {} backend cannot {what}", self.kind()),
            Some("check which backend [passes] names for this pass".to_owned()),
        )
    }
}

/// `url` with `pairs` appended to its query, percent-encoded. (reqwest's `query` needs a
/// feature klartext does not enable.) The error never repeats the pairs: one may be a key.
fn url_with_query(
    backend: &str,
    url: &str,
    pairs: &[(&str, &str)],
) -> Result<reqwest::Url, BackendError> {
    let mut parsed = reqwest::Url::parse(url).map_err(|e| {
        BackendError::config(
            backend,
            format!("{url} is not a valid URL: {e}"),
            Some(format!("check backends.{backend}.base_url")),
        )
    })?;
    parsed.query_pairs_mut().extend_pairs(pairs);
    Ok(parsed)
}

/// What `backends --check` says of a model list: `URL answers; model M is available`, or
/// the failure that names the model and a few of the `ids` the server lists.
fn model_verdict(
    backend: &str,
    base_url: &str,
    model: &str,
    ids: &[&str],
    listed: bool,
) -> Result<String, BackendError> {
    if listed {
        return Ok(format!("{base_url} answers; model {model} is available"));
    }
    let hint = match few_models(model, ids) {
        Some(few) => format!("set backends.{backend}.model to one it lists, such as {few}"),
        None => format!("check backends.{backend}.base_url, and that the server has a model"),
    };
    Err(missing_model(backend, base_url, model, ids.len(), hint))
}

/// The check's failure for a model the server does not have.
fn missing_model(
    backend: &str,
    base_url: &str,
    model: &str,
    count: usize,
    hint: String,
) -> BackendError {
    let models = crate::count::plural(count, "model", "models");
    BackendError::unusable(
        backend,
        format!("{base_url} answers, but model {model} is not among its {count} {models}"),
        hint,
    )
}

/// Up to five of the listed `ids`, those sharing the longest start with `model` first (a
/// misspelt or missing size tag then shows its neighbours): `a, b, c`, or `None` for none.
fn few_models(model: &str, ids: &[&str]) -> Option<String> {
    const FEW: usize = 5;
    let shared = |id: &str| {
        id.chars()
            .zip(model.chars())
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count()
    };
    let mut ids = ids.to_vec();
    ids.sort_by_key(|id| std::cmp::Reverse(shared(id)));
    let few: Vec<&str> = ids.iter().take(FEW).copied().collect();
    let more = ids.len().saturating_sub(FEW);
    (!few.is_empty()).then(|| {
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        format!("{}{more}", few.join(", "))
    })
}

/// The key a backend needs, or the configuration error that says where to put it.
fn require_key(settings: &BackendSettings) -> Result<String, BackendError> {
    if let Some(key) = &settings.api_key {
        return Ok(key.value.expose().to_owned());
    }
    let (message, hint) = match &settings.api_key_env {
        Some(var) => (
            format!("no API key: {} is not set", var.value),
            format!("set {} (or api_key in the config file)", var.value),
        ),
        None => (
            "no API key".to_owned(),
            "set api_key_env or api_key in the config file".to_owned(),
        ),
    };
    Err(BackendError::config(&settings.name, message, Some(hint)))
}

/// The key of a backend that may do without one (a local server): none when none was asked
/// for, but a key variable the config names (`api_key_env`) and that is not set is an error:
/// the user meant a key to be sent, and the request would otherwise go out without one.
fn optional_key(settings: &BackendSettings) -> Result<Option<String>, BackendError> {
    match (&settings.api_key, &settings.api_key_env) {
        (Some(key), _) => Ok(Some(key.value.expose().to_owned())),
        (None, Some(var)) if var.source != Source::Default => {
            let (name, var) = (&settings.name, &var.value);
            Err(BackendError::config(
                name,
                format!("{var} is not set, and backends.{name}.api_key_env names it"),
                Some(format!(
                    "set {var}, or remove api_key_env from [backends.{name}] if the server \
                     needs no key"
                )),
            ))
        }
        (None, _) => Ok(None),
    }
}

/// The backend's base URL without a trailing slash. One with a user name or password in it is
/// refused (config refuses it first): reqwest would send them as a second `Authorization`
/// header, and every message naming the URL would show them.
fn base_url(settings: &BackendSettings) -> Result<String, BackendError> {
    let name = &settings.name;
    let url = settings.endpoint().ok_or_else(|| {
        BackendError::config(
            name,
            "no base_url".to_owned(),
            Some(format!("set backends.{name}.base_url")),
        )
    })?;
    let shown = crate::config::redact_url(url);
    if shown != url {
        return Err(BackendError::config(
            name,
            format!("{shown} has a user name or password in it, which klartext does not send"),
            Some(format!(
                "take `user:password@` out of backends.{name}.base_url; klartext sends a key \
                 only from the variable api_key_env names, in the provider's own header"
            )),
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The model a chat backend needs (config guarantees it for chat kinds).
fn require_model(settings: &BackendSettings) -> Result<String, BackendError> {
    settings
        .model
        .as_ref()
        .map(|m| m.value.clone())
        .ok_or_else(|| {
            BackendError::config(
                &settings.name,
                "no model".to_owned(),
                Some(format!("set backends.{}.model", settings.name)),
            )
        })
}

#[cfg(test)]
pub(crate) mod testing;
