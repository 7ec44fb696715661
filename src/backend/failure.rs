//! Every provider's failures, classified once: what kind of failure an HTTP answer is, how long
//! the server asked us to wait, and the provider's own error message — with API keys removed.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::BackendKind;

/// What to do about a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Server trouble, overload, timeouts, resets: retry with backoff.
    Transient,
    /// 429: wait as the server says, then retry.
    RateLimited,
    /// Out of quota, credits or budget: stop the whole run, keep finished work.
    Quota,
    /// Wrong key, permissions, URL or model: no request to this backend can succeed.
    Fatal,
    /// This request was refused (400, 413, 422): other requests may still succeed.
    Rejected,
}

impl FailureKind {
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::Transient | Self::RateLimited)
    }
}

/// One classified failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    /// The provider's message (redacted), or ours for transport errors.
    pub message: String,
    /// How long the server asked us to wait.
    pub wait: Option<Duration>,
}

/// Classify a non-success HTTP answer from `kind`'s API.
pub fn classify(kind: BackendKind, status: u16, headers: &HeaderMap, body: &[u8]) -> Failure {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let (message, code) = json.as_ref().map(error_message).unwrap_or_default();
    let message = if message.is_empty() {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() || text.len() > 300 {
            format!("HTTP {status}")
        } else {
            text.to_owned()
        }
    } else {
        message
    };
    let failure_kind = kind_of(kind, status, &code, &message);
    let wait = wait_hint(headers, SystemTime::now()).or_else(|| json.as_ref().and_then(retry_info));
    Failure {
        kind: failure_kind,
        status: Some(status),
        message,
        wait,
    }
}

fn kind_of(kind: BackendKind, status: u16, code: &str, message: &str) -> FailureKind {
    let lower = message.to_ascii_lowercase();
    let quota_words = code == "insufficient_quota"
        || code == "billing_error"
        || lower.contains("credit balance is too low")
        || lower.contains("insufficient balance")
        || lower.contains("exceeded your current quota");
    match (kind, status) {
        (BackendKind::Deepl, 456) => FailureKind::Quota,
        (BackendKind::Deepl, 529) => FailureKind::RateLimited,
        (_, 402) => FailureKind::Quota,
        (_, 400 | 403 | 429) if quota_words => FailureKind::Quota,
        (_, 429) => FailureKind::RateLimited,
        (_, 401 | 403 | 404) => FailureKind::Fatal,
        (_, 408 | 409 | 425) => FailureKind::Transient,
        (_, s) if s >= 500 => FailureKind::Transient,
        _ => FailureKind::Rejected,
    }
}

/// The message and code of the providers' error envelopes:
/// OpenAI-style `{"error":{"message","type","code"}}` (also Gemini's `status`, OpenRouter's
/// numeric `code`), Anthropic `{"type":"error","error":{"type","message"}}`, Ollama
/// `{"error":"…"}`, DeepL `{"message":…}`.
fn error_message(json: &Value) -> (String, String) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    match json.get("error") {
        Some(Value::String(message)) => (message.clone(), String::new()),
        Some(error) => {
            let code = error
                .get("code")
                .and_then(Value::as_str)
                .or_else(|| error.get("type").and_then(Value::as_str))
                .or_else(|| error.get("status").and_then(Value::as_str))
                .unwrap_or_default();
            (text(error.get("message")), code.to_owned())
        }
        None => (text(json.get("message")), text(json.get("code"))),
    }
}

/// The server's wait hint, most precise first: `retry-after-ms`, `Retry-After` (seconds or an
/// HTTP date), then the longest of OpenAI's `x-ratelimit-reset-*` durations and Anthropic's
/// `anthropic-ratelimit-*-reset` timestamps.
pub fn wait_hint(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return seconds(ms / 1000.0);
    }
    if let Some(value) = header("retry-after") {
        if let Ok(secs) = value.parse::<f64>() {
            return seconds(secs);
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(now).unwrap_or_default());
        }
    }
    headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str();
            let value = value.to_str().ok()?.trim();
            if name.starts_with("x-ratelimit-reset") {
                go_duration(value)
            } else if name.starts_with("anthropic-ratelimit-") && name.ends_with("-reset") {
                let at = humantime::parse_rfc3339_weak(value).ok()?;
                Some(at.duration_since(now).unwrap_or_default())
            } else {
                None
            }
        })
        .max()
}

/// Gemini puts the wait into the body: `error.details[].retryDelay` of a `google.rpc.RetryInfo`.
fn retry_info(json: &Value) -> Option<Duration> {
    json.get("error")?
        .get("details")?
        .as_array()?
        .iter()
        .filter(|d| {
            d.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("google.rpc.RetryInfo"))
        })
        .find_map(|d| go_duration(d.get("retryDelay")?.as_str()?))
}

fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// Go-style durations as OpenAI and Google write them: `1s`, `6m0s`, `20ms`, `1.5s`, `1h2m`.
fn go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(split);
        let number: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        total += number
            * match unit {
                "h" => 3600.0,
                "m" => 60.0,
                "s" => 1.0,
                "ms" => 0.001,
                "us" | "µs" => 0.000_001,
                "ns" => 0.000_000_001,
                _ => return None,
            };
        rest = tail;
    }
    seconds(total)
}

