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
}

/// OpenAI Chat Completions: answers the segment protocol in good English.
pub struct ChatCompletions(pub Model);

impl Respond for ChatCompletions {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON request");
        let system = body["messages"][0]["content"].as_str().unwrap_or_default();
        let user: Value =
            serde_json::from_str(body["messages"][1]["content"].as_str().unwrap_or("{}"))
                .expect("the user message is one JSON object");
        let with_literal = system.contains("Also return `literal`");
        let field = if system.contains("correct German texts") {
            "de"
        } else {
            "en"
        };
        let items = user["segments"].as_array().cloned().unwrap_or_default();
        let mut segments: Vec<Value> = items
            .iter()
            .map(|item| {
                let id = item["id"].as_str().unwrap_or_default();
                let de = item["de"].as_str().unwrap_or_default();
                let kept = markers(de).join(" ");
                let text = match (self.0, field) {
                    (Model::Echoes, _) => de.to_owned(),
                    (Model::Comments, _) => format!(
                        "Here is the corrected English translation of the paragraph: The company \
                         reported strong growth. {kept}"
                    ),
                    (_, "de") => format!("Ein korrigierter deutscher Absatz {id}. {kept}"),
                    _ => format!("The restored English of paragraph {id} reads well. {kept}"),
                };
                let mut segment =
                    json!({"id": id, field: text.trim(), "notes": ["restored idiom"]});
                if with_literal {
                    segment["literal"] =
                        json!(format!("The literal English of paragraph {id}. {kept}").trim());
                }
                segment
            })
            .collect();
        if self.0 == Model::DropsLastOfMany && segments.len() > 1 {
            segments.pop();
        }
        let content = json!({"segments": segments}).to_string();
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_741_570_283,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
        }))
    }
}

/// DeepL `/v2/translate`: a literal "translation" of each text, tags kept.
pub struct Translate;

impl Respond for Translate {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON request");
        let translations: Vec<Value> = body["text"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|text| {
                let text = text.as_str().unwrap_or_default();
                let tags: Vec<&str> = text
                    .match_indices("<k i=\"")
                    .map(|(at, _)| {
                        let end = text[at..].find("/>").map_or(text.len(), |e| at + e + 2);
                        &text[at..end]
                    })
                    .collect();
                json!({
                    "detected_source_language": "DE",
                    "text": format!("Literal draft of a paragraph. {}", tags.join(" ")).trim(),
                    "billed_characters": text.chars().count(),
                })
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"translations": translations}))
    }
}
