//! DeepL's `POST /v2/translate` with a JSON body: German in, `EN-US` or `EN-GB` out, the
//! surrounding text as unbilled `context`, protected spans as XML tags. DeepL takes at most 50
//! texts and 128 KiB per request, so a larger [`TranslateRequest`] goes out as consecutive
//! sub-requests with the same context, whose answers are joined in order.

use serde::Deserialize;
use serde_json::{Value, json};

use super::translation::{self, Limits, Parsed, Size};
use super::transport::Transport;
use super::{BackendError, ErrorKind, TranslateReply, TranslateRequest, base_url, require_key};
use crate::config::BackendSettings;

/// DeepL's own limits per request: 50 texts and 128 KiB of body, of which klartext uses
/// 120 KiB; the rest is headroom for what the size estimate misses.
pub(super) const LIMITS: Limits = Limits {
    max_texts: 50,
    max_size: Size::BodyBytes(120 * 1024),
};

pub struct Deepl {
    base_url: String,
    key: String,
    target_lang: String,
}

impl Deepl {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        // The key first: without one there is no host either, and the key is what to fix.
        let key = require_key(settings)?;
        Ok(Self {
            base_url: base_url(settings)?,
            key,
            target_lang: settings.tuning.target_lang.value.clone(),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The body for `texts`, one slice of `request`, exactly as sent.
    fn body(&self, texts: &[String], request: &TranslateRequest) -> Value {
        let mut body = json!({
            "text": texts,
            "source_lang": "DE",
            "target_lang": self.target_lang,
            "show_billed_characters": true,
            "preserve_formatting": true,
        });
        if let Some(context) = &request.context {
            body["context"] = json!(context);
        }
        if request.xml {
            body["tag_handling"] = json!("xml");
        }
        body
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.header("authorization", format!("DeepL-Auth-Key {}", self.key))
    }

    pub async fn translate(
        &self,
        transport: &Transport,
        request: &TranslateRequest,
    ) -> Result<TranslateReply, BackendError> {
        let url = self.url("/v2/translate");
        translation::translate(
            transport,
            &url,
            LIMITS,
            request,
            |texts| self.body(texts, request),
            |client, body| self.authorized(client.post(&url)).json(body),
            |answer, sent| parse(&answer.body, sent),
        )
        .await
        .map_err(|e| self.explain_endpoint(e))
    }

    /// A Free key at the Pro host (or the reverse) gets 403 "Wrong endpoint".
    fn explain_endpoint(&self, mut err: BackendError) -> BackendError {
        if err.kind == ErrorKind::Fatal
            && err.message.to_ascii_lowercase().contains("wrong endpoint")
        {
            let hint = err.hint.take().unwrap_or_default();
            err.hint = Some(format!(
                "{hint}; keys ending in :fx belong to https://api-free.deepl.com, others to https://api.deepl.com — check base_url"
            ));
        }
        err
    }

    pub async fn check(&self, transport: &Transport) -> Result<String, BackendError> {
        let url = self.url("/v2/usage");
        let usage: UsageAnswer = transport
            .get_json(&url, |client| self.authorized(client.get(&url)))
            .await
            .map_err(|e| self.explain_endpoint(e))?;
        let plan = if self.key.ends_with(":fx") {
            "DeepL Free"
        } else {
            "DeepL Pro"
        };
        Ok(match (usage.character_count, usage.character_limit) {
            (Some(count), Some(limit)) => format!(
                "{plan} answers; {} of {} characters used this period",
                crate::count::grouped(count),
                crate::count::grouped(limit)
            ),
            _ => format!("{plan} answers at {}", self.base_url),
        })
    }
}

#[derive(Deserialize)]
struct Translations {
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    text: String,
    #[serde(default)]
    billed_characters: Option<u64>,
}

#[derive(Deserialize)]
struct UsageAnswer {
    #[serde(default)]
    character_count: Option<u64>,
    #[serde(default)]
    character_limit: Option<u64>,
}

/// The translations of `sent`, in order, and the characters billed for them (counted by us
/// where DeepL did not say).
fn parse(body: &[u8], sent: &[String]) -> Result<Parsed, String> {
    let answer: Translations = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if answer.translations.len() != sent.len() {
        return Err(format!(
            "{} translations for {} texts",
            answer.translations.len(),
            sent.len()
        ));
    }
    let billed = answer
        .translations
        .iter()
        .zip(sent)
        .map(|(t, s)| t.billed_characters.unwrap_or(s.chars().count() as u64))
        .sum();
    Ok(Parsed {
        texts: answer.translations.into_iter().map(|t| t.text).collect(),
        billed: Some(billed),
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
    use crate::config::{Secret, Source, Sourced};

    fn request(texts: &[&str]) -> TranslateRequest {
        TranslateRequest {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            context: Some("Ein Bericht über den Bahnverkehr im Winter.".to_owned()),
            xml: true,
        }
    }

    /// DeepL's answer for `texts`: each one "translated" as `EN: text`, billed by length.
    fn translated(texts: &[String]) -> Value {
        let items: Vec<Value> = texts
            .iter()
            .map(|t| json!({"detected_source_language": "DE", "text": format!("EN: {t}"), "billed_characters": t.chars().count()}))
            .collect();
        json!({"translations": items})
    }

    /// Answers every translate request by echoing its texts.
    struct Echo;

    impl wiremock::Respond for Echo {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let texts: Vec<String> =
                serde_json::from_value(body["text"].clone()).unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(translated(&texts))
        }
    }

    fn client(server: &MockServer) -> Backend {
        let settings = testing::settings(BackendKind::Deepl, &server.uri(), None);
        Backend::new(&settings)
            .expect("client")
            .with_backoff(testing::fast_backoff())
    }

    /// `first` once, then [`Echo`] for every later request.
    async fn failing_once(first: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        let once = Mock::given(method("POST")).respond_with(first);
        once.up_to_n_times(1).mount(&server).await;
        Mock::given(method("POST"))
            .respond_with(Echo)
            .mount(&server)
            .await;
        server
    }

    async fn translate(
        server: &MockServer,
        texts: &[&str],
    ) -> Result<TranslateReply, BackendError> {
        client(server).translate(&request(texts)).await
    }

    async fn requests(server: &MockServer) -> usize {
        server.received_requests().await.map_or(0, |r| r.len())
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let texts = [
            "Der Zug fährt um <x id=\"1\">8 Uhr</x> ab.",
            "Heute schneit es.",
        ];
        let expected = json!({
            "text": texts,
            "source_lang": "DE",
            "target_lang": "EN-US",
            "context": "Ein Bericht über den Bahnverkehr im Winter.",
            "show_billed_characters": true,
            "preserve_formatting": true,
            "tag_handling": "xml"
        });
        Mock::given(method("POST"))
            .and(path("/v2/translate"))
            .and(header(
                "authorization",
                format!("DeepL-Auth-Key {TEST_KEY}").as_str(),
            ))
            .and(header("content-type", "application/json"))
            .and(body_json(&expected))
            .respond_with(Echo)
            .expect(1)
            .mount(&server)
            .await;
        let reply = translate(&server, &texts).await.expect("reply");
        assert_eq!(reply.texts[1], "EN: Heute schneit es.");
        let usage = (reply.usage.billed_characters, reply.usage.requests);
        assert_eq!(usage, (57, 1));
    }

    #[test]
    fn the_key_chooses_the_host_unless_base_url_is_set() {
        let url = |key: &str, base_url: Option<&str>| {
            let mut settings = testing::settings(BackendKind::Deepl, "unused", None);
            settings.base_url = base_url.map(|u| Sourced::new(u.to_owned(), Source::Default));
            settings.api_key = Some(Sourced::new(Secret::new(key), Source::Default));
            Deepl::new(&settings).expect("client").url("/v2/translate")
        };
        assert_eq!(
            url("0b1c:fx", None),
            "https://api-free.deepl.com/v2/translate"
        );
        assert_eq!(url("0b1c", None), "https://api.deepl.com/v2/translate");
        assert_eq!(
            url("0b1c:fx", Some("http://proxy.local/")),
            "http://proxy.local/v2/translate"
        );
        let mut settings = testing::settings(BackendKind::Deepl, "unused", None);
        (settings.base_url, settings.api_key) = (None, None);
        let err = Deepl::new(&settings).err().expect("no key");
        assert!(err.kind == ErrorKind::Config && shown_without_key(&err).contains("DEEPL_API_KEY"));
    }

    #[tokio::test]
    async fn large_requests_are_split_in_order() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(Echo)
            .expect(3)
            .mount(&server)
            .await;
        let texts: Vec<String> = (0..120).map(|i| format!("Satz Nummer {i}.")).collect();
        let mut request = TranslateRequest {
            texts: texts.clone(),
            ..request(&[])
        };
        let reply = client(&server).translate(&request).await.expect("reply");
        let expected: Vec<String> = texts.iter().map(|t| format!("EN: {t}")).collect();
        assert_eq!(reply.texts, expected);
        assert_eq!(reply.usage.requests, 3);
        for (n, (first, len)) in [(0, 50), (50, 50), (100, 20)].into_iter().enumerate() {
            let sent = testing::request_body(&server, n).await;
            assert_eq!(sent["text"].as_array().map(Vec::len), Some(len));
            assert_eq!(sent["text"][0], texts[first]);
            assert_eq!(sent["context"], json!(request.context));
        }
        let big = "ä".repeat(25 * 1024);
        request.texts = vec![big.clone(), big.clone(), big];
        let deepl = Deepl::new(&testing::settings(BackendKind::Deepl, "unused", None));
        let deepl = deepl.expect("client");
        let slices = LIMITS.slices(&request.texts, |texts| deepl.body(texts, &request));
        assert_eq!(slices, vec![0..2, 2..3], "by size");
    }

    #[tokio::test]
    async fn quota_exhaustion_stops_after_one_request() {
        let quota = json!({"message": "Quota exceeded"});
        let server = failing_once(ResponseTemplate::new(456).set_body_json(quota)).await;
        let err = translate(&server, &["Hallo"]).await.expect_err("456");
        assert_eq!((err.kind, requests(&server).await), (ErrorKind::Quota, 1));
        assert!(shown_without_key(&err).contains("quota or credit is used up"));
    }

    #[tokio::test]
    async fn forbidden_names_the_variable_and_never_the_key() {
        for message in ["Wrong endpoint", "Authorization failure, check auth_key"] {
            let body = json!({"message": message});
            let server = failing_once(ResponseTemplate::new(403).set_body_json(body)).await;
            let err = translate(&server, &["Hallo"]).await.expect_err("403");
            assert_eq!((err.kind, requests(&server).await), (ErrorKind::Fatal, 1));
            let shown = shown_without_key(&err);
            assert!(shown.contains("DEEPL_API_KEY"), "{shown}");
            let explained = shown.contains("api-free.deepl.com");
            assert_eq!(explained, message == "Wrong endpoint", "{shown}");
        }
    }

    #[tokio::test]
    async fn a_wrong_number_of_translations_is_malformed() {
        let one = translated(&["Hallo".to_owned()]);
        let server = failing_once(ResponseTemplate::new(200).set_body_json(one)).await;
        let err = translate(&server, &["Hallo", "Welt"])
            .await
            .expect_err("count");
        assert_eq!(err.kind, ErrorKind::Malformed);
        assert!(shown_without_key(&err).contains("1 translations for 2 texts"));
        let unbilled = br#"{"translations":[{"detected_source_language":"DE","text":"Hello"}]}"#;
        let parsed = parse(unbilled, &["Grüß".to_owned()]).expect("parsed");
        assert_eq!(parsed.texts, ["Hello"]);
        assert_eq!(parsed.billed, Some(4), "counted by us");
    }

    #[tokio::test]
    async fn check_reports_the_characters_used() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v2/usage"))
            .and(header("authorization", "DeepL-Auth-Key 0b1c2d3e:fx"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"character_count": 12345, "character_limit": 500_000})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let mut settings = testing::settings(BackendKind::Deepl, &server.uri(), None);
        settings.api_key = Some(Sourced::new(Secret::new("0b1c2d3e:fx"), Source::Default));
        let said = Backend::new(&settings).expect("backend").check().await;
        let expected = "DeepL Free answers; 12,345 of 500,000 characters used this period";
        assert_eq!(said.expect("ok"), expected);
        assert_eq!(
            crate::count::grouped(1_000_000_000_000),
            "1,000,000,000,000"
        );
    }
}
