//! OpenAI Chat Completions, spoken by OpenAI and by every OpenAI-compatible server (Ollama's
//! `/v1`, vLLM, llama.cpp, LM Studio, OpenRouter, Groq, Mistral, DeepSeek). Structured output
//! (`response_format: json_schema`, strict) where the server supports it — config
//! `structured`, on by default for api.openai.com only — otherwise JSON by instruction and
//! validation. `max_completion_tokens` for OpenAI itself, `max_tokens` elsewhere (Ollama's `/v1`
//! reads only that).

use serde::Deserialize;
use serde_json::{Value, json};

use super::transport::Transport;
use super::{BackendError, ChatReply, ChatRequest, Stop, Usage, base_url, require_model};
use crate::config::BackendSettings;

/// The name OpenAI requires for a `json_schema` response format.
const SCHEMA_NAME: &str = "klartext_segments";

pub struct Openai {
    pub(super) model: String,
    pub(super) base_url: String,
    key: Option<String>,
    structured: bool,
    /// api.openai.com takes `max_completion_tokens`; other servers know only `max_tokens`.
    official: bool,
    max_output_tokens: u32,
    temperature: Option<f64>,
}

impl Openai {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let base_url = base_url(settings)?;
        let official = base_url.contains("://api.openai.com");
        // Local servers need no key; OpenAI itself does.
        let key = if official {
            Some(super::require_key(settings)?)
        } else {
            super::optional_key(settings)?
        };
        let tuning = &settings.tuning;
        Ok(Self {
            model: require_model(settings)?,
            base_url,
            key,
            structured: tuning.structured.value,
            official,
            max_output_tokens: tuning.max_output_tokens.value,
            temperature: tuning.temperature.as_ref().map(|t| t.value),
        })
    }

    /// The request body, exactly as sent.
    pub(super) fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
        });
        let limit = if self.official {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[limit] = json!(self.max_output_tokens);
        if let Some(t) = self.temperature {
            body["temperature"] = json!(t);
        }
        if let (true, Some(schema)) = (self.structured, &request.schema) {
            body["response_format"] = json!({
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": schema},
            });
        }
        body
    }

    pub(super) fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    pub async fn chat(
        &self,
        transport: &Transport,
        request: &ChatRequest,
    ) -> Result<ChatReply, BackendError> {
        let url = format!("{}/chat/completions", self.base_url);
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
        let url = format!("{}/models", self.base_url);
        let models: ModelList = transport
            .get_json(&url, |client| self.authorized(client.get(&url)))
            .await?;
        let ids: Vec<&str> = models.data.iter().map(|m| m.id.as_str()).collect();
        let listed = ids.contains(&self.model.as_str());
        super::model_verdict(&transport.name, &self.base_url, &self.model, &ids, listed)
    }
}

#[derive(Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<CompletionUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Message,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct CompletionUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    /// `cached_tokens` here is the part of `prompt_tokens` served from the prompt cache;
    /// servers other than OpenAI's may leave it out or send `null`.
    #[serde(default)]
    prompt_tokens_details: Option<PromptTokensDetails>,
}

