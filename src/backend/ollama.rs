//! Ollama's native API (`POST /api/chat`), which — unlike its OpenAI-compatible `/v1` —
//! takes the reply's JSON schema as `format` and the output limit as `options.num_predict`.
//! A local server needs no key; ollama.com's cloud takes one as a Bearer token.

use serde::Deserialize;
use serde_json::{Value, json};

use super::transport::Transport;
use super::{
    BackendError, ChatReply, ChatRequest, ErrorKind, Stop, Usage, base_url, require_model,
};
use crate::config::BackendSettings;

pub struct Ollama {
    pub(super) model: String,
    base_url: String,
    key: Option<String>,
    max_output_tokens: u32,
    temperature: Option<f64>,
}

impl Ollama {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let key = super::optional_key(settings)?;
        let tuning = &settings.tuning;
        Ok(Self {
            model: require_model(settings)?,
            base_url: base_url(settings)?,
            key,
            max_output_tokens: tuning.max_output_tokens.value,
            temperature: tuning.temperature.as_ref().map(|t| t.value),
        })
    }

    /// The request body, exactly as sent.
    fn body(&self, request: &ChatRequest) -> Value {
        let mut body = json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": request.system},
                {"role": "user", "content": request.user},
            ],
            // The default is a stream of NDJSON lines; one JSON answer is simpler and enough.
            "stream": false,
            "options": {"num_predict": self.max_output_tokens},
        });
        if let Some(schema) = &request.schema {
            body["format"] = schema.clone();
        }
        if let Some(t) = self.temperature {
            body["options"]["temperature"] = json!(t);
        }
        body
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
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
        let url = format!("{}/api/chat", self.base_url);
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
            .map_err(|e| self.explain_missing_model(e))
    }

    /// Ollama answers 404 `model 'x' not found` for a model that was never pulled; the
    /// generic "check base_url" hint would send the user the wrong way.
    fn explain_missing_model(&self, mut err: BackendError) -> BackendError {
        let said = err.message.to_ascii_lowercase();
        if err.kind == ErrorKind::Fatal
            && err.status == Some(404)
            && said.contains("model")
            && said.contains("not found")
        {
            err.hint = Some(format!(
                "run `ollama pull {}` on {}, or fix the model name",
                self.model, self.base_url
            ));
        }
        err
    }

    pub async fn check(&self, transport: &Transport) -> Result<String, BackendError> {
        let url = format!("{}/api/tags", self.base_url);
        let tags: Tags = transport
            .get_json(&url, |client| self.authorized(client.get(&url)))
            .await?;
        let wanted = with_tag(&self.model);
        let pulled = tags
            .models
            .iter()
            .any(|m| with_tag(&m.name) == wanted || with_tag(&m.model) == wanted);
        if pulled {
            return Ok(format!(
                "{} answers; model {} is pulled",
                self.base_url, self.model
            ));
        }
        let names: Vec<&str> = tags.models.iter().map(|m| m.name.as_str()).collect();
        let pull = format!("run `ollama pull {}` on {}", self.model, self.base_url);
        let hint = match super::few_models(&self.model, &names) {
            Some(few) => format!(
                "{pull}, or set backends.{}.model to one it has, such as {few}",
                transport.name
            ),
            None => pull,
        };
        Err(super::missing_model(
            &transport.name,
            &self.base_url,
            &self.model,
            names.len(),
            hint,
        ))
    }
}

/// A model name with its tag: Ollama reads `qwen3` as `qwen3:latest`. The tag follows the
/// last `:` of the last path part (`host:port/ns/model:tag`).
fn with_tag(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.is_empty() {
        name.to_owned()
    } else {
        format!("{name}:latest")
    }
}

#[derive(Deserialize)]
struct ChatAnswer {
    message: AnswerMessage,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<u64>,
    #[serde(default)]
    eval_count: Option<u64>,
}

#[derive(Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Deserialize)]
struct Tag {
    #[serde(default)]
    name: String,
    #[serde(default)]
    model: String,
}

