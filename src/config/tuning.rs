//! How klartext talks to one backend: concurrency and rate limits, timeouts and retry budget,
//! and the request shape (output tokens, batch size, temperature, structured output, DeepL's
//! English variant). Every value has a per-kind default and can be set per backend in a file.

use super::file::{FileBackend, FileLayer};
use super::kinds::{BackendKind, Capability};
use super::{Source, Sourced};

#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// Requests in flight at once.
    pub concurrency: Sourced<u32>,
    /// Client-side request rate; `None` = only the server's 429s slow us down.
    pub requests_per_minute: Option<Sourced<u32>>,
    /// Client-side token rate (characters for translation services).
    pub tokens_per_minute: Option<Sourced<u32>>,
    /// Total time for one HTTP request.
    pub timeout_secs: Sourced<u64>,
    /// Attempts per request, the first one included.
    pub max_attempts: Sourced<u32>,
    /// Total time one request may spend waiting between attempts.
    pub max_wait_secs: Sourced<u64>,
    /// Output limit per request (chat backends).
    pub max_output_tokens: Sourced<u32>,
    /// Estimated source tokens per request (chat backends); the system prompt is paid once per batch.
    pub batch_tokens: Sourced<u32>,
    /// Pack consecutive small documents of a run into one request (chat backends, as the
    /// restore backend); off sends each document in requests of its own.
    pub pack_documents: Sourced<bool>,
    /// Sampling temperature; `None` = the provider's default (reasoning models accept no other).
    pub temperature: Option<Sourced<f64>>,
    /// OpenAI structured output (`json_schema`, strict); default on for api.openai.com only.
    pub structured: Sourced<bool>,
    /// DeepL's English: `EN-US` or `EN-GB`.
    pub target_lang: Sourced<String>,
    /// Requests per provider batch job; `None` = the provider's limit.
    pub job_requests: Option<Sourced<u32>>,
    /// Bytes of one batch job's input; `None` = the provider's limit.
    pub job_bytes: Option<Sourced<u64>>,
    /// Seconds between two polls of a batch job.
    pub poll_secs: Sourced<f64>,
}

/// Per-kind defaults; a local Ollama serves one request at a time and is slow.
fn defaults(kind: BackendKind) -> (u32, u64) {
    match kind {
        BackendKind::Ollama => (1, 600),
        BackendKind::Libretranslate => (2, 60),
        _ if kind.capability() == Capability::Translate => (4, 60),
        _ => (4, 180),
    }
}

pub(crate) fn resolve_tuning(
    kind: BackendKind,
    base_url: Option<&str>,
    tables: &[(&FileLayer, &FileBackend)],
) -> Tuning {
    /// The highest layer that sets the field, else the default.
    fn pick<T: Clone>(
        tables: &[(&FileLayer, &FileBackend)],
        get: impl Fn(&FileBackend) -> Option<T>,
    ) -> Option<Sourced<T>> {
        tables
            .iter()
            .rev()
            .find_map(|(layer, table)| get(table).map(|v| Sourced::new(v, layer.source.clone())))
    }
    let or = |value: Option<Sourced<u64>>, default: u64| {
        value.unwrap_or_else(|| Sourced::new(default, Source::Default))
    };
    let (concurrency, timeout) = defaults(kind);
    let official_openai = base_url.is_some_and(|url| url.contains("://api.openai.com"));
    Tuning {
        concurrency: pick(tables, |t| t.concurrency)
            .unwrap_or_else(|| Sourced::new(concurrency, Source::Default)),
        requests_per_minute: pick(tables, |t| t.requests_per_minute),
        tokens_per_minute: pick(tables, |t| t.tokens_per_minute),
        timeout_secs: or(pick(tables, |t| t.timeout_secs), timeout),
        max_attempts: pick(tables, |t| t.max_attempts)
            .unwrap_or_else(|| Sourced::new(5, Source::Default)),
        max_wait_secs: or(pick(tables, |t| t.max_wait_secs), 300),
        max_output_tokens: pick(tables, |t| t.max_output_tokens)
            .unwrap_or_else(|| Sourced::new(8192, Source::Default)),
        batch_tokens: pick(tables, |t| t.batch_tokens)
            .unwrap_or_else(|| Sourced::new(1500, Source::Default)),
        pack_documents: pick(tables, |t| t.pack_documents)
            .unwrap_or_else(|| Sourced::new(true, Source::Default)),
        temperature: pick(tables, |t| t.temperature),
        structured: pick(tables, |t| t.structured)
            .unwrap_or_else(|| Sourced::new(official_openai, Source::Default)),
        target_lang: pick(tables, |t| {
            t.target_lang.as_ref().map(|l| l.to_ascii_uppercase())
        })
        .unwrap_or_else(|| Sourced::new("EN-US".to_owned(), Source::Default)),
        job_requests: pick(tables, |t| t.job_requests),
        job_bytes: pick(tables, |t| t.job_bytes),
        poll_secs: pick(tables, |t| t.poll_secs)
            .unwrap_or_else(|| Sourced::new(30.0, Source::Default)),
    }
}

