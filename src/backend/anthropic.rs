//! Anthropic's Messages API (`POST /v1/messages`): the system prompt goes in the top-level
//! `system` field, the data in one user message. JSON by instruction only — no
//! `output_config` — because the caller validates every reply anyway. The key travels in
//! `x-api-key`, next to the pinned `anthropic-version`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::transport::Transport;
use super::{
    BackendError, ChatReply, ChatRequest, Stop, Usage, base_url, require_key, require_model,
};
use crate::config::BackendSettings;

/// The API version klartext's wire format follows.
const API_VERSION: &str = "2023-06-01";
/// The models list pages; 1000 is its largest page, so one call sees every model.
const MODELS_PAGE: &str = "limit=1000";

pub struct Anthropic {
    pub(super) model: String,
    pub(super) base_url: String,
    key: String,
    max_output_tokens: u32,
    temperature: Option<f64>,
}

impl Anthropic {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let key = require_key(settings)?;
        let tuning = &settings.tuning;
        let temperature = tuning.temperature.as_ref().map(|t| t.value);
        // Config allows up to 2.0 for OpenAI; Anthropic would refuse every request above 1.0.
        if let Some(t) = temperature.filter(|t| *t > 1.0) {
            let name = &settings.name;
            return Err(BackendError::config(
                name,
                format!("temperature {t} is out of Anthropic's range 0.0–1.0"),
                Some(format!("set backends.{name}.temperature to at most 1.0")),
            ));
        }
        Ok(Self {
            model: require_model(settings)?,
            base_url: base_url(settings)?,
            key,
            max_output_tokens: tuning.max_output_tokens.value,
            temperature,
        })
    }

    /// The request body, exactly as sent. The system prompt is the part every request of a
    /// pass shares (the user message holds the batch: segments, context, the glossary terms
    /// they hit), so when it is long enough for the model's prompt cache it goes as one text
    /// block marked `cache_control`: later requests read it from the cache at a tenth of the
    /// price. A shorter one goes as a plain string — Anthropic would not cache it anyway.
    pub(super) fn body(&self, request: &ChatRequest) -> Value {
        let system = if estimated_tokens(&request.system) >= min_cacheable_tokens(&self.model) {
            json!([{
                "type": "text",
                "text": request.system,
                "cache_control": {"type": "ephemeral"},
            }])
        } else {
            json!(request.system)
        };
        let mut body = json!({
            "model": self.model,
            "max_tokens": self.max_output_tokens,
            "system": system,
            "messages": [{"role": "user", "content": request.user}],
        });
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        body
    }

    pub(super) fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .header("x-api-key", &self.key)
            .header("anthropic-version", API_VERSION)
    }

    pub async fn chat(
        &self,
        transport: &Transport,
        request: &ChatRequest,
    ) -> Result<ChatReply, BackendError> {
        let url = format!("{}/v1/messages", self.base_url);
        let body = self.body(request);
        transport
            .post_chat(
                &url,
                request.estimated_tokens,
                &body,
                |r| self.authorized(r),
                parse,
            )
            .await
    }

    pub async fn check(&self, transport: &Transport) -> Result<String, BackendError> {
        let url = format!("{}/v1/models?{MODELS_PAGE}", self.base_url);
        let models: ModelList = transport
            .get_json(&url, |client| self.authorized(client.get(&url)))
            .await?;
        // An alias such as `claude-sonnet-4-5` names the dated id `claude-sonnet-4-5-20250929`.
        let dated = format!("{}-", self.model);
        let listed = models.data.iter().any(|m| {
            m.id == self.model
                || m.id
                    .strip_prefix(&dated)
                    .is_some_and(|date| date.chars().all(|c| c.is_ascii_digit()))
        });
        let ids: Vec<&str> = models.data.iter().map(|m| m.id.as_str()).collect();
        super::model_verdict(&transport.name, &self.base_url, &self.model, &ids, listed)
    }
}

