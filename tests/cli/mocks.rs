//! Local stand-ins for the providers: wiremock responders that answer like the real APIs,
//! built from what each request asks for.

use serde_json::{Value, json};
use wiremock::{Request, Respond, ResponseTemplate};

/// The `⟦n⟧` markers of a text, in order, so a reply can keep them.
fn markers(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('⟦') {
        let Some(len) = rest[start..].find('⟧') else {
            break;
        };
        let end = start + len + '⟧'.len_utf8();
        found.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    found
}

/// How the fake model misbehaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Good,
    /// Drops the last segment whenever a batch has more than one.
    DropsLastOfMany,
    /// Returns the German unchanged.
    Echoes,
    /// Talks about its work inside the text.
    Comments,
    /// In a request of several documents (ids `d0.s0`, `d1.s0`, …), returns the German of the
    /// second document (`d1`) unchanged; good otherwise.
    EchoesSecondOfAPack,
    /// Notes a routine repair on the first segment; on the second voices a doubt beside a
    /// routine note. The literal English of the second and fourth is the restored English
    /// (unchanged paragraphs, one noted, one not).
    Doubts,
}

/// The notes the fake model gives a segment.
fn notes(model: Model, id: &str) -> Value {
    match (model, id) {
        (Model::Doubts, "s0") => json!(["'am hinteren Fuß' = 'on the back foot' (idiom)"]),
        (Model::Doubts, "s1") => json!([
            "The sentence seems cut off after 'weil' in the German; nothing was added",
            "rejoined compound"
        ]),
        (Model::Doubts, _) => json!([]),
        _ => json!(["restored idiom"]),
    }
}

/// The reply text a well-behaved (or not) model gives to the segment protocol.
pub fn protocol_reply(model: Model, system: &str, user: &str) -> String {
    let user: Value = serde_json::from_str(user).expect("the user message is one JSON object");
    let with_literal = system.contains("Also return `literal`");
    let field = if system.contains("correct German texts") {
        "de"
    } else {
        "en"
    };
    let items = user["segments"].as_array().cloned().unwrap_or_default();
    let doc = |item: &Value| {
        let id = item["id"].as_str().unwrap_or_default();
        id.split_once('.').map(|(d, _)| d.to_owned())
    };
    let packed = items
        .iter()
        .any(|item| doc(item) != items.first().and_then(doc));
    let mut segments: Vec<Value> = items
        .iter()
        .map(|item| {
            let id = item["id"].as_str().unwrap_or_default();
            let de = item["de"].as_str().unwrap_or_default();
            let kept = markers(de).join(" ");
            let echoes = model == Model::Echoes
                || (model == Model::EchoesSecondOfAPack && packed && id.starts_with("d1."));
            let text = match (model, field) {
                _ if echoes => de.to_owned(),
                (Model::Comments, _) => format!(
                    "Here is the corrected English translation of the paragraph: The company \
                     reported strong growth. {kept}"
                ),
                (_, "de") => format!("Ein korrigierter deutscher Absatz {id}. {kept}"),
                _ => format!("The restored English of paragraph {id} reads well. {kept}"),
            };
            let mut segment = json!({"id": id, field: text.trim(), "notes": notes(model, id)});
            if with_literal {
                segment["literal"] = match (model, id) {
                    (Model::Doubts, "s1" | "s3") => json!(text.trim()),
                    _ => json!(format!("The literal English of paragraph {id}. {kept}").trim()),
                };
            }
            segment
        })
        .collect();
    if model == Model::DropsLastOfMany && segments.len() > 1 {
        segments.pop();
    }
    json!({"segments": segments}).to_string()
}

fn json_body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).expect("JSON request")
}

/// OpenAI Chat Completions: answers the segment protocol.
pub struct ChatCompletions(pub Model);

impl Respond for ChatCompletions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(chat_completion(self.0, &json_body(request)))
    }
}

/// The chat completion `model` answers a Chat Completions `body` with (also the body of a
/// batch output line).
pub fn chat_completion(model: Model, body: &Value) -> Value {
    let content = protocol_reply(
        model,
        body["messages"][0]["content"].as_str().unwrap_or_default(),
        body["messages"][1]["content"].as_str().unwrap_or("{}"),
    );
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_741_570_283,
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
    })
}

