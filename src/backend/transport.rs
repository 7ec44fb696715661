//! The HTTP side every backend shares: one `reqwest::Client` per backend (rustls, timeouts, a
//! user agent), built once; a concurrency limit and request/token rate limiters; and the retry
//! loop that follows the classified failures — backoff with full jitter for transient errors,
//! the server's wait for 429s, an immediate stop for quota, auth and rejected requests.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::HeaderMap;
use tokio_util::sync::CancellationToken;

use super::failure::{self, Failure, FailureKind};
use super::slots::Slots;
use super::{BackendError, ChatReply, ErrorKind};
use crate::config::{BackendKind, BackendSettings, Source};

const USER_AGENT: &str = concat!("klartext/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Backoff bounds: attempt n waits a random time in `[0, min(cap, base · 2^n))`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// "Full jitter": spreads retries of many clients evenly instead of in waves.
    fn delay(self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    pub body: Vec<u8>,
    pub headers: HeaderMap,
    /// Retries it took (0 when the first attempt succeeded).
    pub retries: u64,
}

/// One backend's connection to its service.
pub struct Transport {
    pub name: String,
    pub kind: BackendKind,
    client: reqwest::Client,
    slots: Slots,
    /// Ctrl-C: no new attempts, waits end, requests in flight are dropped.
    cancel: CancellationToken,
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<(DefaultDirectRateLimiter, NonZeroU32)>,
    max_attempts: u32,
    max_wait: Duration,
    /// The configured time a request may take (`timeout_secs`).
    timeout: Duration,
    backoff: Backoff,
    /// The key, only to redact it from messages.
    key: Option<String>,
    /// What a hint should tell the user to check.
    key_env: Option<String>,
    pub requests_sent: AtomicU64,
    /// Of those, the ones that repeated an earlier attempt.
    pub retries_sent: AtomicU64,
    /// The quota or fatal error that made this backend unusable: requests still waiting for a
    /// slot are not sent after it.
    halted: std::sync::OnceLock<BackendError>,
}

impl Transport {
    /// The transport of a configured backend: its name, kind and limits. Its key (if any) is
    /// kept out of every error, and hints name the variable it came from — the one actually
    /// read, which may be a fallback such as `GOOGLE_API_KEY`.
    pub fn for_backend(settings: &BackendSettings) -> Result<Self, BackendError> {
        let name = settings.name.as_str();
        let tuning = &settings.tuning;
        let key = settings.api_key.as_ref().map(|k| k.value.expose());
        let key_env = match settings.api_key.as_ref().map(|k| &k.source) {
            Some(Source::Env(var)) => Some(var.as_str()),
            _ => settings.api_key_env.as_ref().map(|v| v.value.as_str()),
        };
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(Duration::from_secs(tuning.timeout_secs.value))
            .build()
            .map_err(|e| {
                BackendError::config(name, format!("cannot set up the HTTP client: {e}"), None)
            })?;
        // Requests are spread over the minute (a second's worth may burst), so a run never
        // fires a minute's allowance at once; tokens may burst up to a minute's budget, since
        // one large request can need most of it.
        let requests = tuning.requests_per_minute.as_ref().and_then(|r| {
            let rate = NonZeroU32::new(r.value)?;
            let burst = NonZeroU32::new((r.value / 60).max(1))?;
            Some(RateLimiter::direct(
                Quota::per_minute(rate).allow_burst(burst),
            ))
        });
        let tokens = tuning.tokens_per_minute.as_ref().and_then(|t| {
            let burst = NonZeroU32::new(t.value)?;
            Some((RateLimiter::direct(Quota::per_minute(burst)), burst))
        });
        let slots = usize::try_from(tuning.concurrency.value)
            .unwrap_or(1)
            .max(1);
        Ok(Self {
            name: name.to_owned(),
            kind: settings.kind.value,
            client,
            slots: Slots::new(slots),
            cancel: CancellationToken::new(),
            requests,
            tokens,
            max_attempts: tuning.max_attempts.value.max(1),
            max_wait: Duration::from_secs(tuning.max_wait_secs.value),
            timeout: Duration::from_secs(tuning.timeout_secs.value),
            backoff: Backoff::default(),
            key: key.map(str::to_owned),
            key_env: key_env.map(str::to_owned),
            requests_sent: AtomicU64::new(0),
            retries_sent: AtomicU64::new(0),
            halted: std::sync::OnceLock::new(),
        })
    }

    /// The time a request carrying or fetching `bytes` may take: the configured timeout, or
    /// as long as the bytes take at 1 Mbit/s when that is longer — a batch job's file of
    /// 200 MB gets about 27 minutes, not the 3 of a chat request.
    pub fn bulk_timeout(&self, bytes: usize) -> Duration {
        const BYTES_PER_SECOND: usize = 125_000;
        self.timeout
            .max(Duration::from_secs((bytes / BYTES_PER_SECOND) as u64))
    }

    #[cfg(test)]
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Stop when `token` is cancelled (the run's Ctrl-C).
    pub fn watch(&mut self, token: CancellationToken) {
        self.cancel = token;
    }

    /// Requests this backend may have in flight now (lowered after 429s).
    pub fn concurrency(&self) -> usize {
        self.slots.limit()
    }

    /// Send the request `build` makes, as often as the failure classes allow. `cost` is the
    /// request's estimated tokens (characters for translation services) for the token limiter.
    pub async fn send(
        &self,
        url: &str,
        cost: u32,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer, BackendError> {
        let mut waited = Duration::ZERO;
        let mut retries = 0u64;
        loop {
            let slot = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(self.cancelled()),
                slot = self.slots.acquire() => slot,
            };
            // Another request used up the quota (or met a bad key) while this one waited.
            if let Some(halted) = self.halted.get() {
                return Err(BackendError {
                    kind: ErrorKind::Halted,
                    ..halted.clone()
                });
            }
            let outcome = tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(self.cancelled()),
                outcome = async {
                    self.pace(cost).await;
                    self.requests_sent.fetch_add(1, Ordering::Relaxed);
                    if retries > 0 {
                        self.retries_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    self.attempt(build(&self.client)).await
                } => outcome,
            };
            drop(slot);
            // The request waiting for this slot was woken on this thread, behind this task
            // (tokio runs a task woken here next, but only once this one yields): yield, so it
            // goes out now rather than after this reply's parsing and checks.
            tokio::task::yield_now().await;
            let failure = match outcome {
                Ok((body, headers)) => {
                    self.slots.succeeded();
                    return Ok(Answer {
                        body,
                        headers,
                        retries,
                    });
                }
                Err(failure) => failure,
            };
            if failure.status == Some(429) && failure.kind == FailureKind::RateLimited {
                // We kept to the configured limits, so they are too high for this account.
                self.slots.rate_limited();
            }
            let attempts = u32::try_from(retries + 1).unwrap_or(u32::MAX);
            if !failure.kind.is_retryable() || attempts >= self.max_attempts {
                return Err(self.give_up(url, failure, attempts));
            }
            let delay = failure
                .wait
                .unwrap_or_else(|| self.backoff.delay(attempts - 1));
            if waited + delay > self.max_wait {
                let mut failure = failure;
                failure.message = format!(
                    "{} (the server asked to wait {}s, more than max_wait_secs allows)",
                    failure.message,
                    delay.as_secs()
                );
                return Err(self.give_up(url, failure, attempts));
            }
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(self.cancelled()),
                () = tokio::time::sleep(delay) => {}
            }
            waited += delay;
            retries += 1;
        }
    }

    /// Send the GET request `build` makes (one unit of cost) and read its JSON answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, BackendError> {
        let answer = self.send(url, 1, build).await?;
        serde_json::from_slice(&answer.body).map_err(|e| BackendError::malformed(&self.name, e))
    }

    /// POST a chat request's JSON `body` and read the answer with the provider's `parse`;
    /// the reply's usage counts every attempt.
    pub async fn post_chat(
        &self,
        url: &str,
        cost: u32,
        body: &serde_json::Value,
        authorize: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
        parse: fn(&[u8]) -> Result<ChatReply, String>,
    ) -> Result<ChatReply, BackendError> {
        let answer = self
            .send(url, cost, |client| authorize(client.post(url)).json(body))
            .await?;
        let mut reply = parse(&answer.body).map_err(|e| BackendError::malformed(&self.name, e))?;
        reply.usage.requests = 1 + answer.retries;
        reply.usage.retries = answer.retries;
        Ok(reply)
    }

    /// `text` from the provider with this backend's key taken out (for what a batch result
    /// line says, which comes back outside any error answer).
    pub fn redact(&self, text: &str) -> String {
        failure::redact(text, self.key.as_deref())
    }

    /// Wait until the rate limiters allow one more request of `cost` tokens.
    async fn pace(&self, cost: u32) {
        if let Some(limiter) = &self.requests {
            limiter.until_ready().await;
        }
        if let Some((limiter, burst)) = &self.tokens {
            // A request larger than a minute's budget waits for a whole minute's worth.
            let n = NonZeroU32::new(cost.clamp(1, burst.get())).unwrap_or(*burst);
            let _ = limiter.until_n_ready(n).await;
        }
    }

    async fn attempt(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(Vec<u8>, HeaderMap), Failure> {
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_failure(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| self.transport_failure(&e))?
            .to_vec();
        if status.is_success() {
            Ok((body, headers))
        } else {
            let mut failure = failure::classify(self.kind, status.as_u16(), &headers, &body);
            failure.message = failure::redact(&failure.message, self.key.as_deref());
            Err(failure)
        }
    }

    fn cancelled(&self) -> BackendError {
        BackendError {
            backend: self.name.clone(),
            kind: ErrorKind::Cancelled,
            message: "cancelled (Ctrl-C)".to_owned(),
            hint: None,
            status: None,
        }
    }

    fn transport_failure(&self, e: &reqwest::Error) -> Failure {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else if e.is_body() || e.is_decode() {
            "the connection broke off"
        } else {
            "the request failed"
        };
        // Without the URL: ours is added by `error`, and a URL may carry a key.
        let detail = std::error::Error::source(e)
            .map(|s| format!(": {s}"))
            .unwrap_or_default();
        Failure {
            kind: FailureKind::Transient,
            status: None,
            message: failure::redact(&format!("{what}{detail}"), self.key.as_deref()),
            wait: None,
        }
    }

    /// The error for a request that failed for good; a quota or fatal one halts the backend.
    fn give_up(&self, url: &str, failure: Failure, attempts: u32) -> BackendError {
        let error = self.error(url, failure, attempts);
        if matches!(error.kind, ErrorKind::Quota | ErrorKind::Fatal) {
            let _ = self.halted.set(error.clone());
        }
        error
    }

    fn error(&self, url: &str, failure: Failure, attempts: u32) -> BackendError {
        let url = url.split('?').next().unwrap_or(url);
        let tries = if attempts > 1 {
            format!(" (after {attempts} attempts)")
        } else {
            String::new()
        };
        let http = failure
            .status
            .map(|s| format!("HTTP {s}: "))
            .unwrap_or_default();
        let key_hint = match &self.key_env {
            Some(var) => format!("check the API key in ${var}"),
            None => "check the API key (api_key or api_key_env in the config)".to_owned(),
        };
        let (kind, hint) = match failure.kind {
            FailureKind::Quota => (
                ErrorKind::Quota,
                Some("the account's quota or credit is used up; finished work is kept — run the same command again once it is topped up".to_owned()),
            ),
            FailureKind::Fatal if failure.status == Some(404) => (
                ErrorKind::Fatal,
                Some(format!("check base_url ({url} was called) and the model name")),
            ),
            FailureKind::Fatal => (ErrorKind::Fatal, Some(format!("{key_hint}; {url} was called"))),
            FailureKind::Rejected => (ErrorKind::Rejected, None),
            FailureKind::RateLimited => (
                ErrorKind::RateLimited,
                Some(format!("lower concurrency or requests_per_minute for backends.{}", self.name)),
            ),
            FailureKind::Transient if failure.status.is_none() => (
                ErrorKind::Unavailable,
                Some(format!("is the service reachable at {url}?")),
            ),
            FailureKind::Transient => (ErrorKind::Unavailable, None),
        };
        BackendError {
            backend: self.name.clone(),
            kind,
            message: format!("{http}{}{tries}", failure.message),
            hint,
            status: failure.status,
        }
    }
}

#[cfg(test)]
mod tests;