/// The shortest prompt prefix `model` caches, in tokens, as Anthropic's prompt caching
/// documentation lists it: 4096 for Claude Opus 4.5 and 4.6 and Haiku 4.5, 2048 for the
/// Haiku 3 models, 1024 for the other models. A marked prefix shorter than this is not an
/// error, only not cached.
fn min_cacheable_tokens(model: &str) -> u32 {
    let model = model.to_ascii_lowercase();
    if ["opus-4-5", "opus-4-6", "haiku-4"]
        .iter()
        .any(|m| model.contains(m))
    {
        4096
    } else if model.contains("haiku") {
        2048
    } else {
        1024
    }
}

/// Tokens in `text`, estimated as the pipeline budgets batches (about 3.5 characters of
/// prose a token); it errs high on prose, so a prompt near the threshold may go marked and
/// uncached, which costs nothing.
fn estimated_tokens(text: &str) -> u32 {
    let chars = text.chars().count() as u64;
    u32::try_from((chars * 2).div_ceil(7)).unwrap_or(u32::MAX)
}

#[derive(Deserialize)]
struct Message {
    content: Vec<ContentBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<MessageUsage>,
}

#[derive(Deserialize)]
struct ContentBlock {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

/// The cache counters are nullable; all three together are the input.
#[derive(Deserialize)]
struct MessageUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ModelId>,
}

#[derive(Deserialize)]
struct ModelId {
    id: String,
}

