//! Azure AI Translator v3, `POST {base}/translate?api-version=3.0&from=de&to=en` with a JSON
//! array of texts; `textType=html` when the texts carry protected-span tags. The base is the
//! global host or a resource's own endpoint (`…/translator/text/v3.0`). The key travels in
//! `Ocp-Apim-Subscription-Key`, the resource's region (needed by regional and multi-service
//! resources) in `Ocp-Apim-Subscription-Region`. No context; at most 1,000 texts and 50,000
//! characters per request, so a larger [`TranslateRequest`] goes out in consecutive parts.

use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use serde_json::{Value, json};

use super::translation::{self, Limits, Parsed, Size};
use super::transport::Transport;
use super::{
    BackendError, ErrorKind, TranslateReply, TranslateRequest, base_url, require_key,
    url_with_query,
};
use crate::config::BackendSettings;

/// Azure's limits per request: 1,000 texts and 50,000 characters.
pub(super) const LIMITS: Limits = Limits {
    max_texts: 1_000,
    max_size: Size::Chars(50_000),
};
/// Where Azure says how many characters it billed.
const METERED_USAGE: &str = "x-metered-usage";
const REGION_VAR: &str = "AZURE_TRANSLATOR_REGION";

pub struct Azure {
    base_url: String,
    key: String,
    region: Option<String>,
}

impl Azure {
    pub fn new(settings: &BackendSettings) -> Result<Self, BackendError> {
        let key = require_key(settings)?;
        Ok(Self {
            base_url: base_url(settings)?,
            key,
            region: settings.region.as_ref().map(|r| r.value.clone()),
        })
    }

    /// One translate call to `url` (with its query), headers as Azure documents them.
    fn post(
        &self,
        client: &reqwest::Client,
        url: &reqwest::Url,
        body: &Value,
    ) -> reqwest::RequestBuilder {
        let mut request = client
            .post(url.clone())
            .header("Ocp-Apim-Subscription-Key", &self.key)
            .header(CONTENT_TYPE, "application/json; charset=UTF-8");
        if let Some(region) = &self.region {
            request = request.header("Ocp-Apim-Subscription-Region", region);
        }
        request.body(body.to_string())
    }

    /// `request.context` has no place in Azure's API and is left out. Usage counts the
    /// characters Azure says it billed (counted by us when it did not say).
    pub async fn translate(
        &self,
        transport: &Transport,
        request: &TranslateRequest,
    ) -> Result<TranslateReply, BackendError> {
        let url = format!("{}/translate", self.base_url);
        let mut query = vec![("api-version", "3.0"), ("from", "de"), ("to", "en")];
        if request.xml {
            query.push(("textType", "html"));
        }
        let with_query = url_with_query(&transport.name, &url, &query)?;
        translation::translate(
            transport,
            &url,
            LIMITS,
            request,
            |texts| Value::Array(texts.iter().map(|t| json!({"Text": t})).collect()),
            |client, body| self.post(client, &with_query, body),
            |answer, sent| {
                let texts = parse(&answer.body, sent.len())?;
                let billed = answer.headers.get(METERED_USAGE);
                let billed = billed.and_then(|v| v.to_str().ok()?.trim().parse().ok());
                Ok(Parsed { texts, billed })
            },
        )
        .await
        .map_err(|e| self.explain_auth(e))
    }

    /// A 401 is as often a missing or wrong region as a wrong key, and Azure's message
    /// rarely says which.
    fn explain_auth(&self, mut err: BackendError) -> BackendError {
        if err.kind != ErrorKind::Fatal || err.status != Some(401) {
            return err;
        }
        let about_region = err.message.to_ascii_lowercase().contains("region");
        let region = match &self.region {
            Some(region) if about_region => {
                format!("check that {REGION_VAR} ({region}) is the region of the key's resource")
            }
            Some(_) => return err,
            None if about_region => format!("set {REGION_VAR} to the resource's region"),
            None => format!("a regional or multi-service resource also needs {REGION_VAR}"),
        };
        let hint = err.hint.take().unwrap_or_default();
        err.hint = Some(format!("{hint}; {region}"));
        err
    }

    /// A four-character translation: the cheapest call that proves key and region work
    /// (`/languages` answers without a key).
    pub async fn check(&self, transport: &Transport) -> Result<String, BackendError> {
        let test = TranslateRequest {
            texts: vec!["Test".to_owned()],
            context: None,
            xml: false,
        };
        let texts = self.translate(transport, &test).await?.texts;
        let region = self
            .region
            .as_ref()
            .map(|r| format!(" (region {r})"))
            .unwrap_or_default();
        Ok(format!(
            "{} answers{region}; a test translation came back as {:?}",
            self.base_url,
            texts.concat()
        ))
    }
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    translations: Vec<Translation>,
}

