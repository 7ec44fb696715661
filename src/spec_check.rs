//! Test-only check that the request bodies klartext sends conform to the providers' official
//! OpenAPI documents. It owns the mapping from an API operation to its vendored request-body
//! schema (`tests/specs/*.request.json`, extracted by `tests/specs/extract.py`) and the readable
//! report of violations; backends' tests build a body and call [`assert_conforms`]. The schemas
//! are compiled into the test binary, so the check needs no network, Node or spec checkout.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;

/// A provider operation whose request body klartext builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// DeepL `POST /v2/translate`, JSON body.
    DeeplTranslate,
    /// OpenAI `POST /chat/completions`.
    OpenaiChatCompletions,
    /// Ollama native `POST /api/chat`.
    OllamaChat,
}

impl Operation {
    fn label(self) -> &'static str {
        match self {
            Self::DeeplTranslate => "DeepL POST /v2/translate",
            Self::OpenaiChatCompletions => "OpenAI POST /chat/completions",
            Self::OllamaChat => "Ollama POST /api/chat",
        }
    }

    fn schema_text(self) -> &'static str {
        match self {
            Self::DeeplTranslate => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/specs/deepl-translate.request.json"
            )),
            Self::OpenaiChatCompletions => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/specs/openai-chat-completions.request.json"
            )),
            Self::OllamaChat => include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/specs/ollama-chat.request.json"
            )),
        }
    }

    /// Compiles the schema on first use; the OpenAI one has ~60 definitions, so tests share it.
    fn validator(self) -> &'static Validator {
        static DEEPL: OnceLock<Validator> = OnceLock::new();
        static OPENAI: OnceLock<Validator> = OnceLock::new();
        static OLLAMA: OnceLock<Validator> = OnceLock::new();
        let cell = match self {
            Self::DeeplTranslate => &DEEPL,
            Self::OpenaiChatCompletions => &OPENAI,
            Self::OllamaChat => &OLLAMA,
        };
        cell.get_or_init(|| {
            let schema: Value = serde_json::from_str(self.schema_text())
                .expect("vendored schema is JSON written by extract.py");
            jsonschema::draft202012::new(&schema).unwrap_or_else(|err| {
                panic!(
                    "vendored schema for {} does not compile: {err}",
                    self.label()
                )
            })
        })
    }
}

/// Every way `body` breaks the operation's request schema, as `instance path: message`
/// (`(root)` for the body itself). Empty when the body conforms. When no `anyOf`/`oneOf`
/// alternative matches, the entry goes on with one indented line per alternative's reasons,
/// because "not valid under any of the schemas" alone does not say what to fix.
pub fn violations(op: Operation, body: &Value) -> Vec<String> {
    op.validator()
        .iter_errors(body)
        .map(|err| {
            let mut entry = String::new();
            describe(&err, 0, &mut entry);
            entry
        })
        .collect()
}

/// Beyond this many characters a message quoting the offending value masks it instead.
const MESSAGE_WIDTH: usize = 160;
/// Nested `anyOf`/`oneOf` reasons stop here; deeper ones rarely help and flood the output.
const MAX_DEPTH: usize = 2;

fn describe(err: &ValidationError<'_>, depth: usize, out: &mut String) {
    let path = err.instance_path().to_string();
    let path = if path.is_empty() { "(root)" } else { &path };
    let full = err.to_string();
    let message = if full.chars().count() <= MESSAGE_WIDTH {
        full
    } else {
        err.masked().to_string()
    };
    out.push_str(&format!("{path}: {message}"));
    let (ValidationErrorKind::AnyOf {
        context: alternatives,
    }
    | ValidationErrorKind::OneOfNotValid {
        context: alternatives,
    }) = err.kind()
    else {
        return;
    };
    if depth >= MAX_DEPTH {
        return;
    }
    let indent = "    ".repeat(depth + 1);
    for (index, reasons) in alternatives.iter().enumerate() {
        for reason in reasons {
            out.push_str(&format!("\n{indent}alternative {}: ", index + 1));
            describe(reason, depth + 1, out);
        }
    }
}

