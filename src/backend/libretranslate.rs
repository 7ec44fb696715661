//! LibreTranslate's `POST /translate` with a JSON body, usually a server of one's own: no key
//! unless its operator requires one (then `api_key` goes in the body). `format: html` when the
//! texts carry protected-span tags. The server's limits are its operator's choice; klartext
//! sends at most [`MAX_TEXTS`] texts and [`MAX_CHARS`] characters per request, consecutive
//! parts joined in order, which keeps one CPU-bound request inside the default timeout.

use serde::Deserialize;
use serde_json::{Value, json};

use super::translation::{self, Limits, Parsed, Size};
use super::transport::Transport;
use super::{BackendError, ErrorKind, TranslateReply, TranslateRequest, base_url};
use crate::config::BackendSettings;

const MAX_TEXTS: usize = 50;
const MAX_CHARS: usize = 5_000;
/// klartext's own limits per request; a server's operator may set lower ones.
pub(super) const LIMITS: Limits = Limits {
    max_texts: MAX_TEXTS,
    max_size: Size::Chars(MAX_CHARS),
};

pub struct Libretranslate {
    base_url: String,
    key: Option<String>,
    /// The variable a key would come from, for hints.
    key_env: String,
}

impl Libretranslate {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let key = super::optional_key(settings)?;
        let key_env = settings.api_key_env.as_ref().map(|v| v.value.as_str());
        Ok(Self {
            base_url: base_url(settings)?,
            key,
            key_env: key_env.unwrap_or("LIBRETRANSLATE_API_KEY").to_owned(),
        })
    }

    /// The body for one part, exactly as sent; LibreTranslate takes no context.
    fn body(&self, texts: &[String], xml: bool) -> Value {
        let format = if xml { "html" } else { "text" };
        let mut body = json!({"q": texts, "source": "de", "target": "en", "format": format});
        if let Some(key) = &self.key {
            body["api_key"] = json!(key);
        }
        body
    }

    pub async fn translate(
        &self,
        transport: &Transport,
        request: &TranslateRequest,
    ) -> Result<TranslateReply, BackendError> {
        let url = format!("{}/translate", self.base_url);
        translation::translate(
            transport,
            &url,
            LIMITS,
            request,
            |texts| self.body(texts, request.xml),
            |client, body| client.post(&url).json(body),
            |answer, sent| parse(&answer.body, sent.len()).map(Parsed::counted),
        )
        .await
        .map_err(|e| self.explain(e, &url))
    }

    /// The operator's rules behind a fatal 400: a key is required, or requests must be smaller.
    fn explain(&self, mut err: BackendError, url: &str) -> BackendError {
        if err.kind != ErrorKind::Fatal || err.status != Some(400) {
            return err;
        }
        let lower = err.message.to_ascii_lowercase();
        if lower.contains("exceeds text limit") {
            err.hint = Some(format!(
                "the server at {url} takes fewer texts or characters per request than klartext sends ({MAX_TEXTS} texts, {} characters); its operator sets that with --batch-limit and --char-limit",
                crate::count::grouped(MAX_CHARS as u64)
            ));
        } else if self.key.is_none() && lower.contains("api key") {
            err.hint = Some(format!(
                "this server wants an API key: set {} (or api_key in the config)",
                self.key_env
            ));
        }
        err
    }

    pub async fn check(&self, transport: &Transport) -> Result<String, BackendError> {
        let url = format!("{}/languages", self.base_url);
        let languages: Vec<Language> = transport.get_json(&url, |client| client.get(&url)).await?;
        let german = languages.iter().find(|l| l.code == "de");
        let message = match german {
            Some(de) if de.targets.iter().any(|t| t == "en") => {
                return Ok(format!(
                    "{} answers; German → English is available",
                    self.base_url
                ));
            }
            Some(_) => format!(
                "{} answers, but it cannot translate German into English",
                self.base_url
            ),
            None => format!(
                "{} answers, but German is not among its {} languages",
                self.base_url,
                languages.len()
            ),
        };
        Err(BackendError::unusable(
            &transport.name,
            message,
            "load the German and English models on the server (LibreTranslate's \
             --load-only de,en)"
                .to_owned(),
        ))
    }
}

