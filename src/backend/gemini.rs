//! Google's Gemini API, `POST /v1beta/models/{model}:generateContent`: the system prompt as
//! `systemInstruction`, the data as one user turn, structured output through
//! `responseSchema` — our JSON Schema converted to Google's OpenAPI-3.0 subset by
//! [`schema::response_schema`]. The key travels in `x-goog-api-key`. A reply that stops for any
//! reason but `STOP` or `MAX_TOKENS` (safety, recitation, a blocked prompt) is a refusal.

mod schema;

use serde::Deserialize;
use serde_json::{Value, json};

use super::transport::Transport;
use super::{
    BackendError, ChatReply, ChatRequest, Stop, Usage, base_url, require_key, require_model,
};
use crate::config::BackendSettings;
use schema::response_schema;

pub struct Gemini {
    pub(super) model: String,
    base_url: String,
    key: String,
    max_output_tokens: u32,
    temperature: Option<f64>,
}

impl Gemini {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let key = require_key(settings)?;
        let tuning = &settings.tuning;
        Ok(Self {
            model: require_model(settings)?,
            base_url: base_url(settings)?,
            key,
            max_output_tokens: tuning.max_output_tokens.value,
            temperature: tuning.temperature.as_ref().map(|t| t.value),
        })
    }

    /// `{base}/v1beta/models/{model}{suffix}`; `models/gemini-…`, as the models list spells
    /// it, works too.
    fn url(&self, suffix: &str) -> String {
        let model = self.model.trim_start_matches("models/");
        format!("{}/v1beta/models/{model}{suffix}", self.base_url)
    }

    /// The request body, exactly as sent.
    fn body(&self, request: &ChatRequest) -> Value {
        let mut config = json!({"maxOutputTokens": self.max_output_tokens});
        if let Some(t) = self.temperature {
            config["temperature"] = json!(t);
        }
        if let Some(schema) = &request.schema {
            config["responseMimeType"] = json!("application/json");
            config["responseSchema"] = response_schema(schema);
        }
        json!({
            "systemInstruction": {"parts": [{"text": request.system}]},
            "contents": [{"role": "user", "parts": [{"text": request.user}]}],
            "generationConfig": config,
        })
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("x-goog-api-key", &self.key)
    }

    pub async fn chat(
        &self,
        transport: &Transport,
        request: &ChatRequest,
    ) -> Result<ChatReply, BackendError> {
        let url = self.url(":generateContent");
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
        let url = self.url("");
        let model: ModelInfo = transport
            .get_json(&url, |client| self.authorized(client.get(&url)))
            .await?;
        let limit = model
            .output_token_limit
            .map(|n| format!(", up to {} output tokens", crate::count::grouped(n)))
            .unwrap_or_default();
        Ok(format!(
            "{} answers; model {} is available{limit}",
            self.base_url, model.name
        ))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Generated {
    #[serde(default)]
    candidates: Vec<Candidate>,
    #[serde(default)]
    prompt_feedback: Option<PromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    #[serde(default)]
    content: Option<Content>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    finish_message: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    #[serde(default)]
    text: Option<String>,
    /// A thinking model's thought summary, not part of the answer.
    #[serde(default)]
    thought: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
    #[serde(default)]
    block_reason_message: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct UsageMetadata {
    /// Includes `cached_content_token_count`.
    prompt_token_count: u64,
    cached_content_token_count: u64,
    candidates_token_count: u64,
    thoughts_token_count: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelInfo {
    name: String,
    #[serde(default)]
    output_token_limit: Option<u64>,
}

/// `reason`, with the provider's explanation when it gave one.
fn refusal(reason: &str, message: Option<String>) -> Stop {
    Stop::Refused(match message.filter(|m| !m.is_empty()) {
        Some(message) => format!("{reason}: {message}"),
        None => reason.to_owned(),
    })
}

fn parse(body: &[u8]) -> Result<ChatReply, String> {
    let generated: Generated = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let usage = generated.usage_metadata.unwrap_or_default();
    let usage = Usage {
        input_tokens: usage.prompt_token_count,
        cached_input_tokens: usage.cached_content_token_count,
        output_tokens: usage.candidates_token_count + usage.thoughts_token_count,
        ..Usage::default()
    };
    let Some(candidate) = generated.candidates.into_iter().next() else {
        let feedback = generated.prompt_feedback;
        let (reason, message) = feedback
            .and_then(|f| Some((f.block_reason?, f.block_reason_message)))
            .ok_or("no candidates in the reply")?;
        return Ok(ChatReply {
            text: String::new(),
            stop: refusal(&reason, message),
            usage,
        });
    };
    let text = candidate
        .content
        .into_iter()
        .flat_map(|c| c.parts)
        .filter(|p| p.thought != Some(true))
        .filter_map(|p| p.text)
        .collect();
    let stop = match candidate.finish_reason.as_deref() {
        None | Some("STOP") => Stop::Complete,
        Some("MAX_TOKENS") => Stop::Truncated,
        Some(reason) => refusal(reason, candidate.finish_message),
    };
    Ok(ChatReply { text, stop, usage })
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::testing::{self, TEST_KEY, shown_without_key};
    use crate::backend::{Backend, ErrorKind};
    use crate::config::Sourced;
    use crate::config::{BackendKind, Source};

    fn request(schema: Option<Value>) -> ChatRequest {
        ChatRequest {
            system: "Restore the English.".to_owned(),
            user: r#"{"segments":[{"id":"s0","de":"Guten Abend"}]}"#.to_owned(),
            schema,
            estimated_tokens: 20,
        }
    }

    /// A reply as the Gemini API sends it.
    fn generated(parts: Value, finish: &str) -> Value {
        json!({
            "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": finish, "index": 0}],
            "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 30, "totalTokenCount": 162, "thoughtsTokenCount": 12,
                "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 120}]},
            "modelVersion": "gemini-2.5-flash",
            "responseId": "mK0taJ2bLbXtnvgPtpW4sQk"
        })
    }

    #[test]
    fn implicitly_cached_prompt_tokens_are_read() {
        let mut reply = generated(json!([{"text": "{}"}]), "STOP");
        reply["usageMetadata"]["cachedContentTokenCount"] = json!(96);
        reply["usageMetadata"]["cacheTokensDetails"] =
            json!([{"modality": "TEXT", "tokenCount": 96}]);
        let body = serde_json::to_vec(&reply).expect("json");
        let usage = parse(&body).expect("reply").usage;
        assert_eq!(
            (usage.input_tokens, usage.cached_input_tokens),
            (120, 96),
            "the prompt count includes the cached part"
        );
        let body = serde_json::to_vec(&generated(json!([{"text": "{}"}]), "STOP")).expect("json");
        assert_eq!(parse(&body).expect("reply").usage.cached_input_tokens, 0);
    }

    fn ok(text: &str) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(generated(json!([{"text": text}]), "STOP"))
    }

    fn rpc_error(code: u16, status: &str, message: &str, details: Value) -> ResponseTemplate {
        let body = json!({"error": {"code": code, "message": message, "status": status, "details": details}});
        ResponseTemplate::new(code).set_body_json(body)
    }

    fn settings(server: &MockServer) -> BackendSettings {
        testing::settings(BackendKind::Gemini, &server.uri(), Some("gemini-2.5-flash"))
    }

    /// `request(None)` through a fresh client for `settings`.
    async fn chat(settings: &BackendSettings) -> Result<ChatReply, BackendError> {
        let client = Backend::new(settings).expect("client");
        let client = client.with_backoff(testing::fast_backoff());
        client.chat(&request(None)).await
    }

    /// `first` once, then a good reply.
    async fn failing_once(first: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        let once = Mock::given(method("POST")).respond_with(first);
        once.up_to_n_times(1).mount(&server).await;
        Mock::given(method("POST"))
            .respond_with(ok("{}"))
            .mount(&server)
            .await;
        server
    }

    async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
        server.received_requests().await.unwrap_or_default()
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let schema = testing::reply_schema(false);
        let expected = json!({
            "systemInstruction": {"parts": [{"text": "Restore the English."}]},
            "contents": [{"role": "user", "parts": [{"text": r#"{"segments":[{"id":"s0","de":"Guten Abend"}]}"#}]}],
            "generationConfig": {"maxOutputTokens": 1000, "responseMimeType": "application/json",
                "responseSchema": response_schema(&schema)}
        });
        Mock::given(method("POST"))
            .and(path("/v1beta/models/gemini-2.5-flash:generateContent"))
            .and(header("x-goog-api-key", TEST_KEY))
            .and(header("content-type", "application/json"))
            .and(body_json(&expected))
            .respond_with(ok("{\"segments\":[]}"))
            .expect(1)
            .mount(&server)
            .await;
        let client = Backend::new(&settings(&server)).expect("client");
        let reply = client.chat(&request(Some(schema))).await.expect("reply");
        assert_eq!(reply.text, "{\"segments\":[]}");
        assert_eq!(reply.stop, Stop::Complete);
        let usage = reply.usage;
        let usage = (usage.input_tokens, usage.output_tokens, usage.requests);
        assert_eq!(usage, (120, 42, 1), "thoughts count as output");
        assert_eq!(
            requests(&server).await[0].url.query(),
            None,
            "no key in the URL"
        );
    }

    #[tokio::test]
    async fn no_schema_no_json_mode_and_temperature_when_set() {
        let server = failing_once(ok("{}")).await;
        let mut settings = settings(&server);
        settings.tuning.temperature = Some(Sourced::new(0.3, Source::Default));
        chat(&settings).await.expect("reply");
        let sent = testing::request_body(&server, 0).await;
        let config = json!({"maxOutputTokens": 1000, "temperature": 0.3});
        assert_eq!(sent["generationConfig"], config);
    }

    #[tokio::test]
    async fn retry_info_is_honoured_a_daily_quota_is_not() {
        let wait =
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]);
        let exhausted = "Resource has been exhausted (e.g. check quota).";
        let busy = rpc_error(429, "RESOURCE_EXHAUSTED", exhausted, wait);
        let server = failing_once(busy).await;
        let started = Instant::now();
        let reply = chat(&settings(&server)).await.expect("second attempt");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited as told"
        );
        assert_eq!((reply.usage.requests, reply.usage.retries), (2, 1));
        let per_day = json!([{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]);
        let exceeded = "You exceeded your current quota.";
        let server = failing_once(rpc_error(429, "RESOURCE_EXHAUSTED", exceeded, per_day)).await;
        let err = chat(&settings(&server)).await.expect_err("quota");
        assert_eq!(
            (err.kind, requests(&server).await.len()),
            (ErrorKind::Quota, 1)
        );
        shown_without_key(&err);
    }

    #[tokio::test]
    async fn a_bad_key_names_the_variable_that_held_it() {
        let invalid = json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
            "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]);
        let message = "API key not valid. Please pass a valid API key.";
        let bad_key = rpc_error(400, "INVALID_ARGUMENT", message, invalid);
        let unregistered = "Method doesn't allow unregistered callers.";
        let denied = rpc_error(403, "PERMISSION_DENIED", unregistered, json!([]));
        let cases = [
            (bad_key.clone(), "GEMINI_API_KEY"),
            (denied, "GEMINI_API_KEY"),
            (bad_key, "GOOGLE_API_KEY"),
        ];
        for (answer, var) in cases {
            let server = failing_once(answer).await;
            let mut settings = settings(&server);
            if let Some(key) = settings.api_key.as_mut() {
                key.source = Source::Env(var.to_owned());
            }
            let err = chat(&settings).await.expect_err("fatal");
            assert_eq!(
                (err.kind, requests(&server).await.len()),
                (ErrorKind::Fatal, 1)
            );
            let shown = shown_without_key(&err);
            let named = shown.contains(var) && shown.contains(":generateContent");
            assert!(named, "{shown}");
        }
    }

    #[test]
    fn truncation_refusals_and_thoughts() {
        let reply = |body: Value| parse(body.to_string().as_bytes()).expect("parsed");
        let cut = reply(generated(json!([{"text": "{\"segm"}]), "MAX_TOKENS"));
        assert_eq!((cut.text.as_str(), cut.stop), ("{\"segm", Stop::Truncated));
        let mut unsafe_reply = generated(json!([]), "SAFETY");
        unsafe_reply["candidates"][0]["content"] = json!({});
        assert_eq!(reply(unsafe_reply).stop, Stop::Refused("SAFETY".to_owned()));
        let blocked = json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "blockReasonMessage": "blocked"},
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9}});
        let blocked = reply(blocked);
        let refused = Stop::Refused("PROHIBITED_CONTENT: blocked".to_owned());
        assert_eq!(blocked.stop, refused);
        assert_eq!(
            (blocked.usage.input_tokens, blocked.usage.output_tokens),
            (9, 0)
        );
        let thinking = json!([{"text": "Let me think.", "thought": true}, {"text": "{\"a\":"}, {"text": "1}"}]);
        assert_eq!(reply(generated(thinking, "STOP")).text, "{\"a\":1}");
        let nothing = parse(b"{}").err();
        assert_eq!(nothing.as_deref(), Some("no candidates in the reply"));
    }

    #[tokio::test]
    async fn check_asks_for_the_model() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1beta/models/gemini-2.5-flash"))
            .and(header("x-goog-api-key", TEST_KEY))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "models/gemini-2.5-flash",
                "version": "001", "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1_048_576, "outputTokenLimit": 65_536})))
            .expect(1)
            .mount(&server)
            .await;
        let mut settings = settings(&server);
        settings.model = Some(Sourced::new(
            "models/gemini-2.5-flash".to_owned(),
            Source::Default,
        ));
        let said = Backend::new(&settings).expect("backend").check().await;
        let expected =
            " answers; model models/gemini-2.5-flash is available, up to 65,536 output tokens";
        assert_eq!(said.expect("ok"), format!("{}{expected}", server.uri()));
    }
}