/// Remove an API key, and anything that looks like a masked fragment of one (OpenAI echoes
/// `sk-…****abcd`), from a message before it is shown or stored.
pub fn redact(message: &str, key: Option<&str>) -> String {
    let mut out = message.to_owned();
    if let Some(key) = key.filter(|k| k.len() >= 4) {
        out = out.replace(key, "[redacted]");
    }
    out.split(' ')
        .map(|word| {
            if word.contains("***") || word.contains("•••") {
                "[redacted]"
            } else {
                word
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    HeaderValue::from_str(v).expect("value"),
                )
            })
            .collect()
    }

    #[test]
    fn wait_hints_in_every_form() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let at = |pairs| wait_hint(&headers(pairs), now);
        assert_eq!(
            at(&[("retry-after-ms", "250")]),
            Some(Duration::from_millis(250))
        );
        assert_eq!(at(&[("retry-after", "3")]), Some(Duration::from_secs(3)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        let date = [("retry-after", date.as_str())];
        assert_eq!(at(&date), Some(Duration::from_secs(7)));
        assert_eq!(
            at(&[
                ("x-ratelimit-reset-requests", "1s"),
                ("x-ratelimit-reset-tokens", "6m0s")
            ]),
            Some(Duration::from_secs(360))
        );
        let reset = humantime::format_rfc3339(now + Duration::from_secs(12)).to_string();
        let reset = [("anthropic-ratelimit-tokens-reset", reset.as_str())];
        assert_eq!(at(&reset), Some(Duration::from_secs(12)));
        assert_eq!(
            at(&[("retry-after-ms", "100"), ("retry-after", "9")]),
            Some(Duration::from_millis(100))
        );
        assert_eq!(at(&[]), None);
        assert_eq!(at(&[("retry-after", "soon")]), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(go_duration("1h2m3s"), Some(Duration::from_secs(3723)));
        assert_eq!(go_duration("3x"), None);
        assert_eq!(go_duration(""), None);
    }

    #[test]
    fn gemini_retry_info_in_the_body() {
        let body = br#"{"error":{"code":429,"message":"Resource exhausted","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}"#;
        let f = classify(BackendKind::Gemini, 429, &HeaderMap::new(), body);
        assert_eq!(
            (f.kind, f.wait),
            (FailureKind::RateLimited, Some(Duration::from_secs(17)))
        );
    }

    #[test]
    fn statuses_and_provider_codes() {
        let kind = |backend, status, body: &str| {
            classify(backend, status, &HeaderMap::new(), body.as_bytes()).kind
        };
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert_eq!(kind(BackendKind::Openai, 429, quota), FailureKind::Quota);
        assert_eq!(
            kind(BackendKind::Openai, 429, "{}"),
            FailureKind::RateLimited
        );
        assert_eq!(
            kind(BackendKind::Deepl, 456, r#"{"message":"Quota exceeded"}"#),
            FailureKind::Quota
        );
        assert_eq!(kind(BackendKind::Deepl, 529, ""), FailureKind::RateLimited);
        let overloaded =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(
            kind(BackendKind::Anthropic, 529, overloaded),
            FailureKind::Transient
        );
        let credit = r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#;
        assert_eq!(
            kind(BackendKind::Anthropic, 400, credit),
            FailureKind::Quota
        );
        assert_eq!(kind(BackendKind::Openai, 401, "{}"), FailureKind::Fatal);
        assert_eq!(
            kind(BackendKind::Ollama, 404, r#"{"error":"model not found"}"#),
            FailureKind::Fatal
        );
        assert_eq!(kind(BackendKind::Openai, 400, "{}"), FailureKind::Rejected);
        assert_eq!(
            kind(BackendKind::Openai, 503, "Slow Down"),
            FailureKind::Transient
        );
        assert_eq!(kind(BackendKind::Openai, 402, "{}"), FailureKind::Quota);
    }

    #[test]
    fn messages_come_from_every_envelope() {
        let msg = |body: &str| {
            classify(BackendKind::Openai, 400, &HeaderMap::new(), body.as_bytes()).message
        };
        assert_eq!(msg(r#"{"error":{"message":"bad","type":"x"}}"#), "bad");
        assert_eq!(
            msg(r#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(
            msg(r#"{"message":"Wrong target_lang"}"#),
            "Wrong target_lang"
        );
        assert_eq!(msg("<html>gateway</html>"), "<html>gateway</html>");
        assert_eq!(msg(""), "HTTP 400");
    }

    #[test]
    fn keys_and_masked_fragments_are_redacted() {
        let key = "sk-test-abcdef123456";
        let message =
            "Incorrect API key provided: sk-test-********3456. Also sk-test-abcdef123456.";
        let out = redact(message, Some(key));
        assert!(!out.contains("3456") && !out.contains(key), "{out}");
        assert!(out.starts_with("Incorrect API key provided: [redacted]"));
    }
}