#[derive(Deserialize)]
struct Translated {
    #[serde(rename = "translatedText")]
    translated_text: Texts,
}

/// An array for an array `q`; a bare string is accepted only for a single text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Texts {
    Many(Vec<String>),
    One(String),
}

#[derive(Deserialize)]
struct Language {
    code: String,
    #[serde(default)]
    targets: Vec<String>,
}

/// The `count` translations of one part, in order.
fn parse(body: &[u8], count: usize) -> Result<Vec<String>, String> {
    let answer: Translated = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let texts = match answer.translated_text {
        Texts::Many(texts) => texts,
        Texts::One(text) if count == 1 => vec![text],
        Texts::One(_) => return Err(format!("one translation for {count} texts")),
    };
    if texts.len() != count {
        return Err(format!("{} translations for {count} texts", texts.len()));
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::Backend;
    use crate::backend::testing::{self, TEST_KEY, shown_without_key};
    use crate::config::BackendKind;

    fn request(texts: &[&str], xml: bool) -> TranslateRequest {
        TranslateRequest {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            context: Some("Eine Anleitung zum Brotbacken.".to_owned()),
            xml,
        }
    }

    /// Answers every translate request by echoing its texts as `EN: text`.
    struct Echo;

    impl wiremock::Respond for Echo {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let texts: Vec<String> = serde_json::from_value(body["q"].clone()).unwrap_or_default();
            let texts: Vec<String> = texts.iter().map(|t| format!("EN: {t}")).collect();
            ResponseTemplate::new(200).set_body_json(json!({"translatedText": texts}))
        }
    }

    fn error(status: u16, message: &str) -> ResponseTemplate {
        ResponseTemplate::new(status).set_body_json(json!({"error": message}))
    }

    /// A client for `uri`, with [`TEST_KEY`] or without a key.
    fn client(uri: &str, keyed: bool) -> Backend {
        let mut settings = testing::settings(BackendKind::Libretranslate, uri, None);
        if !keyed {
            settings.api_key = None;
        }
        Backend::new(&settings)
            .expect("client")
            .with_backoff(testing::fast_backoff())
    }

    /// `first` once, then [`Echo`].
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
        keyed: bool,
        texts: &[&str],
    ) -> Result<TranslateReply, BackendError> {
        client(&server.uri(), keyed)
            .translate(&request(texts, false))
            .await
    }

    async fn requests(server: &MockServer) -> usize {
        server.received_requests().await.map_or(0, |r| r.len())
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let texts = ["Der Teig ruht <k i=\"1\"/> lang.", "Dann backen."];
        let expected = json!({"q": texts, "source": "de", "target": "en", "format": "html", "api_key": TEST_KEY});
        Mock::given(method("POST"))
            .and(path("/translate"))
            .and(body_json(&expected))
            .respond_with(Echo)
            .expect(1)
            .mount(&server)
            .await;
        let reply = client(&server.uri(), true)
            .translate(&request(&texts, true))
            .await;
        let reply = reply.expect("reply");
        assert_eq!(
            reply.texts,
            ["EN: Der Teig ruht <k i=\"1\"/> lang.", "EN: Dann backen."]
        );
        let usage = (reply.usage.billed_characters, reply.usage.requests);
        assert_eq!(usage, (42, 1), "counted by us");
    }

    #[tokio::test]
    async fn without_a_key_the_body_has_none_and_a_bare_string_answers_one_text() {
        let one = ResponseTemplate::new(200).set_body_json(json!({"translatedText": "Hello"}));
        let server = failing_once(one).await;
        let reply = translate(&server, false, &["Hallo"]).await.expect("reply");
        assert_eq!(reply.texts, ["Hello"]);
        let sent = testing::request_body(&server, 0).await;
        let expected = json!({"q": ["Hallo"], "source": "de", "target": "en", "format": "text"});
        assert_eq!(sent, expected);
        assert_eq!(
            parse(br#"{"translatedText":"Hello"}"#, 2),
            Err("one translation for 2 texts".to_owned())
        );
    }

    #[tokio::test]
    async fn large_requests_are_split_in_order() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(Echo)
            .expect(5)
            .mount(&server)
            .await;
        let texts: Vec<String> = (0..120).map(|i| format!("Schritt {i}.")).collect();
        let long = TranslateRequest {
            texts: texts.clone(),
            context: None,
            xml: false,
        };
        let reply = client(&server.uri(), false)
            .translate(&long)
            .await
            .expect("reply");
        let expected: Vec<String> = texts.iter().map(|t| format!("EN: {t}")).collect();
        assert_eq!(reply.texts, expected);
        for (n, (first, len)) in [(0, 50), (50, 50), (100, 20)].into_iter().enumerate() {
            let sent = testing::request_body(&server, n).await;
            assert_eq!(sent["q"].as_array().map(Vec::len), Some(len));
            assert_eq!(sent["q"][0], texts[first]);
        }
        let wide = TranslateRequest {
            texts: vec!["ä".repeat(3_000), "ö".repeat(3_000)],
            context: None,
            xml: false,
        };
        let reply = client(&server.uri(), false)
            .translate(&wide)
            .await
            .expect("reply");
        assert_eq!(reply.usage.requests, 2, "by characters");
    }

    #[tokio::test]
    async fn key_and_limit_refusals_stop_with_a_hint() {
        let cases = [
            (
                false,
                400,
                "Visit https://portal.libretranslate.com to get an API key",
                "set LIBRETRANSLATE_API_KEY",
            ),
            (
                true,
                403,
                "Invalid API key",
                "check the API key in $LIBRETRANSLATE_API_KEY",
            ),
            (
                false,
                400,
                "Invalid request: request (6000) exceeds text limit (2000)",
                "--char-limit",
            ),
        ];
        for (keyed, status, message, hint) in cases {
            let server = failing_once(error(status, message)).await;
            let err = translate(&server, keyed, &["Hallo"])
                .await
                .expect_err("fatal");
            assert_eq!((err.kind, requests(&server).await), (ErrorKind::Fatal, 1));
            let shown = shown_without_key(&err);
            assert!(shown.contains(message) && shown.contains(hint), "{shown}");
        }
    }

    #[tokio::test]
    async fn a_wrong_number_of_translations_is_malformed() {
        let one = ResponseTemplate::new(200).set_body_json(json!({"translatedText": ["Hello"]}));
        let server = failing_once(one).await;
        let err = translate(&server, true, &["Hallo", "Welt"])
            .await
            .expect_err("count");
        assert_eq!(err.kind, ErrorKind::Malformed);
        assert!(shown_without_key(&err).contains("1 translations for 2 texts"));
    }

    #[tokio::test]
    async fn check_looks_for_german_to_english() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/languages"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                {"code": "en", "name": "English", "targets": ["de", "en"]},
                {"code": "de", "name": "German", "targets": ["de", "en"]}
            ])))
            .expect(1)
            .mount(&server)
            .await;
        let settings = testing::settings(BackendKind::Libretranslate, &server.uri(), None);
        let said = Backend::new(&settings)
            .expect("backend")
            .check()
            .await
            .expect("ok");
        assert_eq!(
            said,
            format!("{} answers; German → English is available", server.uri())
        );
    }

    #[tokio::test]
    async fn check_fails_without_german_to_english() {
        for (languages, said) in [
            (
                json!([{"code": "de", "name": "German", "targets": ["fr"]}]),
                "cannot translate German into English",
            ),
            (
                json!([{"code": "en", "name": "English", "targets": ["fr"]}]),
                "German is not among its 1 languages",
            ),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("GET"))
                .and(path("/languages"))
                .respond_with(ResponseTemplate::new(200).set_body_json(languages))
                .mount(&server)
                .await;
            let settings = testing::settings(BackendKind::Libretranslate, &server.uri(), None);
            let err = Backend::new(&settings)
                .expect("backend")
                .check()
                .await
                .expect_err("unusable");
            assert!(err.message.contains(said), "{err}");
            assert!(err.hint().is_some_and(|h| h.contains("--load-only")));
        }
    }
}