impl Tuning {
    /// `(field, value, source)` rows for `config show`, only the ones that apply to `kind`.
    pub(crate) fn shown(&self, kind: BackendKind) -> Vec<(&'static str, String, &Source)> {
        let mut rows = vec![(
            "concurrency",
            self.concurrency.value.to_string(),
            &self.concurrency.source,
        )];
        fn unlimited(value: &Option<Sourced<u32>>) -> (String, &Source) {
            match value {
                Some(v) => (v.value.to_string(), &v.source),
                None => ("(no client-side limit)".to_owned(), &Source::Default),
            }
        }
        let (rpm, rpm_source) = unlimited(&self.requests_per_minute);
        rows.push(("requests_per_minute", rpm, rpm_source));
        let (tpm, tpm_source) = unlimited(&self.tokens_per_minute);
        rows.push(("tokens_per_minute", tpm, tpm_source));
        rows.push((
            "timeout_secs",
            self.timeout_secs.value.to_string(),
            &self.timeout_secs.source,
        ));
        rows.push((
            "max_attempts",
            self.max_attempts.value.to_string(),
            &self.max_attempts.source,
        ));
        rows.push((
            "max_wait_secs",
            self.max_wait_secs.value.to_string(),
            &self.max_wait_secs.source,
        ));
        match kind.capability() {
            Capability::Chat => {
                let t = &self.max_output_tokens;
                rows.push(("max_output_tokens", t.value.to_string(), &t.source));
                let t = &self.batch_tokens;
                rows.push(("batch_tokens", t.value.to_string(), &t.source));
                let p = &self.pack_documents;
                rows.push(("pack_documents", p.value.to_string(), &p.source));
                match &self.temperature {
                    Some(t) => rows.push(("temperature", t.value.to_string(), &t.source)),
                    None => rows.push((
                        "temperature",
                        "(provider default)".to_owned(),
                        &Source::Default,
                    )),
                }
                if kind == BackendKind::Openai {
                    let s = &self.structured;
                    rows.push(("structured", s.value.to_string(), &s.source));
                }
                if kind.has_batch_api() {
                    let provider = || ("(the provider's limit)".to_owned(), &Source::Default);
                    let (requests, source) = self
                        .job_requests
                        .as_ref()
                        .map_or_else(provider, |r| (r.value.to_string(), &r.source));
                    rows.push(("job_requests", requests, source));
                    let (bytes, source) = self
                        .job_bytes
                        .as_ref()
                        .map_or_else(provider, |b| (b.value.to_string(), &b.source));
                    rows.push(("job_bytes", bytes, source));
                    let p = &self.poll_secs;
                    rows.push(("poll_secs", p.value.to_string(), &p.source));
                }
            }
            Capability::Translate => {
                let l = &self.target_lang;
                rows.push(("target_lang", l.value.clone(), &l.source));
            }
        }
        rows
    }
}