/// Panics with a readable list of every violation (instance path + message) if `body` does not
/// validate against the operation's request schema.
#[track_caller]
pub fn assert_conforms(op: Operation, body: &Value) {
    let found = violations(op, body);
    if !found.is_empty() {
        let list: String = found.iter().map(|v| format!("\n  - {v}")).collect();
        let pretty = serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string());
        panic!(
            "request body does not conform to the {} spec ({} violation(s)):{list}\nbody: {pretty}",
            op.label(),
            found.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{Operation, assert_conforms, violations};

    fn deepl_body() -> Value {
        json!({
            "text": ["Hallo"],
            "source_lang": "DE",
            "target_lang": "EN-US",
            "context": "Ein Bericht über neue Radwege in der Innenstadt.",
            "show_billed_characters": true
        })
    }

    fn openai_body() -> Value {
        json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Repair the machine-translated German; answer in JSON."},
                {"role": "user", "content": "Der Bürgermeister hat gesagt das die Brücke wird geöffnet morgen."}
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "klartext_repairs",
                    "strict": true,
                    "schema": {
                        "type": "object",
                        "properties": {
                            "segments": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "english": {"type": "string"}
                                    },
                                    "required": ["id", "english"],
                                    "additionalProperties": false
                                }
                            }
                        },
                        "required": ["segments"],
                        "additionalProperties": false
                    }
                }
            },
            "max_completion_tokens": 2048,
            "temperature": 0.2
        })
    }

    fn ollama_body() -> Value {
        json!({
            "model": "qwen3:8b",
            "messages": [
                {"role": "system", "content": "Translate into plain English; answer in JSON."},
                {"role": "user", "content": "Die Sitzung wurde verschoben auf nächste Woche."}
            ],
            "stream": false,
            "format": {
                "type": "object",
                "properties": {"english": {"type": "string"}},
                "required": ["english"]
            },
            "options": {"temperature": 0.2, "num_predict": 1024}
        })
    }

    /// `body` with `edit` applied to its top-level object.
    fn edited(mut body: Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
        edit(body.as_object_mut().expect("test bodies are objects"));
        body
    }

    /// Asserts a violation at `path` whose text (alternatives included) mentions `reason`, so a
    /// negative case cannot pass for some unrelated defect of the test body.
    #[track_caller]
    fn assert_violates(op: Operation, body: &Value, path: &str, reason: &str) {
        let found = violations(op, body);
        assert!(
            found
                .iter()
                .any(|v| v.starts_with(&format!("{path}: ")) && v.contains(reason)),
            "expected a violation at {path} mentioning {reason:?}, got {found:#?}"
        );
    }

    #[test]
    fn valid_bodies_conform() {
        assert_conforms(Operation::DeeplTranslate, &deepl_body());
        assert_conforms(Operation::OpenaiChatCompletions, &openai_body());
        assert_conforms(Operation::OllamaChat, &ollama_body());
    }

    #[test]
    fn openai_accepts_legacy_max_tokens() {
        // Older OpenAI-compatible servers only know `max_tokens`; the spec still lists it.
        let body = edited(openai_body(), |b| {
            b.remove("max_completion_tokens");
            b.insert("max_tokens".into(), json!(2048));
        });
        assert_conforms(Operation::OpenaiChatCompletions, &body);
    }

    #[test]
    fn deepl_rejects_bad_bodies() {
        let op = Operation::DeeplTranslate;
        let no_target = edited(deepl_body(), |b| {
            b.remove("target_lang");
        });
        assert_violates(op, &no_target, "(root)", r#""target_lang" is a required"#);
        let text_string = edited(deepl_body(), |b| {
            b.insert("text".into(), json!("Hallo"));
        });
        assert_violates(op, &text_string, "/text", r#"not of type "array""#);
        let bad_formality = edited(deepl_body(), |b| {
            b.insert("formality".into(), json!("polite"));
        });
        assert_violates(op, &bad_formality, "/formality", "is not one of");
        // The spec types `target_lang` as a bare string and allows unknown fields, so a
        // misspelt language code or field name is not caught here.
        let lax = edited(deepl_body(), |b| {
            b.insert("target_lang".into(), json!("ENGLISH"));
            b.insert("glosary_id".into(), json!("x"));
        });
        assert!(violations(op, &lax).is_empty());
    }

    #[test]
    fn openai_rejects_bad_bodies() {
        let op = Operation::OpenaiChatCompletions;
        let no_messages = edited(openai_body(), |b| {
            b.remove("messages");
        });
        assert_violates(op, &no_messages, "(root)", r#""messages" is a required"#);
        let hot = edited(openai_body(), |b| {
            b.insert("temperature".into(), json!(3));
        });
        assert_violates(op, &hot, "/temperature", "greater than the maximum of 2");
        let robot = edited(openai_body(), |b| {
            b["messages"][1]["role"] = json!("robot");
        });
        assert_violates(op, &robot, "/messages/1", r#""robot" is not one of "user""#);
        let unnamed = edited(openai_body(), |b| {
            let format = b["response_format"]["json_schema"]
                .as_object_mut()
                .expect("test body has a json_schema object");
            format.remove("name");
        });
        assert_violates(
            op,
            &unnamed,
            "/response_format",
            r#"json_schema: "name" is a required"#,
        );
    }

    #[test]
    fn ollama_rejects_bad_bodies() {
        let op = Operation::OllamaChat;
        let no_messages = edited(ollama_body(), |b| {
            b.remove("messages");
        });
        assert_violates(op, &no_messages, "(root)", r#""messages" is a required"#);
        let stream_word = edited(ollama_body(), |b| {
            b.insert("stream".into(), json!("no"));
        });
        assert_violates(op, &stream_word, "/stream", r#"not of type "boolean""#);
    }

    #[test]
    #[should_panic(
        expected = "/temperature: 3 is not valid under any of the schemas listed in the 'anyOf' keyword\n    alternative 1: /temperature: 3 is greater than the maximum of 2"
    )]
    fn assert_conforms_lists_violations() {
        let hot = edited(openai_body(), |b| {
            b.insert("temperature".into(), json!(3));
        });
        assert_conforms(Operation::OpenaiChatCompletions, &hot);
    }
}
