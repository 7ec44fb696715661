//! What the four translation services (DeepL, Google, Azure, LibreTranslate) share: their
//! per-request [`Limits`], the slicing of a larger [`TranslateRequest`] into requests within
//! them, and the one loop that sends the slices in order, reads each answer with the
//! provider's parser and sums what was billed. The provider supplies only its limits, its
//! wire format and where it says what it billed.

use std::ops::Range;

use serde_json::Value;

use super::transport::{Answer, Transport};
use super::{BackendError, TranslateReply, TranslateRequest, Usage};

/// How much one request to a translation service may carry: the provider's documented limit,
/// or less where klartext keeps headroom. Requests are sliced by exactly these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Texts per request.
    pub max_texts: usize,
    /// How large one request may be.
    pub max_size: Size,
}

/// What a service measures the size of a request in, and its ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Characters of the texts (Unicode scalar values, as the services count and bill them).
    Chars(usize),
    /// Bytes of the JSON request body as sent, context and options included.
    BodyBytes(usize),
}

impl Limits {
    /// Consecutive ranges of `texts`, covering all of them in order, that each fit into one
    /// request whose JSON body `body` makes. A text too large on its own still goes alone;
    /// the service's answer then says what is wrong.
    pub(super) fn slices(
        &self,
        texts: &[String],
        body: impl Fn(&[String]) -> Value,
    ) -> Vec<Range<usize>> {
        let (empty, max, cost): (usize, usize, fn(&String) -> usize) = match self.max_size {
            Size::Chars(max) => (0, max, |text| text.chars().count()),
            // The quoted, escaped text and its comma.
            Size::BodyBytes(max) => (body(&[]).to_string().len(), max, |text| {
                serde_json::to_string(text).map_or(text.len(), |t| t.len()) + 1
            }),
        };
        let mut slices = Vec::new();
        let (mut start, mut size) = (0, empty);
        for (i, text) in texts.iter().enumerate() {
            let cost = cost(text);
            if i > start && (i - start == self.max_texts || size + cost > max) {
                slices.push(start..i);
                (start, size) = (i, empty);
            }
            size += cost;
        }
        if start < texts.len() {
            slices.push(start..texts.len());
        }
        slices
    }
}

/// A service's reading of one answer: the translations of the texts sent, in order, and the
/// characters it says it billed (`None`: it did not say, so klartext counts them).
pub(super) struct Parsed {
    pub texts: Vec<String>,
    pub billed: Option<u64>,
}

impl Parsed {
    /// Translations from a service that does not report what it billed.
    pub fn counted(texts: Vec<String>) -> Self {
        Self {
            texts,
            billed: None,
        }
    }
}

/// Translate `request` in as many requests to `url` as `limits` need: each slice of texts
/// goes out as the JSON body `body` makes of it, in the request `post` builds (auth, query,
/// headers), with the retries [`Transport::send`] allows; `parse` reads each answer. The
/// translations come back joined in order; usage counts every attempt and the characters
/// billed.
pub(super) async fn translate(
    transport: &Transport,
    url: &str,
    limits: Limits,
    request: &TranslateRequest,
    body: impl Fn(&[String]) -> Value,
    post: impl Fn(&reqwest::Client, &Value) -> reqwest::RequestBuilder,
    parse: impl Fn(&Answer, &[String]) -> Result<Parsed, String>,
) -> Result<TranslateReply, BackendError> {
    let mut reply = TranslateReply {
        texts: Vec::with_capacity(request.texts.len()),
        usage: Usage::default(),
    };
    for slice in limits.slices(&request.texts, &body) {
        let sent = &request.texts[slice];
        let json = body(sent);
        let chars = chars_in(sent);
        let cost = u32::try_from(chars).unwrap_or(u32::MAX);
        let answer = transport
            .send(url, cost, |client| post(client, &json))
            .await?;
        let parsed =
            parse(&answer, sent).map_err(|e| BackendError::malformed(&transport.name, e))?;
        reply.texts.extend(parsed.texts);
        reply.usage += Usage {
            requests: 1 + answer.retries,
            retries: answer.retries,
            billed_characters: parsed.billed.unwrap_or(chars),
            ..Usage::default()
        };
    }
    Ok(reply)
}

/// Characters in `texts`, as translation services count and bill them.
pub(super) fn chars_in(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.chars().count() as u64).sum()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::backend::{Backend, testing};
    use crate::config::BackendKind;

    fn texts(lengths: &[usize]) -> Vec<String> {
        lengths.iter().map(|&n| "ä".repeat(n)).collect()
    }

    #[test]
    fn slices_keep_to_texts_and_characters() {
        let limits = Limits {
            max_texts: 3,
            max_size: Size::Chars(10),
        };
        let body = |texts: &[String]| json!({ "q": texts });
        let slices = |lengths: &[usize]| limits.slices(&texts(lengths), body);
        assert_eq!(slices(&[]), Vec::<Range<usize>>::new());
        assert_eq!(slices(&[1, 1, 1, 1]), vec![0..3, 3..4], "by texts");
        assert_eq!(
            slices(&[4, 6, 1]),
            vec![0..2, 2..3],
            "by characters, not bytes"
        );
        assert_eq!(
            slices(&[2, 30, 2]),
            vec![0..1, 1..2, 2..3],
            "too large goes alone"
        );
    }

    #[test]
    fn slices_keep_to_the_body_size() {
        let limits = Limits {
            max_texts: 50,
            max_size: Size::BodyBytes(40),
        };
        // `{"context":"abc","text":[]}` is 27 bytes; each text adds its quoted form and a comma.
        let body = |texts: &[String]| json!({"text": texts, "context": "abc"});
        let sent = vec!["a\"b".to_owned(), "cd".to_owned(), "e".to_owned()];
        assert_eq!(limits.slices(&sent, body), vec![0..2, 2..3]);
    }

    #[test]
    fn each_translation_service_names_its_limits_and_chat_backends_none() {
        let limits = |kind, model| {
            let settings = testing::settings(kind, "http://127.0.0.1:9", model);
            Backend::new(&settings).expect("backend").limits()
        };
        let rows = [
            (BackendKind::Deepl, 50, Size::BodyBytes(120 * 1024)),
            (BackendKind::Google, 128, Size::Chars(30_000)),
            (BackendKind::Azure, 1_000, Size::Chars(50_000)),
            (BackendKind::Libretranslate, 50, Size::Chars(5_000)),
        ];
        for (kind, max_texts, max_size) in rows {
            let expected = Limits {
                max_texts,
                max_size,
            };
            assert_eq!(limits(kind, None), Some(expected), "{kind}");
        }
        assert_eq!(limits(BackendKind::Ollama, Some("qwen3:8b")), None);
    }
}
