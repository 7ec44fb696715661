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
    let reasons = json.as_ref().map(google_reasons).unwrap_or_default();
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
    let failure_kind = kind_of(kind, status, &code, &message, &reasons);
    let wait = wait_hint(headers, SystemTime::now()).or_else(|| json.as_ref().and_then(retry_info));
    Failure {
        kind: failure_kind,
        status: Some(status),
        message,
        wait,
    }
}

fn kind_of(
    kind: BackendKind,
    status: u16,
    code: &str,
    message: &str,
    reasons: &[String],
) -> FailureKind {
    let lower = message.to_ascii_lowercase();
    if matches!(kind, BackendKind::Gemini | BackendKind::Google)
        && let Some(google) = google_kind(status, code, &lower, reasons)
    {
        return google;
    }
    let quota_words = code == "insufficient_quota"
        || code == "billing_error"
        || lower.contains("credit balance is too low")
        || lower.contains("insufficient balance")
        || lower.contains("exceeded your current quota");
    match (kind, status) {
        (BackendKind::Deepl, 456) => FailureKind::Quota,
        (BackendKind::Deepl, 529) => FailureKind::RateLimited,
        // Azure's 403001: the free tier's characters are used up.
        (BackendKind::Azure, 403) if code == "403001" => FailureKind::Quota,
        // A missing or refused key, or a request over the operator's size limit: every
        // later request fails the same way.
        (BackendKind::Libretranslate, 400)
            if lower.contains("api key") || lower.contains("exceeds text limit") =>
        {
            FailureKind::Fatal
        }
        (_, 402) => FailureKind::Quota,
        (_, 400 | 403 | 429) if quota_words => FailureKind::Quota,
        (_, 429) => FailureKind::RateLimited,
        (_, 401 | 403 | 404) => FailureKind::Fatal,
        (_, 408 | 409 | 425) => FailureKind::Transient,
        (_, s) if s >= 500 => FailureKind::Transient,
        _ => FailureKind::Rejected,
    }
}

/// Google's APIs (Gemini, Cloud Translation) say more in `status`, the detail reasons and quota
/// ids than in the HTTP status. Gemini's per-minute 429s read "You exceeded your current
/// quota" too, so only a daily (or zero) limit counts as quota; `None` leaves it to the status.
fn google_kind(status: u16, code: &str, lower: &str, reasons: &[String]) -> Option<FailureKind> {
    let reason = |name: &str| reasons.iter().any(|r| r == name);
    if reason("API_KEY_INVALID")
        || lower.contains("api key not valid")
        || lower.contains("api key expired")
        || code == "FAILED_PRECONDITION"
    {
        return Some(FailureKind::Fatal);
    }
    if !matches!(status, 403 | 429) {
        return None;
    }
    let daily = reason("dailyLimitExceeded")
        || reasons.iter().any(|r| r.contains("PerDay"))
        || lower.contains("daily limit exceeded")
        || lower.contains("per day")
        || zero_limit(lower);
    if daily {
        return Some(FailureKind::Quota);
    }
    let rate = status == 429
        || reason("userRateLimitExceeded")
        || reason("rateLimitExceeded")
        || lower.contains("rate limit exceeded");
    rate.then_some(FailureKind::RateLimited)
}

/// "Quota exceeded for metric: …, limit: 0": the plan does not include this model at all.
fn zero_limit(lower: &str) -> bool {
    lower.match_indices("limit: 0").any(|(at, found)| {
        !lower[at + found.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '.')
    })
}

/// Google's machine-readable reasons: `details[].reason` (`google.rpc.ErrorInfo`, e.g.
/// `API_KEY_INVALID`), `details[].violations[].quotaId` (`google.rpc.QuotaFailure`, e.g.
/// `GenerateRequestsPerDayPerProjectPerModel-FreeTier`) and Translation v2's
/// `errors[].reason` (`dailyLimitExceeded`, `userRateLimitExceeded`).
fn google_reasons(json: &Value) -> Vec<String> {
    let Some(error) = json.get("error") else {
        return Vec::new();
    };
    let list = |v: Option<&Value>| v.and_then(Value::as_array).cloned().unwrap_or_default();
    let text = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    let mut reasons = Vec::new();
    for detail in list(error.get("details")) {
        reasons.extend(text(&detail, "reason"));
        for violation in list(detail.get("violations")) {
            reasons.extend(text(&violation, "quotaId"));
        }
    }
    for item in list(error.get("errors")) {
        reasons.extend(text(&item, "reason"));
    }
    reasons
}