fn parse(body: &[u8]) -> Result<ChatReply, String> {
    let answer: ChatAnswer = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let stop = match answer.done_reason.as_deref() {
        Some("stop") | None => Stop::Complete,
        Some("length") => Stop::Truncated,
        Some(other) => Stop::Other(other.to_owned()),
    };
    Ok(ChatReply {
        text: answer.message.content.unwrap_or_default(),
        stop,
        usage: Usage {
            input_tokens: answer.prompt_eval_count.unwrap_or_default(),
            output_tokens: answer.eval_count.unwrap_or_default(),
            ..Usage::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::testing::{self, TEST_KEY, shown_without_key};
    use crate::backend::{Backend, ErrorKind};
    use crate::config::BackendKind;

    const MODEL: &str = "qwen3:8b";

    fn request() -> ChatRequest {
        ChatRequest {
            system: "Restore the English.".to_owned(),
            user: r#"{"segments":[{"id":"s0","de":"Der Zug ist spät."}]}"#.to_owned(),
            schema: Some(json!({
                "type": "object",
                "properties": {"segments": {"type": "array", "items": {"type": "string"}}},
                "required": ["segments"]
            })),
            estimated_tokens: 25,
        }
    }

    /// A reply as a local Ollama sends it with `stream: false`.
    fn answer(content: &str, done_reason: &str) -> Value {
        json!({
            "model": MODEL,
            "created_at": "2025-06-02T09:14:27.181034Z",
            "message": {"role": "assistant", "content": content},
            "done_reason": done_reason,
            "done": true,
            "total_duration": 4_883_583_458_u64,
            "load_duration": 1_334_875,
            "prompt_eval_count": 412,
            "prompt_eval_duration": 342_546_000,
            "eval_count": 58,
            "eval_duration": 4_535_599_000_u64
        })
    }

    /// A keyless client for a local server.
    fn client(server: &MockServer) -> Backend {
        let mut settings = testing::settings(BackendKind::Ollama, &server.uri(), Some(MODEL));
        settings.api_key = None;
        Backend::new(&settings)
            .expect("client")
            .with_backoff(testing::fast_backoff())
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let expected = json!({
            "model": MODEL,
            "messages": [
                {"role": "system", "content": "Restore the English."},
                {"role": "user", "content": request().user}
            ],
            "stream": false,
            "format": request().schema,
            "options": {"num_predict": 1000}
        });
        Mock::given(method("POST"))
            .and(path("/api/chat"))
            .and(body_json(&expected))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(answer("{\"segments\":[]}", "stop")),
            )
            .expect(1)
            .mount(&server)
            .await;
        let reply = client(&server).chat(&request()).await.expect("reply");
        assert_eq!(reply.text, "{\"segments\":[]}");
        assert_eq!(reply.stop, Stop::Complete);
        let usage = reply.usage;
        assert_eq!(
            (usage.input_tokens, usage.output_tokens, usage.requests),
            (412, 58, 1)
        );
        let raw = testing::everything_sent(&server).await;
        assert!(
            !raw[0].to_ascii_lowercase().contains("authorization"),
            "no key, no header"
        );
    }

    #[tokio::test]
    async fn a_cloud_key_is_a_bearer_token_and_options_carry_the_temperature() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(header(
                "authorization",
                format!("Bearer {TEST_KEY}").as_str(),
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer("{}", "stop")))
            .expect(1)
            .mount(&server)
            .await;
        let mut settings = testing::settings(BackendKind::Ollama, &server.uri(), Some(MODEL));
        settings.tuning.temperature = Some(crate::config::Sourced::new(
            0.1,
            crate::config::Source::Default,
        ));
        let mut plain = request();
        plain.schema = None;
        Backend::new(&settings)
            .expect("client")
            .chat(&plain)
            .await
            .expect("reply");
        let sent = testing::request_body(&server, 0).await;
        assert_eq!(
            sent["options"],
            json!({"num_predict": 1000, "temperature": 0.1})
        );
        assert!(sent.get("format").is_none(), "no schema, no format");
    }

    #[test]
    fn done_reasons_become_stops() {
        let stop =
            |reason: &str| parse(answer("{}", reason).to_string().as_bytes()).map(|r| r.stop);
        assert_eq!(stop("length"), Ok(Stop::Truncated));
        assert_eq!(stop("unload"), Ok(Stop::Other("unload".to_owned())));
        assert!(parse(b"{\"model\": \"qwen3:8b\", \"mess").is_err());
    }

    #[tokio::test]
    async fn a_missing_model_says_to_pull_it() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(404)
                    .set_body_json(json!({"error": "model 'qwen3:8b' not found"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server).chat(&request()).await.expect_err("404");
        assert_eq!(err.kind, ErrorKind::Fatal);
        let shown = shown_without_key(&err);
        assert!(shown.contains("ollama pull qwen3:8b"), "{shown}");
    }

    #[tokio::test]
    async fn check_says_whether_the_model_is_pulled() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/tags"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"models": [
                {"name": "qwen3:8b", "model": "qwen3:8b", "modified_at": "2025-05-30T10:11:12.5Z", "size": 5_225_388_164_u64, "digest": "500a1f067a9f", "details": {"family": "qwen3", "parameter_size": "8.2B", "quantization_level": "Q4_K_M"}},
                {"name": "gemma3:latest", "model": "gemma3:latest", "size": 3_338_801_804_u64}
            ]})))
            .mount(&server)
            .await;
        let check = |model: &str| {
            let settings = testing::settings(BackendKind::Ollama, &server.uri(), Some(model));
            async move { Backend::new(&settings).expect("backend").check().await }
        };
        let pulled = |said: Result<String, BackendError>| said.expect("ok");
        assert!(pulled(check("qwen3:8b").await).contains("qwen3:8b is pulled"));
        assert!(pulled(check("gemma3").await).contains("gemma3 is pulled"));
        let err = check("qwen3:32b").await.expect_err("not pulled");
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(
            err.message.contains("qwen3:32b is not among its 2 models"),
            "{err}"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some(
                format!(
                    "run `ollama pull qwen3:32b` on {}, or set backends.ollama.model to one it \
                     has, such as qwen3:8b, gemma3:latest",
                    server.uri()
                )
                .as_str()
            )
        );
        assert_eq!(
            with_tag("registry.local:5000/team/tuned"),
            "registry.local:5000/team/tuned:latest"
        );
    }
}