pub(super) fn parse(body: &[u8]) -> Result<ChatReply, String> {
    let message: Message = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let text: String = message
        .content
        .into_iter()
        .filter(|block| block.kind == "text")
        .filter_map(|block| block.text)
        .collect();
    let stop = match message.stop_reason.as_deref() {
        Some("end_turn" | "stop_sequence") | None => Stop::Complete,
        Some("max_tokens" | "model_context_window_exceeded") => Stop::Truncated,
        Some("refusal") if text.trim().is_empty() => Stop::Refused("refusal".to_owned()),
        Some("refusal") => Stop::Refused(text.clone()),
        Some(other) => Stop::Other(other.to_owned()),
    };
    let usage = message.usage.map_or_else(Usage::default, |u| Usage {
        input_tokens: [
            u.input_tokens,
            u.cache_creation_input_tokens,
            u.cache_read_input_tokens,
        ]
        .into_iter()
        .flatten()
        .sum(),
        cached_input_tokens: u.cache_read_input_tokens.unwrap_or_default(),
        cache_creation_input_tokens: u.cache_creation_input_tokens.unwrap_or_default(),
        output_tokens: u.output_tokens.unwrap_or_default(),
        ..Usage::default()
    });
    Ok(ChatReply { text, stop, usage })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::testing::{self, TEST_KEY, shown_without_key};
    use crate::backend::{Backend, ErrorKind};
    use crate::config::BackendKind;
    use crate::config::{Source, Sourced};

    const MODEL: &str = "claude-sonnet-4-5";

    fn request() -> ChatRequest {
        ChatRequest {
            system: "Restore the English; answer with JSON only.".to_owned(),
            user: r#"{"segments":[{"id":"s0","de":"Die Katze schläft."}]}"#.to_owned(),
            schema: Some(json!({"type": "object"})),
            estimated_tokens: 30,
        }
    }

    #[test]
    fn a_system_prompt_long_enough_to_cache_is_marked() {
        let settings = testing::settings(BackendKind::Anthropic, "http://127.0.0.1:9", Some(MODEL));
        let mut client = Anthropic::new(&settings).expect("client");
        let mut request = request();
        // 3,600 characters: about 1,029 tokens by the estimate, past Sonnet's 1,024.
        request.system = "Restore it. ".repeat(300);
        let body = client.body(&request);
        assert_eq!(
            body["system"],
            json!([{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}])
        );
        assert_eq!(
            body["messages"][0]["content"],
            json!(request.user),
            "not marked"
        );
        // Haiku 4.5 caches from 4,096 tokens on: the same prompt goes as a plain string.
        client.model = "claude-haiku-4-5".to_owned();
        assert_eq!(client.body(&request)["system"], json!(request.system));
        assert_eq!(min_cacheable_tokens("claude-3-5-haiku-20241022"), 2048);
        assert_eq!(min_cacheable_tokens("claude-opus-4-5-20251101"), 4096);
        assert_eq!(min_cacheable_tokens("claude-opus-4-1"), 1024);
        request.system = "Restore it. ".repeat(298);
        client.model = MODEL.to_owned();
        assert_eq!(
            client.body(&request)["system"],
            json!(request.system),
            "too short"
        );
    }

    #[test]
    fn cache_counters_may_be_missing_or_null() {
        let reply = parse(
            br#"{"content":[{"type":"text","text":"{}"}],"stop_reason":"end_turn",
                "usage":{"input_tokens":21,"cache_creation_input_tokens":null,"output_tokens":3}}"#,
        )
        .expect("reply");
        let usage = reply.usage;
        assert_eq!(
            (
                usage.input_tokens,
                usage.cached_input_tokens,
                usage.cache_creation_input_tokens
            ),
            (21, 0, 0)
        );
        // A cache hit: the reads count as input too.
        let reply = parse(
            br#"{"content":[],"usage":{"cache_creation_input_tokens":0,
                "cache_read_input_tokens":188086,"input_tokens":21,"output_tokens":393}}"#,
        )
        .expect("reply");
        assert_eq!(
            (reply.usage.input_tokens, reply.usage.cached_input_tokens),
            (188_107, 188_086)
        );
    }

    /// A reply as api.anthropic.com sends it.
    fn message(text: &str, stop_reason: &str) -> Value {
        json!({
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "model": "claude-sonnet-4-5-20250929",
            "stop_reason": stop_reason,
            "stop_sequence": null,
            "usage": {
                "input_tokens": 812, "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 50, "output_tokens": 64,
                "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
                "service_tier": "standard"
            }
        })
    }

    fn error(kind: &str, message: &str) -> Value {
        json!({
            "type": "error",
            "error": {"type": kind, "message": message},
            "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"
        })
    }

    fn client(server: &MockServer) -> Backend {
        let settings = testing::settings(BackendKind::Anthropic, &server.uri(), Some(MODEL));
        Backend::new(&settings)
            .expect("client")
            .with_backoff(testing::fast_backoff())
    }

    /// `first` once, then a plain success for every later request.
    async fn failing_once(first: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(first)
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(message("{}", "end_turn")))
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let expected = json!({
            "model": MODEL,
            "max_tokens": 1000,
            "system": "Restore the English; answer with JSON only.",
            "messages": [{"role": "user", "content": request().user}],
            "temperature": 0.3
        });
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .and(header("x-api-key", TEST_KEY))
            .and(header("anthropic-version", "2023-06-01"))
            .and(header("content-type", "application/json"))
            .and(body_json(&expected))
            .respond_with(ResponseTemplate::new(200).set_body_json(message("{\"a\":", "end_turn")))
            .expect(1)
            .mount(&server)
            .await;
        let mut settings = testing::settings(BackendKind::Anthropic, &server.uri(), Some(MODEL));
        settings.tuning.temperature = Some(Sourced::new(0.3, Source::Default));
        let reply = Backend::new(&settings)
            .expect("client")
            .chat(&request())
            .await
            .expect("reply");
        assert_eq!(
            (reply.text.as_str(), reply.stop),
            ("{\"a\":", Stop::Complete)
        );
        let usage = (reply.usage.input_tokens, reply.usage.output_tokens);
        assert_eq!(
            (usage, reply.usage.requests),
            ((962, 64), 1),
            "cache reads count"
        );
        let cache = (
            reply.usage.cached_input_tokens,
            reply.usage.cache_creation_input_tokens,
        );
        assert_eq!(cache, (50, 100), "read and written apart");
        settings.tuning.temperature = Some(Sourced::new(1.5, Source::Default));
        let err = Backend::new(&settings).err().expect("out of range");
        assert_eq!(err.kind, ErrorKind::Config);
        shown_without_key(&err);
    }

    #[test]
    fn text_blocks_are_joined_and_stop_reasons_mapped() {
        let mut reply = message("Hello", "max_tokens");
        reply["content"] = json!([
            {"type": "thinking", "thinking": "hm", "signature": "x"},
            {"type": "text", "text": "{\"seg"},
            {"type": "text", "text": "ments\""}
        ]);
        let parsed = parse(reply.to_string().as_bytes()).expect("parses");
        assert_eq!(
            (parsed.text.as_str(), parsed.stop),
            ("{\"segments\"", Stop::Truncated)
        );
        let refusal = "I can't help with that.";
        let stop =
            |reason: &str| parse(message(refusal, reason).to_string().as_bytes()).map(|r| r.stop);
        assert_eq!(stop("stop_sequence"), Ok(Stop::Complete));
        assert_eq!(stop("model_context_window_exceeded"), Ok(Stop::Truncated));
        assert_eq!(stop("refusal"), Ok(Stop::Refused(refusal.to_owned())));
        assert_eq!(stop("pause_turn"), Ok(Stop::Other("pause_turn".to_owned())));
        let no_content = parse(br#"{"type":"message"}"#);
        assert!(no_content.is_err(), "content is required");
    }

    #[tokio::test]
    async fn waits_until_the_rate_limit_reset_it_names() {
        let reset = SystemTime::now() + Duration::from_millis(600);
        let reset = humantime::format_rfc3339_millis(reset).to_string();
        let limited = ResponseTemplate::new(429)
            .insert_header("anthropic-ratelimit-requests-reset", reset.as_str())
            .set_body_json(error(
                "rate_limit_error",
                "Number of requests has exceeded your per-minute rate limit",
            ));
        let server = failing_once(limited).await;
        let started = Instant::now();
        let reply = client(&server).chat(&request()).await.expect("retried");
        assert!(started.elapsed() >= Duration::from_millis(400));
        assert_eq!((reply.usage.requests, reply.usage.retries), (2, 1));
    }

    #[tokio::test]
    async fn overload_529_is_retried() {
        let overloaded = error("overloaded_error", "Overloaded");
        let server = failing_once(ResponseTemplate::new(529).set_body_json(overloaded)).await;
        let reply = client(&server).chat(&request()).await.expect("retried");
        assert_eq!((reply.usage.requests, reply.usage.retries), (2, 1));
    }

    #[tokio::test]
    async fn low_credit_stops_at_once() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(error(
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
            )))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server).chat(&request()).await.expect_err("quota");
        assert_eq!(err.kind, ErrorKind::Quota);
        assert!(shown_without_key(&err).contains("finished work is kept"));
    }

    #[tokio::test]
    async fn a_wrong_key_names_the_variable_and_never_the_key() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(error("authentication_error", "invalid x-api-key")),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server).chat(&request()).await.expect_err("401");
        assert_eq!(err.kind, ErrorKind::Fatal);
        let shown = shown_without_key(&err);
        assert!(
            shown.contains("ANTHROPIC_API_KEY") && shown.contains("/v1/messages"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn check_lists_models() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/models"))
            .and(query_param("limit", "1000"))
            .and(header("x-api-key", TEST_KEY))
            .and(header("anthropic-version", "2023-06-01"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": [{"type": "model", "id": "claude-sonnet-4-5-20250929", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"}],
                "has_more": false,
                "first_id": "claude-sonnet-4-5-20250929",
                "last_id": "claude-sonnet-4-5-20250929"
            })))
            .expect(2)
            .mount(&server)
            .await;
        let check = |model: &str| {
            let settings = testing::settings(BackendKind::Anthropic, &server.uri(), Some(model));
            async move { Backend::new(&settings).expect("backend").check().await }
        };
        let said = check(MODEL).await.expect("ok");
        assert!(said.contains("claude-sonnet-4-5 is available"), "{said}");
        let err = check("claude-x").await.expect_err("not listed");
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(
            err.message.contains("claude-x is not among its 1 model"),
            "{err}"
        );
        let hint = err.hint().unwrap_or_default();
        assert!(hint.contains("claude-sonnet-4-5-20250929"), "{hint}");
    }
}