/// The message and code of the providers' error envelopes:
/// OpenAI-style `{"error":{"message","type","code"}}` (also Gemini's and Google's `status`,
/// Azure's and OpenRouter's numeric `code`), Anthropic
/// `{"type":"error","error":{"type","message"}}`, Ollama and LibreTranslate `{"error":"…"}`,
/// DeepL `{"message":…}`.
fn error_message(json: &Value) -> (String, String) {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    match json.get("error") {
        Some(Value::String(message)) => (message.clone(), String::new()),
        Some(error) => {
            let field = |name| error.get(name).and_then(Value::as_str).map(str::to_owned);
            let code = field("code")
                .or_else(|| field("type"))
                .or_else(|| field("status"))
                // Azure's six digits (`403001`) say more than its HTTP status.
                .or_else(|| {
                    error
                        .get("code")
                        .and_then(Value::as_u64)
                        .map(|c| c.to_string())
                })
                .unwrap_or_default();
            (text(error.get("message")), code)
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

    /// `(backend, status, body, expected)` rows, checked together so a failure names its row.
    fn assert_kinds(rows: &[(BackendKind, u16, String, FailureKind)]) {
        for (backend, status, body, expected) in rows {
            let f = classify(*backend, *status, &HeaderMap::new(), body.as_bytes());
            assert_eq!(f.kind, *expected, "{backend} {status} {body}");
        }
    }

    #[test]
    fn gemini_quota_rate_limits_and_keys() {
        use FailureKind::{Fatal, Quota, RateLimited, Rejected, Transient};
        let row = |code: u16, status: &str, message: &str, details: Value, expected| {
            let error = serde_json::json!({"code": code, "message": message, "status": status, "details": details});
            let body = serde_json::json!({ "error": error }).to_string();
            (BackendKind::Gemini, code, body, expected)
        };
        let exhausted = "You exceeded your current quota, please check your plan and billing details.\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash\nPlease retry in 7.5s.";
        let per = |quota_id: &str| {
            serde_json::json!([
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": quota_id}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
            ])
        };
        let minute = per("GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
        let day = per("GenerateRequestsPerDayPerProjectPerModel-FreeTier");
        let bad_key = serde_json::json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]);
        let no = || serde_json::json!([]);
        let no_model = exhausted.replace("limit: 10", "limit: 0");
        // Gemini's per-minute 429 says "exceeded your current quota" too: wait and retry.
        #[rustfmt::skip]
        let rows = [
            row(429, "RESOURCE_EXHAUSTED", exhausted, minute, RateLimited),
            row(429, "RESOURCE_EXHAUSTED", exhausted, day, Quota),
            row(429, "RESOURCE_EXHAUSTED", "Quota exceeded for metric: requests per day", no(), Quota),
            row(429, "RESOURCE_EXHAUSTED", &no_model, no(), Quota),
            row(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", bad_key, Fatal),
            row(400, "FAILED_PRECONDITION", "User location is not supported for the API use.", no(), Fatal),
            row(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", no(), Rejected),
            row(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.", no(), Fatal),
            row(503, "UNAVAILABLE", "The model is overloaded.", no(), Transient),
        ];
        assert_kinds(&rows);
        assert!(zero_limit("limit: 0") && !zero_limit("limit: 0.5") && !zero_limit("limit: 05"));
    }

    #[test]
    fn google_translate_legacy_reasons() {
        use FailureKind::{Fatal, Quota, RateLimited, Rejected};
        let row = |status: u16, message: &str, reason: &str, expected| {
            let item =
                serde_json::json!({"message": message, "domain": "usageLimits", "reason": reason});
            let body = serde_json::json!({"error": {"code": status, "message": message, "errors": [item]}});
            (BackendKind::Google, status, body.to_string(), expected)
        };
        #[rustfmt::skip]
        let rows = [
            row(403, "Daily Limit Exceeded", "dailyLimitExceeded", Quota),
            row(403, "User Rate Limit Exceeded", "userRateLimitExceeded", RateLimited),
            row(403, "Rate Limit Exceeded", "rateLimitExceeded", RateLimited),
            row(403, "Too many requests", "rateLimitExceeded", RateLimited),
            row(400, "API key not valid. Please pass a valid API key.", "badRequest", Fatal),
            row(403, "Requests from this referer are blocked.", "forbidden", Fatal),
            row(400, "Invalid Value", "invalid", Rejected),
        ];
        assert_kinds(&rows);
    }

    #[test]
    fn azure_and_libretranslate_codes() {
        use FailureKind::{Fatal, Quota, RateLimited, Rejected, Transient};
        let azure = |status: u16, code: u32, message: &str, expected| {
            let body = serde_json::json!({"error": {"code": code, "message": message}});
            (BackendKind::Azure, status, body.to_string(), expected)
        };
        let libre = |status: u16, message: &str, expected| {
            let body = serde_json::json!({ "error": message }).to_string();
            (BackendKind::Libretranslate, status, body, expected)
        };
        let free =
            "The operation isn't allowed because the subscription has exceeded its free quota.";
        #[rustfmt::skip]
        let rows = [
            azure(403, 403_001, free, Quota),
            azure(403, 403_000, "The operation isn't allowed.", Fatal),
            azure(401, 401_000, "The request isn't authorized because credentials are missing or invalid.", Fatal),
            azure(429, 429_001, "The server rejected the request because the client has exceeded request limits.", RateLimited),
            azure(408, 408_001, "The requested translation system is not yet available.", Transient),
            azure(500, 500_000, "An unexpected error occurred.", Transient),
            azure(503, 503_000, "Service is temporarily unavailable.", Transient),
            azure(400, 400_050, "The input text is too long.", Rejected),
            libre(400, "Visit https://portal.libretranslate.com to get an API key", Fatal),
            libre(400, "Please contact the server operator to get an API key", Fatal),
            libre(400, "Invalid request: request (6000) exceeds text limit (5000)", Fatal),
            libre(400, "xx is not supported", Rejected),
            libre(403, "Invalid API key", Fatal),
            libre(429, "Slowdown: 30 per 1 minute", RateLimited),
            libre(500, "Cannot translate text: boom", Transient),
        ];
        assert_kinds(&rows);
        let body = serde_json::json!({"error": {"code": 403_001, "message": free}}).to_string();
        let f = classify(BackendKind::Azure, 403, &HeaderMap::new(), body.as_bytes());
        assert_eq!(f.message, free);
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