#[derive(Deserialize)]
struct PromptTokensDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
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
    let completion: Completion = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let choice = completion
        .choices
        .into_iter()
        .next()
        .ok_or("no choices in the reply")?;
    let stop = match (&choice.message.refusal, choice.finish_reason.as_deref()) {
        (Some(refusal), _) => Stop::Refused(refusal.clone()),
        (None, Some("stop") | None) => Stop::Complete,
        (None, Some("length")) => Stop::Truncated,
        (None, Some("content_filter")) => Stop::Refused("content filter".to_owned()),
        (None, Some(other)) => Stop::Other(other.to_owned()),
    };
    let usage = completion.usage.map_or_else(Usage::default, |u| Usage {
        input_tokens: u.prompt_tokens,
        cached_input_tokens: u
            .prompt_tokens_details
            .and_then(|d| d.cached_tokens)
            .unwrap_or_default(),
        output_tokens: u.completion_tokens,
        ..Usage::default()
    });
    Ok(ChatReply {
        text: choice.message.content.unwrap_or_default(),
        stop,
        usage,
    })
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::testing::{self, TEST_KEY};
    use crate::backend::{Backend, ErrorKind};
    use crate::config::BackendKind;

    fn request() -> ChatRequest {
        ChatRequest {
            system: "Restore the English.".to_owned(),
            user: r#"{"segments":[{"id":"s0","de":"Hallo"}]}"#.to_owned(),
            schema: Some(
                json!({"type": "object", "properties": {"segments": {"type": "array", "items": {"type": "string"}}}, "required": ["segments"], "additionalProperties": false}),
            ),
            estimated_tokens: 20,
        }
    }

    /// A reply as api.openai.com sends it.
    fn completion(content: &str, finish: &str) -> Value {
        json!({
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1_741_570_283,
            "model": "gpt-4.1-mini-2025-04-14",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
                "logprobs": null,
                "finish_reason": finish
            }],
            "usage": {
                "prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fc9f1d7035"
        })
    }

    fn error(message: &str, kind: &str, code: &str) -> Value {
        json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
    }

    /// A client for `server`, presented to it as api.openai.com would be (official = true).
    fn client(server: &MockServer, official: bool) -> Backend {
        let settings = testing::settings(BackendKind::Openai, &server.uri(), Some("gpt-4.1-mini"));
        let mut backend = Backend::new(&settings)
            .expect("client")
            .with_backoff(testing::fast_backoff());
        if let crate::backend::Client::Openai(client) = &mut backend.client {
            client.official = official;
        }
        backend
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let expected = json!({
            "model": "gpt-4.1-mini",
            "messages": [
                {"role": "system", "content": "Restore the English."},
                {"role": "user", "content": r#"{"segments":[{"id":"s0","de":"Hallo"}]}"#}
            ],
            "max_completion_tokens": 1000,
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "klartext_segments", "strict": true, "schema": request().schema
            }}
        });
        Mock::given(method("POST"))
            .and(path("/chat/completions"))
            .and(header(
                "authorization",
                format!("Bearer {TEST_KEY}").as_str(),
            ))
            .and(header("content-type", "application/json"))
            .and(body_json(&expected))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(completion("{\"segments\":[]}", "stop")),
            )
            .expect(1)
            .mount(&server)
            .await;
        let reply = client(&server, true).chat(&request()).await.expect("reply");
        assert_eq!(reply.text, "{\"segments\":[]}");
        assert_eq!(reply.stop, Stop::Complete);
        assert_eq!(
            (
                reply.usage.input_tokens,
                reply.usage.output_tokens,
                reply.usage.requests
            ),
            (1117, 46, 1)
        );
    }

    #[test]
    fn cached_prompt_tokens_are_read_when_reported() {
        let mut reply = completion("{}", "stop");
        reply["usage"]["prompt_tokens_details"]["cached_tokens"] = json!(1024);
        let body = serde_json::to_vec(&reply).expect("json");
        let usage = parse(&body).expect("reply").usage;
        assert_eq!(
            (usage.input_tokens, usage.cached_input_tokens),
            (1117, 1024),
            "cached tokens are part of the prompt tokens"
        );
        // Compatible servers leave the details out or send null.
        for details in [
            None,
            Some(Value::Null),
            Some(json!({"cached_tokens": null})),
        ] {
            let mut reply = completion("{}", "stop");
            match details {
                Some(details) => reply["usage"]["prompt_tokens_details"] = details,
                None => {
                    if let Some(usage) = reply["usage"].as_object_mut() {
                        usage.remove("prompt_tokens_details");
                    }
                }
            }
            let body = serde_json::to_vec(&reply).expect("json");
            let usage = parse(&body).expect("reply").usage;
            assert_eq!((usage.input_tokens, usage.cached_input_tokens), (1117, 0));
        }
    }

    #[tokio::test]
    async fn compatible_servers_get_max_tokens_and_json_by_instruction() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/chat/completions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(completion("{}", "stop")))
            .mount(&server)
            .await;
        let mut settings = testing::settings(BackendKind::Openai, &server.uri(), Some("qwen3:8b"));
        settings.tuning.structured.value = false;
        settings.tuning.temperature = Some(crate::config::Sourced::new(
            0.2,
            crate::config::Source::Default,
        ));
        settings.api_key = None;
        let client = Backend::new(&settings).expect("no key needed off api.openai.com");
        client.chat(&request()).await.expect("reply");
        let sent = testing::request_body(&server, 0).await;
        assert_eq!(sent["max_tokens"], 1000);
        assert_eq!(sent["temperature"], 0.2);
        assert!(
            sent.get("max_completion_tokens").is_none() && sent.get("response_format").is_none()
        );
        let raw = testing::everything_sent(&server).await;
        assert!(
            !raw[0].to_ascii_lowercase().contains("authorization"),
            "no key, no header"
        );
    }

    /// A key variable the config names and that is unset stops the backend before anything is
    /// sent; the default variable unset means "no key" off api.openai.com.
    #[test]
    fn a_named_key_variable_that_is_unset_is_an_error() {
        use crate::config::{Source, Sourced};
        let mut settings = testing::settings(BackendKind::Openai, "http://gpu:8000/v1", Some("m"));
        settings.api_key = None;
        settings.api_key_env = Some(Sourced::new(
            "MY_KEY".to_owned(),
            Source::Project(".klartext.toml".into()),
        ));
        let Err(err) = Backend::new(&settings) else {
            panic!("an unset named variable is an error");
        };
        assert_eq!(err.kind, ErrorKind::Config);
        assert_eq!(
            err.to_string(),
            "openai: MY_KEY is not set, and backends.openai.api_key_env names it"
        );
        assert!(err.hint().is_some_and(|h| h.starts_with("set MY_KEY")));
        settings.api_key_env = Some(Sourced::new("OPENAI_API_KEY".to_owned(), Source::Default));
        assert!(Backend::new(&settings).is_ok());
    }

    /// Credentials in the URL would go out as a second `Authorization` header: refused, and
    /// not repeated in the error.
    #[test]
    fn credentials_in_the_url_are_refused() {
        let settings = testing::settings(
            BackendKind::Openai,
            "http://me:hunter2@gpu:8000/v1",
            Some("m"),
        );
        let Err(err) = Backend::new(&settings) else {
            panic!("refused");
        };
        let shown = format!("{err} {}", err.hint().unwrap_or_default());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("user name or password"), "{shown}");
    }

    #[tokio::test]
    async fn a_wrong_key_names_the_variable_and_never_the_key() {
        let server = MockServer::start().await;
        let masked = format!(
            "{}********{}",
            &TEST_KEY[..9],
            &TEST_KEY[TEST_KEY.len() - 4..]
        );
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(401).set_body_json(error(
                &format!("Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."),
                "invalid_request_error",
                "invalid_api_key",
            )))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, true)
            .chat(&request())
            .await
            .expect_err("401");
        assert_eq!(err.kind, ErrorKind::Fatal);
        let shown = format!("{err} {}", err.hint().unwrap_or_default());
        assert!(
            shown.contains("OPENAI_API_KEY") && shown.contains("/chat/completions"),
            "{shown}"
        );
        assert!(
            !shown.contains(TEST_KEY) && !shown.contains("6789"),
            "{shown}"
        );
    }

    #[test]
    fn truncation_refusals_and_filters_become_stops() {
        let stop = |reply: Value| parse(reply.to_string().as_bytes()).map(|r| r.stop);
        assert_eq!(stop(completion("{\"segm", "length")), Ok(Stop::Truncated));
        let mut refused = completion("", "stop");
        refused["choices"][0]["message"]["content"] = Value::Null;
        refused["choices"][0]["message"]["refusal"] = json!("I'm sorry, I can't help with that.");
        let sorry = "I'm sorry, I can't help with that.".to_owned();
        assert_eq!(stop(refused), Ok(Stop::Refused(sorry)));
        let filtered = Stop::Refused("content filter".to_owned());
        assert_eq!(stop(completion("", "content_filter")), Ok(filtered));
        assert_eq!(
            parse(br#"{"choices": []}"#).err().as_deref(),
            Some("no choices in the reply")
        );
    }

    #[tokio::test]
    async fn check_lists_models() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/models"))
            .and(header("authorization", format!("Bearer {TEST_KEY}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "object": "list",
                "data": [{"id": "gpt-4.1-mini", "object": "model", "created": 1_744_318_173, "owned_by": "system"}]
            })))
            .expect(1)
            .mount(&server)
            .await;
        let settings = testing::settings(BackendKind::Openai, &server.uri(), Some("gpt-4.1-mini"));
        let backend = Backend::new(&settings).expect("backend");
        let said = backend.check().await.expect("ok");
        assert!(said.contains("gpt-4.1-mini is available"), "{said}");
    }

    /// A model the server does not list fails the check; the hint offers the nearest few.
    #[tokio::test]
    async fn check_fails_for_a_model_the_server_does_not_list() {
        let server = MockServer::start().await;
        let ids = [
            "o3",
            "gpt-4o",
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "whisper-1",
            "gpt-5",
        ];
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({"id": id, "object": "model"}))
            .collect();
        Mock::given(method("GET"))
            .and(path("/models"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": data})))
            .mount(&server)
            .await;
        let settings = testing::settings(BackendKind::Openai, &server.uri(), Some("gpt-4.1-mnii"));
        let err = Backend::new(&settings)
            .expect("backend")
            .check()
            .await
            .expect_err("not listed");
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert_eq!(
            err.message,
            format!(
                "{} answers, but model gpt-4.1-mnii is not among its 7 models",
                server.uri()
            )
        );
        assert_eq!(
            err.hint().as_deref(),
            Some(
                "set backends.openai.model to one it lists, such as gpt-4.1-mini, \
                 gpt-4.1-nano, gpt-4.1, gpt-4o, gpt-5 (and 2 more)"
            )
        );
    }
}
