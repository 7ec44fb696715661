//! Google Cloud Translation v2 ("Basic"), `POST /language/translate/v2?key=…` with a JSON
//! body: German in, English out, `format: html` when the texts carry protected-span tags. v2
//! takes no context, at most 128 texts and about 30,000 characters per request, so a larger
//! [`TranslateRequest`] goes out as consecutive sub-requests joined in order. Google escapes
//! its answers as HTML even for plain text; [`parse`] undoes that for plain text. An HTML
//! answer is left as it came: the caller unescapes it exactly once, numeric references
//! included, so an escaped `&`, `<` or `>` stays text and never turns into markup. The key
//! rides in the URL query, so only the query-free URL ever reaches a message.

use serde::Deserialize;
use serde_json::{Value, json};

use super::translation::{self, Limits, Parsed, Size};
use super::transport::Transport;
use super::{
    BackendError, TranslateReply, TranslateRequest, base_url, require_key, url_with_query,
};
use crate::config::BackendSettings;

/// v2's limits per request: 128 texts and about 30,000 characters.
pub(super) const LIMITS: Limits = Limits {
    max_texts: 128,
    max_size: Size::Chars(30_000),
};

pub struct Google {
    base_url: String,
    key: String,
}

impl Google {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let key = require_key(settings)?;
        Ok(Self {
            base_url: base_url(settings)?,
            key,
        })
    }

    /// The body for one slice of texts, exactly as sent; `request.context` has no place in v2.
    fn body(texts: &[String], xml: bool) -> Value {
        let format = if xml { "html" } else { "text" };
        json!({"q": texts, "source": "de", "target": "en", "format": format})
    }

    /// `url` with the key (and `more`) in its query, for the request only: messages get the
    /// plain `url`.
    fn keyed(
        &self,
        transport: &Transport,
        url: &str,
        more: &[(&str, &str)],
    ) -> Result<reqwest::Url, BackendError> {
        let mut pairs = vec![("key", self.key.as_str())];
        pairs.extend_from_slice(more);
        url_with_query(&transport.name, url, &pairs)
    }

    pub async fn translate(
        &self,
        transport: &Transport,
        request: &TranslateRequest,
    ) -> Result<TranslateReply, BackendError> {
        let url = format!("{}/language/translate/v2", self.base_url);
        let keyed = self.keyed(transport, &url, &[])?;
        translation::translate(
            transport,
            &url,
            LIMITS,
            request,
            |texts| Self::body(texts, request.xml),
            |client, body| client.post(keyed.clone()).json(body),
            |answer, sent| parse(&answer.body, sent.len(), request.xml).map(Parsed::counted),
        )
        .await
    }

    pub async fn check(&self, transport: &Transport) -> Result<String, BackendError> {
        let url = format!("{}/language/translate/v2/languages", self.base_url);
        let keyed = self.keyed(transport, &url, &[("target", "en")])?;
        let listed: Listed = transport
            .get_json(&url, |client| client.get(keyed.clone()))
            .await?;
        let languages = listed.data.languages;
        if languages.iter().any(|l| l.language == "de") {
            return Ok(format!("{} answers; German is available", self.base_url));
        }
        Err(BackendError::unusable(
            &transport.name,
            format!(
                "{} answers, but German is not among its {} languages",
                self.base_url,
                languages.len()
            ),
            "check base_url: Cloud Translation v2 offers German".to_owned(),
        ))
    }
}

#[derive(Deserialize)]
struct Translated {
    data: Translations,
}

#[derive(Deserialize)]
struct Translations {
    #[serde(default)]
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    #[serde(rename = "translatedText")]
    translated_text: String,
}

#[derive(Deserialize)]
struct Listed {
    data: Languages,
}

#[derive(Deserialize)]
struct Languages {
    #[serde(default)]
    languages: Vec<Language>,
}

#[derive(Deserialize)]
struct Language {
    language: String,
}