#[derive(Deserialize)]
struct Translation {
    text: String,
}

/// One translation per text, in order.
fn parse(body: &[u8], count: usize) -> Result<Vec<String>, String> {
    let items: Vec<Item> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if items.len() != count {
        return Err(format!("{} results for {count} texts", items.len()));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let first = item.translations.into_iter().next();
            first
                .map(|t| t.text)
                .ok_or_else(|| format!("no translation for text {}", i + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use wiremock::matchers::{
        body_json, header, method, path, query_param, query_param_is_missing,
    };
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::backend::Backend;
    use crate::backend::testing::{self, TEST_KEY, shown_without_key};
    use crate::config::BackendKind;
    use crate::config::{Source, Sourced};

    fn request(texts: &[&str], xml: bool) -> TranslateRequest {
        TranslateRequest {
            texts: texts.iter().map(|t| (*t).to_owned()).collect(),
            context: Some("Ein Brief an die Nachbarn.".to_owned()),
            xml,
        }
    }

    /// Azure's answer for `texts`: each one "translated" as `EN: text`.
    fn translated(texts: &[&str]) -> Value {
        let items: Vec<Value> = texts
            .iter()
            .map(|t| json!({"translations": [{"text": format!("EN: {t}"), "to": "en"}]}))
            .collect();
        json!(items)
    }

    /// Answers every translate request by echoing its texts.
    struct Echo;

    impl wiremock::Respond for Echo {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let body: Vec<Value> = serde_json::from_slice(&request.body).unwrap_or_default();
            let texts: Vec<&str> = body.iter().filter_map(|t| t["Text"].as_str()).collect();
            ResponseTemplate::new(200).set_body_json(translated(&texts))
        }
    }

    fn error(status: u16, code: u32, message: &str) -> ResponseTemplate {
        let body = json!({"error": {"code": code, "message": message}});
        ResponseTemplate::new(status).set_body_json(body)
    }

    fn client(uri: &str, region: Option<&str>) -> Backend {
        let mut settings = testing::settings(BackendKind::Azure, uri, None);
        let from_env = |r: &str| Sourced::new(r.to_owned(), Source::BaseEnv(REGION_VAR.to_owned()));
        settings.region = region.map(from_env);
        let client = Backend::new(&settings).expect("client");
        client.with_backoff(testing::fast_backoff())
    }

    async fn translate(
        uri: &str,
        region: Option<&str>,
        texts: &[&str],
    ) -> Result<TranslateReply, BackendError> {
        client(uri, region).translate(&request(texts, false)).await
    }

    /// `texts` as plain text without context.
    fn plain(texts: Vec<String>) -> TranslateRequest {
        TranslateRequest {
            texts,
            context: None,
            xml: false,
        }
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
        let texts = ["Der Hund bellt <k i=\"1\"/>.", "Die Katze schläft."];
        let metered = ResponseTemplate::new(200).set_body_json(translated(&texts));
        Mock::given(method("POST"))
            .and(path("/translate"))
            .and(query_param("api-version", "3.0"))
            .and(query_param("from", "de"))
            .and(query_param("to", "en"))
            .and(query_param("textType", "html"))
            .and(header("ocp-apim-subscription-key", TEST_KEY))
            .and(header("ocp-apim-subscription-region", "westeurope"))
            .and(header("content-type", "application/json; charset=UTF-8"))
            .and(body_json(json!([{"Text": texts[0]}, {"Text": texts[1]}])))
            .respond_with(metered.insert_header("X-metered-usage", "44"))
            .expect(1)
            .mount(&server)
            .await;
        let azure = client(&server.uri(), Some("westeurope"));
        let reply = azure
            .translate(&request(&texts, true))
            .await
            .expect("reply");
        let expected = ["EN: Der Hund bellt <k i=\"1\"/>.", "EN: Die Katze schläft."];
        assert_eq!(reply.texts, expected);
        let usage = (reply.usage.billed_characters, reply.usage.requests);
        assert_eq!(usage, (44, 1), "as metered");
    }

    #[tokio::test]
    async fn a_resource_endpoint_works_and_plain_text_has_no_text_type() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/translator/text/v3.0/translate"))
            .and(query_param_is_missing("textType"))
            .respond_with(Echo)
            .expect(1)
            .mount(&server)
            .await;
        let base = format!("{}/translator/text/v3.0", server.uri());
        let reply = translate(&base, None, &["Grüß Gott"]).await.expect("reply");
        assert_eq!(reply.usage.billed_characters, 9, "counted by us");
        let sent = testing::everything_sent(&server).await;
        let region_header = sent[0].to_ascii_lowercase().contains("subscription-region");
        assert!(!region_header, "no region, no header");
    }

    #[tokio::test]
    async fn large_requests_are_split_in_order() {
        let server = MockServer::start().await;
        let echo = Mock::given(method("POST")).respond_with(Echo);
        echo.expect(2 + 2).mount(&server).await;
        let texts: Vec<String> = (0..1_200).map(|i| format!("Zeile {i}")).collect();
        let reply = client(&server.uri(), None)
            .translate(&plain(texts.clone()))
            .await;
        let expected: Vec<String> = texts.iter().map(|t| format!("EN: {t}")).collect();
        assert_eq!(reply.expect("reply").texts, expected);
        for (n, len) in [(0, 1_000), (1, 200)] {
            let sent = testing::request_body(&server, n).await;
            assert_eq!(sent.as_array().map(Vec::len), Some(len));
        }
        let wide = plain(vec!["ü".repeat(30_000), "ß".repeat(30_000)]);
        let reply = client(&server.uri(), None).translate(&wide).await;
        assert_eq!(reply.expect("reply").usage.requests, 2, "by characters");
    }

    #[tokio::test]
    async fn a_401_names_key_and_region_and_never_the_key() {
        let generic = "The request is not authorized because credentials are missing or invalid.";
        let about_region = "The request is not authorized because the region is invalid.";
        let cases = [
            (generic, None, Some("also needs AZURE_TRANSLATOR_REGION")),
            (generic, Some("westeurope"), None),
            (
                about_region,
                Some("eastus"),
                Some("AZURE_TRANSLATOR_REGION (eastus)"),
            ),
        ];
        for (message, region, region_hint) in cases {
            let server = failing_once(error(401, 401_000, message)).await;
            let err = translate(&server.uri(), region, &["Hallo"])
                .await
                .expect_err("401");
            assert_eq!((err.kind, requests(&server).await), (ErrorKind::Fatal, 1));
            let shown = shown_without_key(&err);
            assert!(shown.contains("AZURE_TRANSLATOR_KEY"), "{shown}");
            let hinted = region_hint.is_none_or(|h| shown.contains(h));
            assert!(
                hinted && shown.contains(REGION_VAR) == region_hint.is_some(),
                "{shown}"
            );
        }
    }

    #[tokio::test]
    async fn free_quota_stops_after_one_request() {
        let free =
            "The operation isn't allowed because the subscription has exceeded its free quota.";
        let server = failing_once(error(403, 403_001, free)).await;
        let err = translate(&server.uri(), None, &["Hallo"])
            .await
            .expect_err("403001");
        assert_eq!((err.kind, requests(&server).await), (ErrorKind::Quota, 1));
        assert!(shown_without_key(&err).contains("free quota"));
    }

    #[tokio::test]
    async fn answers_out_of_step_are_malformed() {
        let one = ResponseTemplate::new(200).set_body_json(translated(&["Hallo"]));
        let server = failing_once(one).await;
        let err = translate(&server.uri(), None, &["Hallo", "Welt"]).await;
        let err = err.expect_err("count");
        assert_eq!(err.kind, ErrorKind::Malformed);
        assert!(shown_without_key(&err).contains("1 results for 2 texts"));
        let empty = br#"[{"translations":[]}]"#;
        assert_eq!(parse(empty, 1), Err("no translation for text 1".to_owned()));
    }

    #[tokio::test]
    async fn check_translates_one_word() {
        let server = MockServer::start().await;
        let answer = json!([{"translations": [{"text": "Test", "to": "en"}]}]);
        Mock::given(method("POST"))
            .and(path("/translate"))
            .and(header("ocp-apim-subscription-key", TEST_KEY))
            .and(body_json(json!([{"Text": "Test"}])))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer))
            .expect(1)
            .mount(&server)
            .await;
        let mut settings = testing::settings(BackendKind::Azure, &server.uri(), None);
        settings.region = Some(Sourced::new("westeurope".to_owned(), Source::Default));
        let said = Backend::new(&settings).expect("backend").check().await;
        let expected = " answers (region westeurope); a test translation came back as \"Test\"";
        assert_eq!(said.expect("ok"), format!("{}{expected}", server.uri()));
    }
}
