//! Every provider end to end: a draft from each translation service, a restore from each chat
//! backend, against local stand-ins that check the provider's path and auth header.

use serde_json::{Value, json};
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

/// "12,345".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The system prompt is the part of every request that does not change (the batch, its
/// context and the glossary terms it hits go in the user message), so Anthropic is asked to
/// cache it when it is long enough for the model: the built-in restore prompt (about 2,000
/// tokens) is marked for Claude Sonnet 4.5, which caches from 1,024 tokens on, and not for
/// Claude Haiku 4.5, which caches from 4,096. The cached tokens the replies report add up in
/// the usage line and in the `--json` usage, of the run and of each file.
#[tokio::test]
async fn anthropic_caches_a_long_system_prompt_and_cached_tokens_add_up() {
    for (model, marked) in [("claude-sonnet-4-5", true), ("claude-haiku-4-5", false)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/messages"))
            .respond_with(Messages)
            .mount(&server)
            .await;
        let env = TestEnv::new();
        env.write(
            ".klartext.toml",
            format!(
                "[passes]\nrestore = \"r\"\nrefine = 0\n[backends.r]\nkind = \"anthropic\"\n\
                 model = \"{model}\"\nbase_url = \"{}\"\nbatch_tokens = 50\n",
                server.uri()
            ),
        );
        env.write(
            "a.de.md",
            std::fs::read(sample("cloud-report.de.md")).expect("sample"),
        );
        let out = env
            .cmd()
            .env("ANTHROPIC_API_KEY", KEY)
            .args(["fix", "a.de.md", "--json", "--fail-on", "never"])
            .output()
            .expect("runs");
        let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        let bodies: Vec<Value> = server
            .received_requests()
            .await
            .expect("recorded")
            .iter()
            .map(|r| serde_json::from_slice(&r.body).expect("a JSON body"))
            .collect();
        let n = bodies.len() as u64;
        assert!(n > 1, "{model}: batches of one or two paragraphs");
        for body in &bodies {
            let system = &body["system"];
            if marked {
                assert_eq!(system.as_array().map(Vec::len), Some(1), "{system}");
                assert_eq!(system[0]["type"], "text");
                assert!(system[0]["text"].as_str().is_some_and(|t| t.len() > 3600));
                assert_eq!(system[0]["cache_control"], json!({"type": "ephemeral"}));
            } else {
                assert!(system.is_string(), "{model}: too short to cache: {system}");
            }
            assert!(
                body["messages"][0]["content"].is_string(),
                "the batch is not marked"
            );
        }
        let cached = if marked { 800 * n } else { 0 };
        let report: Value = serde_json::from_str(&stdout).expect("--json");
        let usage = &report["usage"]["r"];
        assert_eq!(usage["requests"], n, "{usage}");
        assert_eq!(usage["input_tokens"], 900 * n, "cache reads are input");
        assert_eq!(usage["cached_input_tokens"], cached);
        assert_eq!(usage["cache_creation_input_tokens"], 0);
        let files = report["files"].as_array().expect("files");
        let of_files: u64 = files
            .iter()
            .filter_map(|f| f["usage"]["r"]["cached_input_tokens"].as_u64())
            .sum();
        assert_eq!(of_files, cached, "the files' usage sums to the run's");
        let line = stderr
            .lines()
            .find(|l| l.contains("usage: r:"))
            .unwrap_or_else(|| panic!("a usage line: {stderr}"));
        let tokens = match cached {
            0 => format!("r: {} tokens in, ", grouped(900 * n)),
            c => format!(
                "r: {} tokens in ({} cached), ",
                grouped(900 * n),
                grouped(c)
            ),
        };
        assert!(line.contains(&tokens), "{line}");
    }
}
