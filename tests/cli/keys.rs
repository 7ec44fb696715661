//! Keys and URLs as a careless (or hostile) first config writes them: a password inside a
//! URL, a key variable that is named but not set, a model the server does not have.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{TestEnv, stderr_of, stdout_of};
use crate::mocks::{ChatCompletions, Model, OllamaChat};

const PASSWORD: &str = "url-password-never-shown-31";
const KEY: &str = "sk-key-never-shown-8080";

/// A server that answers anything, so a test can count what reached it.
async fn any_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

/// `http://klartext:PASSWORD@127.0.0.1:PORT` for a mock server.
fn with_password(server: &MockServer) -> String {
    server
        .uri()
        .replacen("http://", &format!("http://klartext:{PASSWORD}@"), 1)
}

fn article(env: &TestEnv) {
    env.write("a.de.txt", "Der Umsatz stieg im Jahr 2024 deutlich.\n");
}

/// Every place that shows a URL, and `fix` itself, for a password in a URL: each refuses
/// (exit 2) naming where the URL came from, none prints the password, nothing is sent.
#[tokio::test]
async fn a_password_in_a_url_is_refused_everywhere_and_never_printed() {
    let server = any_server().await;
    let env = TestEnv::new();
    article(&env);
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"local\"\n[backends.local]\nkind = \"openai\"\n\
             base_url = \"{}/v1\"\nmodel = \"m\"\n",
            with_password(&server)
        ),
    );
    let commands: [&[&str]; 7] = [
        &["config", "show"],
        &["config", "show", "--json"],
        &["backends"],
        &["backends", "--json"],
        &["backends", "--check"],
        &["fix", "a.de.txt", "-vv"],
        &["fix", "a.de.txt", "--json"],
    ];
    for args in commands {
        let out = env
            .cmd()
            .env("OPENAI_API_KEY", KEY)
            .args(args)
            .output()
            .expect("runs");
        let shown = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(2), "{args:?}: {shown}");
        assert!(!shown.contains(PASSWORD), "{args:?} printed it: {shown}");
        assert!(!shown.contains(KEY), "{args:?} printed the key: {shown}");
        assert!(
            shown.contains("backends.local.base_url") && shown.contains(".klartext.toml"),
            "{args:?} names the key and the file: {shown}"
        );
        assert!(shown.contains("api_key_env"), "{args:?} hints: {shown}");
    }
    assert_eq!(requests(&server).await, 0, "nothing was sent");

    // The same from every variable that can set a URL, with or without a scheme.
    let host = server.uri().replacen("http://", "", 1);
    let cases = [
        ("OPENAI_BASE_URL", format!("{}/v1", with_password(&server))),
        (
            "KLARTEXT_OPENAI_URL",
            format!("{}/v1", with_password(&server)),
        ),
        ("OPENAI_BASE_URL", format!("klartext:{PASSWORD}@{host}/v1")),
        ("OLLAMA_HOST", format!("klartext:{PASSWORD}@{host}")),
    ];
    for (var, url) in cases {
        let env = TestEnv::new();
        article(&env);
        let model_key = if var == "OLLAMA_HOST" {
            ("KLARTEXT_MODEL", "qwen3:8b")
        } else {
            ("OPENAI_API_KEY", KEY)
        };
        if var.starts_with("KLARTEXT_") {
            env.write(
                ".klartext.toml",
                "[passes]\nrestore = \"openai\"\n[backends.openai]\nmodel = \"m\"\n",
            );
        }
        let out = env
            .cmd()
            .env(var, &url)
            .env(model_key.0, model_key.1)
            .args(["fix", "a.de.txt"])
            .output()
            .expect("runs");
        let shown = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(2), "{var}={url}: {shown}");
        assert!(!shown.contains(PASSWORD), "{var} printed it: {shown}");
        assert!(shown.contains(var), "{var} is named: {shown}");
    }
    assert_eq!(requests(&server).await, 0, "nothing was sent");
}

