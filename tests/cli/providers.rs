//! Every provider end to end: a draft from each translation service, a restore from each chat
//! backend, against local stand-ins that check the provider's path and auth header.

use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Respond};

use crate::common::{TestEnv, sample, stderr_of, stdout_of};
use crate::mocks::{
    AzureTranslate, GenerateContent, GoogleTranslate, LibreTranslate, Messages, OllamaChat,
};

const KEY: &str = "provider-test-key-5150";

/// A mock server answering `responder` on `route` (method, path, an optional auth header and
/// query parameter).
async fn serve(
    route: (&str, &str),
    auth: Option<(&str, &str)>,
    query: Option<(&str, &str)>,
    responder: impl Respond + 'static,
) -> MockServer {
    let server = MockServer::start().await;
    let mut mock = Mock::given(method(route.0)).and(path(route.1));
    if let Some((name, value)) = auth {
        mock = mock.and(header(name, value));
    }
    if let Some((name, value)) = query {
        mock = mock.and(query_param(name, value));
    }
    mock.respond_with(responder).expect(1).mount(&server).await;
    server
}

/// Configure `draft` and `restore` (TOML tables using `{draft}`/`{restore}` for the mock URLs),
/// run `fix` on a sample and check it wrote the English and named both backends.
fn run(draft: (&str, &MockServer), restore: (&str, &MockServer), env_vars: &[(&str, &str)]) {
    let env = TestEnv::new();
    let config = format!(
        "[passes]\ndraft = \"d\"\nrestore = \"r\"\nrefine = 0\n[backends.d]\n{}\n[backends.r]\n{}\n",
        draft.0.replace("{url}", &draft.1.uri()),
        restore.0.replace("{url}", &restore.1.uri())
    );
    env.write(".klartext.toml", config);
    env.write(
        "a.de.md",
        std::fs::read(sample("cloud-report.de.md")).expect("sample"),
    );
    let mut cmd = env.cmd();
    for (k, v) in env_vars {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["fix", "a.de.md", "--width", "100", "--fail-on", "never"])
        .output()
        .expect("runs");
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("draft · d") && stdout.contains("final · r"),
        "{stdout}"
    );
    let english = String::from_utf8(env.read("a.en.md")).expect("UTF-8");
    assert!(
        english.contains("The restored English of paragraph"),
        "{english}"
    );
    assert!(english.contains("```"), "the code block survives");
    assert!(
        english.contains("`max_idle_minutes`"),
        "inline code comes back unchanged"
    );
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY));
}

#[tokio::test]
async fn google_drafts_and_anthropic_restores() {
    let google = serve(
        ("POST", "/language/translate/v2"),
        None,
        Some(("key", KEY)),
        GoogleTranslate,
    )
    .await;
    let claude = serve(
        ("POST", "/v1/messages"),
        Some(("x-api-key", KEY)),
        None,
        Messages,
    )
    .await;
    run(
        ("kind = \"google\"\nbase_url = \"{url}\"", &google),
        (
            "kind = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\nbase_url = \"{url}\"",
            &claude,
        ),
        &[
            ("GOOGLE_TRANSLATE_API_KEY", KEY),
            ("ANTHROPIC_API_KEY", KEY),
        ],
    );
}

#[tokio::test]
async fn azure_drafts_and_gemini_restores() {
    let azure = serve(
        ("POST", "/translate"),
        Some(("ocp-apim-subscription-key", KEY)),
        Some(("api-version", "3.0")),
        AzureTranslate,
    )
    .await;
    let gemini = serve(
        ("POST", "/v1beta/models/gemini-2.5-flash:generateContent"),
        Some(("x-goog-api-key", KEY)),
        None,
        GenerateContent,
    )
    .await;
    run(
        (
            "kind = \"azure\"\nregion = \"westeurope\"\nbase_url = \"{url}\"",
            &azure,
        ),
        (
            "kind = \"gemini\"\nmodel = \"gemini-2.5-flash\"\nbase_url = \"{url}\"",
            &gemini,
        ),
        &[("AZURE_TRANSLATOR_KEY", KEY), ("GEMINI_API_KEY", KEY)],
    );
}

#[tokio::test]
async fn libretranslate_drafts_and_ollama_restores() {
    let libre = serve(("POST", "/translate"), None, None, LibreTranslate).await;
    let ollama = serve(("POST", "/api/chat"), None, None, OllamaChat).await;
    run(
        ("kind = \"libretranslate\"\nbase_url = \"{url}\"", &libre),
        (
            "kind = \"ollama\"\nmodel = \"qwen3:8b\"\nbase_url = \"{url}\"",
            &ollama,
        ),
        &[],
    );
}