/// The `count` translations of one slice, in order; in plain-text answers every character
/// reference Google wrote (`&#39;`, `&quot;`, `&amp;`, …) is decoded, in HTML answers none is.
fn parse(body: &[u8], count: usize, xml: bool) -> Result<Vec<String>, String> {
    let answer: Translated = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let translations = answer.data.translations;
    if translations.len() != count {
        return Err(format!(
            "{} translations for {count} texts",
            translations.len()
        ));
    }
    Ok(translations
        .into_iter()
        .map(|t| {
            if xml {
                t.translated_text
            } else {
                html_escape::decode_html_entities(&t.translated_text).into_owned()
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use wiremock::matchers::{body_json, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::testing::{self, TEST_KEY, shown_without_key};
    use crate::backend::{Backend, ErrorKind};
    use crate::config::BackendKind;

    const TRANSLATE: &str = "/language/translate/v2";

    fn request(texts: &[&str], xml: bool) -> TranslateRequest {
        TranslateRequest {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            context: Some("Ein Bericht über das Wetter.".to_owned()),
            xml,
        }
    }

    /// Answers every translate request by echoing its texts as `EN: text`.
    struct Echo;

    impl wiremock::Respond for Echo {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let texts: Vec<String> = serde_json::from_value(body["q"].clone()).unwrap_or_default();
            let items: Vec<Value> = texts
                .iter()
                .map(|t| json!({"translatedText": format!("EN: {t}")}))
                .collect();
            ResponseTemplate::new(200).set_body_json(json!({"data": {"translations": items}}))
        }
    }

    fn error(code: u16, message: &str, reason: &str) -> ResponseTemplate {
        let body = json!({"error": {"code": code, "message": message,
            "errors": [{"message": message, "domain": "usageLimits", "reason": reason}]}});
        ResponseTemplate::new(code).set_body_json(body)
    }

    fn client(uri: &str) -> Backend {
        let settings = testing::settings(BackendKind::Google, uri, None);
        let client = Backend::new(&settings).expect("client");
        client.with_backoff(testing::fast_backoff())
    }

    async fn translate(
        uri: &str,
        texts: &[&str],
        xml: bool,
    ) -> Result<TranslateReply, BackendError> {
        client(uri).translate(&request(texts, xml)).await
    }

    /// `texts` as plain text without context.
    fn plain(texts: Vec<String>) -> TranslateRequest {
        TranslateRequest {
            texts,
            context: None,
            xml: false,
        }
    }

    /// What a user would see of `err`, checked to hold no key — in Debug output either.
    fn shown(err: &BackendError) -> String {
        assert!(!format!("{err:?}").contains(TEST_KEY), "{err:?}");
        shown_without_key(err)
    }

    /// `first` once, then [`Echo`].
    async fn failing_once(first: ResponseTemplate) -> MockServer {
        let server = MockServer::start().await;
        let once = Mock::given(method("POST")).respond_with(first);
        once.up_to_n_times(1).mount(&server).await;
        let echo = Mock::given(method("POST")).respond_with(Echo);
        echo.mount(&server).await;
        server
    }

    async fn requests(server: &MockServer) -> usize {
        server.received_requests().await.map_or(0, |r| r.len())
    }

    #[tokio::test]
    async fn sends_the_documented_request_and_reads_the_reply() {
        let server = MockServer::start().await;
        let texts = ["Er sagte &quot;Nein&quot; um <k i=\"1\"/>.", "Es regnet."];
        let expected = json!({"q": texts, "source": "de", "target": "en", "format": "html"});
        let html = [
            "He said &quot;No&quot; at <k i=\"1\"/> &amp; didn&#39;t care.",
            "It&#39;s raining.",
        ];
        let answer = json!({"data": {"translations": [
            {"translatedText": html[0]}, {"translatedText": html[1]}
        ]}});
        Mock::given(method("POST"))
            .and(path(TRANSLATE))
            .and(query_param("key", TEST_KEY))
            .and(body_json(&expected))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
        let reply = translate(&server.uri(), &texts, true).await.expect("reply");
        assert_eq!(reply.texts, html, "HTML comes back as it came");
        let usage = (reply.usage.billed_characters, reply.usage.requests);
        assert_eq!(usage, (50, 1), "counted by us");

        let escaped = "Tom &amp; Jerry&#39;s &lt;b&gt; &quot;x&quot; &hellip;";
        let answer = json!({"data": {"translations": [{"translatedText": escaped}]}});
        let server = failing_once(ResponseTemplate::new(200).set_body_json(answer)).await;
        let reply = translate(&server.uri(), &["Tom & Jerrys"], false).await;
        assert_eq!(reply.expect("reply").texts, ["Tom & Jerry's <b> \"x\" …"]);
        let sent = testing::request_body(&server, 0).await;
        let expected =
            json!({"q": ["Tom & Jerrys"], "source": "de", "target": "en", "format": "text"});
        assert_eq!(sent, expected, "no context");
    }

    #[test]
    fn plain_text_answers_are_unescaped_and_html_answers_left_to_the_caller() {
        let parsed = |text: &str, xml| {
            let answer = json!({"data": {"translations": [{"translatedText": text}]}});
            parse(answer.to_string().as_bytes(), 1, xml).map(|t| t.concat())
        };
        let text = "&#39;&#x27;&amp;&lt;&gt;&quot;&apos;&auml;&#38;&#60;&#x3E;&#8364;&hellip;";
        assert_eq!(parsed(text, false).as_deref(), Ok("''&<>\"'ä&<>€…"));
        assert_eq!(parsed(text, true).as_deref(), Ok(text));
        let kept = [
            "a & b",
            "&;",
            "&#;",
            "&#x;",
            "&#xZZ;",
            "&#1114112;",
            "&unknown;",
            "&amp",
        ];
        for text in kept {
            assert_eq!(parsed(text, false).as_deref(), Ok(text));
        }
        let once = parsed("Grüße &amp;amp; mehr", false);
        assert_eq!(once.as_deref(), Ok("Grüße &amp; mehr"), "decoded once");
    }

    #[tokio::test]
    async fn large_requests_are_split_in_order() {
        let server = MockServer::start().await;
        let echo = Mock::given(method("POST")).respond_with(Echo);
        echo.expect(3 + 2).mount(&server).await;
        let texts: Vec<String> = (0..300).map(|i| format!("Satz Nummer {i}.")).collect();
        let reply = client(&server.uri()).translate(&plain(texts.clone())).await;
        let expected: Vec<String> = texts.iter().map(|t| format!("EN: {t}")).collect();
        assert_eq!(reply.expect("reply").texts, expected);
        for (n, (first, len)) in [(0, 128), (128, 128), (256, 44)].into_iter().enumerate() {
            let sent = testing::request_body(&server, n).await;
            assert_eq!(sent["q"].as_array().map(Vec::len), Some(len));
            assert_eq!(sent["q"][0], texts[first]);
        }
        let big = plain(vec!["ä".repeat(20_000), "ö".repeat(20_000)]);
        let reply = client(&server.uri()).translate(&big).await.expect("reply");
        assert_eq!(reply.usage.requests, 2, "by characters");
    }

    #[tokio::test]
    async fn a_user_rate_limit_403_is_retried() {
        let user_rate = error(403, "User Rate Limit Exceeded", "userRateLimitExceeded");
        let server = failing_once(user_rate).await;
        let reply = translate(&server.uri(), &["Hallo"], false).await;
        let usage = reply.expect("retried").usage;
        assert_eq!((usage.requests, usage.retries), (2, 1));
    }

    #[tokio::test]
    async fn quota_and_bad_keys_stop_and_never_show_the_key() {
        let server = failing_once(error(403, "Daily Limit Exceeded", "dailyLimitExceeded")).await;
        let err = translate(&server.uri(), &["Hallo"], false)
            .await
            .expect_err("quota");
        assert_eq!((err.kind, requests(&server).await), (ErrorKind::Quota, 1));
        shown(&err);

        let message = "API key not valid. Please pass a valid API key.";
        let server = failing_once(error(400, message, "badRequest")).await;
        let err = translate(&server.uri(), &["Hallo"], false)
            .await
            .expect_err("key");
        assert_eq!((err.kind, requests(&server).await), (ErrorKind::Fatal, 1));
        let said = shown(&err);
        let named = said.contains("GOOGLE_TRANSLATE_API_KEY") && said.contains(TRANSLATE);
        assert!(named, "{said}");
    }

    #[tokio::test]
    async fn a_wrong_number_of_translations_is_malformed() {
        let one = json!({"data": {"translations": [{"translatedText": "Hello"}]}});
        let server = failing_once(ResponseTemplate::new(200).set_body_json(one)).await;
        let err = translate(&server.uri(), &["Hallo", "Welt"], false).await;
        let err = err.expect_err("count");
        assert_eq!(err.kind, ErrorKind::Malformed);
        assert!(shown(&err).contains("1 translations for 2 texts"));
        let unwrapped = parse(br#"{"translations":[]}"#, 0, false);
        assert!(unwrapped.is_err(), "data is required");
    }

    #[tokio::test]
    async fn check_looks_for_german() {
        let server = MockServer::start().await;
        let languages = json!({"data": {"languages": [
            {"language": "af", "name": "Afrikaans"}, {"language": "de", "name": "German"}]}});
        Mock::given(method("GET"))
            .and(path("/language/translate/v2/languages"))
            .and(query_param("key", TEST_KEY))
            .and(query_param("target", "en"))
            .respond_with(ResponseTemplate::new(200).set_body_json(languages))
            .expect(1)
            .mount(&server)
            .await;
        let settings = testing::settings(BackendKind::Google, &server.uri(), None);
        let said = Backend::new(&settings).expect("backend").check().await;
        let expected = format!("{} answers; German is available", server.uri());
        assert_eq!(said.expect("ok"), expected);
    }

    #[tokio::test]
    async fn check_fails_without_german() {
        let server = MockServer::start().await;
        let languages = json!({"data": {"languages": [{"language": "af", "name": "Afrikaans"}]}});
        Mock::given(method("GET"))
            .and(path("/language/translate/v2/languages"))
            .respond_with(ResponseTemplate::new(200).set_body_json(languages))
            .mount(&server)
            .await;
        let settings = testing::settings(BackendKind::Google, &server.uri(), None);
        let err = Backend::new(&settings)
            .expect("backend")
            .check()
            .await
            .expect_err("no German");
        assert_eq!(err.kind, ErrorKind::Fatal);
        assert!(
            err.message.contains("German is not among its 1 languages"),
            "{err}"
        );
        assert!(err.hint().is_some());
    }
}
