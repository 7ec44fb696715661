//! Hints that say what is actually the case: why a run stayed offline, which backend name is
//! undefined, which report formats exist — each before any work is done.

use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{TestEnv, stderr_of};

const KEY: &str = "sk-hint-test-key-6060";

fn article(env: &TestEnv) {
    env.write("a.de.txt", "Der Umsatz stieg im Jahr 2024 deutlich.\n");
}

/// `--offline` with a key set, and backends that no pass names: neither is told to set a key.
#[test]
fn an_offline_run_says_why_it_was_offline() {
    let env = TestEnv::new();
    article(&env);
    let out = env
        .cmd()
        .env("OPENAI_API_KEY", KEY)
        .args(["fix", "a.de.txt", "--offline", "--view", "none"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("set OPENAI_API_KEY") && stderr.contains("--offline"),
        "{stderr}"
    );

    let env = TestEnv::new();
    article(&env);
    env.write(
        ".klartext.toml",
        "[backends.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n",
    );
    let out = env
        .cmd()
        .args(["fix", "a.de.txt", "--view", "none"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("set OPENAI_API_KEY")
            && stderr.contains("local")
            && stderr.contains("[passes]"),
        "{stderr}"
    );

    // Nothing configured at all: that hint stays.
    let env = TestEnv::new();
    article(&env);
    let out = env
        .cmd()
        .args(["fix", "a.de.txt", "--view", "none"])
        .output()
        .expect("runs");
    assert!(stderr_of(&out).contains("set OPENAI_API_KEY"));
}

/// A name in `[passes]` without a `[backends.NAME]` table is reported as undefined, before
/// what is wrong with the tables themselves (here: the misspelt table has no `kind`).
#[test]
fn an_undefined_backend_in_passes_is_reported_first() {
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        "[passes]\nrestore = \"ollama\"\n[backends.olama]\nmodel = \"qwen3:8b\"\n",
    );
    let out = env.cmd().args(["config", "show"]).output().expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("passes.restore") && stderr.contains("`ollama` is not defined"),
        "{stderr}"
    );
    assert!(stderr.contains("defined backends: olama"), "{stderr}");
}

/// `--report r.txt`: refused before anything is read, sent or written, naming the extension
/// and the formats there are.
#[tokio::test]
async fn an_unknown_report_format_fails_before_any_work() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let env = TestEnv::new();
    article(&env);
    env.write("b.de.txt", "Der Umsatz fiel.\n");
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"local\"\n[backends.local]\nkind = \"openai\"\n\
             base_url = \"{}/v1\"\nmodel = \"m\"\n",
            server.uri()
        ),
    );
    let runs: [&[&str]; 4] = [
        &["fix", "a.de.txt", "--report", "r.txt"],
        &[
            "fix",
            "a.de.txt",
            "--offline",
            "-o",
            "out.txt",
            "--report",
            "r",
        ],
        &["diff", "a.de.txt", "b.de.txt", "--report", "r.TXT"],
        &["fix", "a.de.txt", "--report", "r.html.bak"],
    ];
    for args in runs {
        let out = env.cmd().args(args).output().expect("runs");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(".html") && stderr.contains(".md") && stderr.contains(".json"),
            "{args:?} names the known formats: {stderr}"
        );
        let named = match args.last().copied() {
            Some("r") => "no extension",
            Some("r.TXT") => ".TXT",
            Some("r.html.bak") => ".bak",
            _ => ".txt",
        };
        assert!(stderr.contains(named), "{args:?} names {named}: {stderr}");
    }
    assert_eq!(server.received_requests().await.map_or(0, |r| r.len()), 0);
    for written in ["a.en.txt", "out.txt", "r.txt", "r", "r.TXT"] {
        assert!(!env.path(written).exists(), "{written} was written");
    }
}