/// `api_key_env` names a variable that is not set (or empty): an error before anything is
/// sent, for every kind whose key is optional — and still for those that need one.
#[tokio::test]
async fn a_named_key_variable_that_is_unset_stops_before_anything_is_sent() {
    let server = any_server().await;
    let url = server.uri();
    let tables = [
        format!(
            "[passes]\nrestore = \"r\"\n[backends.r]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\nmodel = \"m\"\napi_key_env = \"MY_KEY\"\n"
        ),
        format!(
            "[passes]\nrestore = \"r\"\n[backends.r]\nkind = \"ollama\"\nbase_url = \"{url}\"\nmodel = \"m\"\napi_key_env = \"MY_KEY\"\n"
        ),
        format!(
            "[passes]\ndraft = \"d\"\nrestore = \"r\"\n[backends.d]\nkind = \"libretranslate\"\nbase_url = \"{url}\"\napi_key_env = \"MY_KEY\"\n[backends.r]\nkind = \"openai\"\nbase_url = \"{url}/v1\"\nmodel = \"m\"\n"
        ),
        format!(
            "[passes]\nrestore = \"r\"\n[backends.r]\nkind = \"anthropic\"\nbase_url = \"{url}\"\nmodel = \"m\"\napi_key_env = \"MY_KEY\"\n"
        ),
    ];
    for table in &tables {
        for value in [None, Some("")] {
            let env = TestEnv::new();
            article(&env);
            env.write(".klartext.toml", table);
            let mut cmd = env.cmd();
            if let Some(value) = value {
                cmd.env("MY_KEY", value);
            }
            let out = cmd.args(["fix", "a.de.txt"]).output().expect("runs");
            let stderr = stderr_of(&out);
            assert_eq!(out.status.code(), Some(2), "{table}: {stderr}");
            assert!(
                stderr.contains("MY_KEY is not set") && stderr.contains("hint: set MY_KEY"),
                "{table}: {stderr}"
            );
        }
    }
    assert_eq!(requests(&server).await, 0, "nothing was sent");
}

/// A local server that needs no key is configured without one and works: no error, and no
/// `Authorization` header of any kind.
#[tokio::test]
async fn a_local_server_without_a_key_works() {
    let chat = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ChatCompletions(Model::Good))
        .expect(1)
        .mount(&chat)
        .await;
    let ollama = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(OllamaChat)
        .expect(1)
        .mount(&ollama)
        .await;
    let cases = [
        format!("kind = \"openai\"\nbase_url = \"{}/v1\"", chat.uri()),
        format!("kind = \"ollama\"\nbase_url = \"{}\"", ollama.uri()),
    ];
    for table in cases {
        let env = TestEnv::new();
        article(&env);
        env.write(
            ".klartext.toml",
            format!("[passes]\nrestore = \"r\"\n[backends.r]\n{table}\nmodel = \"m\"\n"),
        );
        let out = env
            .cmd()
            .args(["fix", "a.de.txt", "--fail-on", "never", "--no-refine"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    }
    for server in [&chat, &ollama] {
        let sent = server.received_requests().await.unwrap_or_default();
        assert!(
            sent.iter()
                .all(|r| !r.headers.contains_key("authorization")),
            "no Authorization header"
        );
    }
}

fn models(ids: &[&str]) -> ResponseTemplate {
    let data: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "created": 1, "owned_by": "system"}))
        .collect();
    ResponseTemplate::new(200).set_body_json(serde_json::json!({"object": "list", "data": data}))
}

/// `backends --check`: a model the server does not list is a failure whose hint shows a few
/// that it does list; a named key variable that is unset fails without a request.
#[tokio::test]
async fn backends_check_fails_for_a_missing_model_and_an_unset_key_variable() {
    let server = MockServer::start().await;
    let listed = [
        "qwen3:8b",
        "llama3.2:3b",
        "gemma3:12b",
        "mistral-small:24b",
        "phi4:14b",
        "deepseek-r1:7b",
        "granite3.3:8b",
    ];
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(models(&listed))
        .mount(&server)
        .await;
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"local\"\n[backends.local]\nkind = \"openai\"\n\
             base_url = \"{}/v1\"\nmodel = \"qwen3:32b\"\n",
            server.uri()
        ),
    );
    let out = env
        .cmd()
        .args(["backends", "--check"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", stderr_of(&out));
    assert!(
        stdout.starts_with("FAILED local") && stdout.contains("qwen3:32b"),
        "{stdout}"
    );
    let hint = stdout.split("hint: ").nth(1).unwrap_or_default();
    assert!(
        hint.contains("qwen3:8b") && hint.contains("llama3.2:3b") && hint.contains("model"),
        "a few listed models in the hint: {stdout}"
    );
    assert!(
        stdout.contains("not among its 7 models")
            && !hint.contains("granite3.3:8b")
            && hint.contains("and 2 more"),
        "a few, not all: {stdout}"
    );
    let json = env
        .cmd()
        .args(["backends", "--check", "--json"])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json["backends"][0]["check"]["ok"], false, "{json}");

    // The model is there, but the key variable the config names is not set.
    let before = server.received_requests().await.map_or(0, |r| r.len());
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"local\"\n[backends.local]\nkind = \"openai\"\n\
             base_url = \"{}/v1\"\nmodel = \"qwen3:8b\"\napi_key_env = \"MY_KEY\"\n",
            server.uri()
        ),
    );
    let out = env
        .cmd()
        .args(["backends", "--check"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.starts_with("FAILED local") && stdout.contains("MY_KEY is not set"),
        "{stdout}"
    );
    assert_eq!(requests(&server).await, before, "nothing was sent");

    // Both fine: ok.
    let out = env
        .cmd()
        .env("MY_KEY", KEY)
        .args(["backends", "--check"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("ok     local"), "{stdout}");
    assert!(!stdout.contains(KEY));
}