/// Anthropic Messages. A system prompt marked `cache_control` is read from the cache: 800 of
/// the 900 input tokens, as `cache_read_input_tokens`.
pub struct Messages;

impl Respond for Messages {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(message(&json_body(request)))
    }
}

/// The message a well-behaved model answers a Messages `body` with (also the `message` of a
/// batch result).
pub fn message(body: &Value) -> Value {
    // A plain string, or text blocks of which the last may be marked for the cache.
    let (system, cached) = match &body["system"] {
        Value::Array(blocks) => (
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<String>(),
            blocks
                .last()
                .is_some_and(|b| b["cache_control"]["type"] == "ephemeral"),
        ),
        other => (other.as_str().unwrap_or_default().to_owned(), false),
    };
    let text = protocol_reply(
        Model::Good,
        &system,
        body["messages"][0]["content"].as_str().unwrap_or("{}"),
    );
    let usage = if cached {
        json!({"input_tokens": 100, "cache_creation_input_tokens": 0,
               "cache_read_input_tokens": 800, "output_tokens": 150})
    } else {
        json!({"input_tokens": 900, "output_tokens": 150})
    };
    json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": text}], "model": body["model"],
        "stop_reason": "end_turn", "stop_sequence": null,
        "usage": usage
    })
}

/// Gemini `generateContent`.
pub struct GenerateContent;

impl Respond for GenerateContent {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = json_body(request);
        let text = protocol_reply(
            Model::Good,
            body["systemInstruction"]["parts"][0]["text"]
                .as_str()
                .unwrap_or_default(),
            body["contents"][0]["parts"][0]["text"]
                .as_str()
                .unwrap_or("{}"),
        );
        ResponseTemplate::new(200).set_body_json(json!({
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 800, "candidatesTokenCount": 120, "totalTokenCount": 920},
            "modelVersion": "gemini-2.5-flash", "responseId": "test"
        }))
    }
}

/// Ollama `/api/chat`.
pub struct OllamaChat;

impl Respond for OllamaChat {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body = json_body(request);
        let content = protocol_reply(
            Model::Good,
            body["messages"][0]["content"].as_str().unwrap_or_default(),
            body["messages"][1]["content"].as_str().unwrap_or("{}"),
        );
        ResponseTemplate::new(200).set_body_json(json!({
            "model": body["model"], "created_at": "2026-11-28T20:00:00Z",
            "message": {"role": "assistant", "content": content},
            "done": true, "done_reason": "stop",
            "prompt_eval_count": 700, "eval_count": 100
        }))
    }
}

/// A literal "translation" that keeps the XML tags klartext puts around protected spans.
fn literal(text: &str) -> String {
    let tags: Vec<&str> = text
        .match_indices("<k i=\"")
        .map(|(at, _)| {
            let end = text[at..].find("/>").map_or(text.len(), |e| at + e + 2);
            &text[at..end]
        })
        .collect();
    format!("Literal draft of a paragraph. {}", tags.join(" "))
        .trim()
        .to_owned()
}

/// Google Cloud Translation v2.
pub struct GoogleTranslate;

impl Respond for GoogleTranslate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let texts = json_body(request)["q"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let translations: Vec<Value> = texts
            .iter()
            .map(|t| json!({"translatedText": literal(t.as_str().unwrap_or_default())}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"data": {"translations": translations}}))
    }
}

/// Azure Translator v3.
pub struct AzureTranslate;

impl Respond for AzureTranslate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let items = json_body(request).as_array().cloned().unwrap_or_default();
        let answer: Vec<Value> = items
            .iter()
            .map(|item| {
                let text = literal(item["Text"].as_str().unwrap_or_default());
                json!({"translations": [{"text": text, "to": "en"}]})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

/// LibreTranslate `/translate`.
pub struct LibreTranslate;

impl Respond for LibreTranslate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let texts = json_body(request)["q"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let out: Vec<String> = texts
            .iter()
            .map(|t| literal(t.as_str().unwrap_or_default()))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"translatedText": out}))
    }
}

/// DeepL `/v2/translate`.
pub struct Translate;

impl Respond for Translate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let texts = json_body(request)["text"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let translations: Vec<Value> = texts
            .iter()
            .map(|text| {
                let text = text.as_str().unwrap_or_default();
                json!({
                    "detected_source_language": "DE",
                    "text": literal(text),
                    "billed_characters": text.chars().count(),
                })
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"translations": translations}))
    }
}
