//! `fix` end to end against local stand-ins for DeepL and an OpenAI-compatible server.

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{TestEnv, sample, stderr_of, stdout_of};
use crate::mocks::{ChatCompletions, Model, Translate};

const OPENAI_KEY: &str = "sk-test-never-shown-4242";
const DEEPL_KEY: &str = "deepl-test-never-shown-77:fx";

pub struct Servers {
    pub chat: MockServer,
    pub deepl: MockServer,
}

pub async fn servers(model: Model) -> Servers {
    let chat = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(header(
            "authorization",
            format!("Bearer {OPENAI_KEY}").as_str(),
        ))
        .respond_with(ChatCompletions(model))
        .mount(&chat)
        .await;
    let deepl = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/translate"))
        .and(header(
            "authorization",
            format!("DeepL-Auth-Key {DEEPL_KEY}").as_str(),
        ))
        .respond_with(Translate)
        .mount(&deepl)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "object": "list",
            "data": [{"id": "gpt-4.1-mini", "object": "model", "created": 1_744_318_173, "owned_by": "system"}]
        })))
        .mount(&chat)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/usage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"character_count": 12_345, "character_limit": 500_000}),
        ))
        .mount(&deepl)
        .await;
    Servers { chat, deepl }
}

/// Four short paragraphs for [`Model::Doubts`]: nothing in them for verify to miss in the
/// fake English (no numbers, names or acronyms), so only the model's notes are found.
pub const DOUBTS_ARTICLE: &str = "Die Firma war am hinteren Fuß, als die Konkurrenz aufholte.\n\n\
     Die Zahl der Kunden sank, weil\n\n\
     Das Team arbeitet weiter an dem Plan.\n\n\
     Am Ende des Jahres soll er fertig sein.\n";

/// A project with both passes configured against the mocks, and a copy of a sample. The
/// stand-ins' placeholder English loses the numbers verify checks, so the refine round would
/// send those paragraphs back: it is off here, where tests count the passes' own requests
/// (`refine.rs` tests it).
pub fn project(servers: &Servers, draft: bool) -> TestEnv {
    let env = TestEnv::new();
    let passes = if draft {
        "[passes]\ndraft = \"deepl\"\nrestore = \"openai\"\nrefine = 0\n"
    } else {
        "[passes]\nrestore = \"openai\"\nrefine = 0\n"
    };
    env.write(
        ".klartext.toml",
        format!(
            "{passes}[backends.openai]\nmodel = \"gpt-4.1-mini\"\nbase_url = \"{}/v1\"\n\
             [backends.deepl]\nbase_url = \"{}\"\n",
            servers.chat.uri(),
            servers.deepl.uri()
        ),
    );
    env.write(
        "article.de.txt",
        std::fs::read(sample("tech-news.de.txt")).expect("sample"),
    );
    env
}

/// `fix` as these tests need it: the stand-ins answer with placeholder English, which verify
/// rightly flags (numbers and names are gone), so findings do not change the exit code here;
/// `verify_findings_set_exit_code_1` covers that.
pub fn fix(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("DEEPL_API_KEY", DEEPL_KEY)
        .arg("fix")
        .args(["--fail-on", "never"])
        .args(args)
        .output()
        .expect("runs")
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn draft_and_restore_write_the_english_and_a_rerun_sends_nothing() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = fix(&env, &["article.de.txt", "--width", "100"]);
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let english = String::from_utf8(env.read("article.en.txt")).expect("UTF-8");
    assert!(
        english.contains("The restored English of paragraph s0"),
        "{english}"
    );
    assert!(
        stdout.contains("draft · deepl") && stdout.contains("final · openai"),
        "{stdout}"
    );
    assert!(
        stderr.contains("usage: deepl:") && stderr.contains("characters billed"),
        "{stderr}"
    );
    let sent = (
        requests(&servers.deepl).await,
        requests(&servers.chat).await,
    );
    assert_eq!(sent, (1, 1), "one batch per pass for a short article");

    let again = fix(&env, &["article.de.txt"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    let resent = (
        requests(&servers.deepl).await,
        requests(&servers.chat).await,
    );
    assert_eq!(resent, sent, "the re-run is answered from the cache");
    assert!(!stderr_of(&again).contains("usage:"), "nothing used");
}

#[tokio::test]
async fn one_changed_paragraph_sends_one_batch() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    assert_eq!(
        fix(&env, &["article.de.txt", "--view", "none"])
            .status
            .code(),
        Some(0)
    );
    let text = String::from_utf8(env.read("article.de.txt")).expect("UTF-8");
    let last = text
        .trim_end()
        .rsplit('\n')
        .next()
        .expect("a last paragraph")
        .to_owned();
    env.write(
        "article.de.txt",
        text.replace(&last, &format!("{last} Ein neuer Satz.")),
    );
    let before = (
        requests(&servers.deepl).await,
        requests(&servers.chat).await,
    );
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let after = (
        requests(&servers.deepl).await,
        requests(&servers.chat).await,
    );
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1));
}

#[tokio::test]
async fn without_a_draft_pass_the_literal_comes_from_the_restore_reply() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    let out = fix(&env, &["article.de.txt", "--width", "100"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains("The [-literal-] English of paragraph s0"),
        "{stdout}"
    );
    assert_eq!(requests(&servers.deepl).await, 0);
}

#[tokio::test]
async fn a_reply_missing_an_id_is_split_until_it_passes() {
    let servers = servers(Model::DropsLastOfMany).await;
    let env = project(&servers, false);
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(requests(&servers.chat).await > 1, "the batch was split");
    assert!(env.path("article.en.txt").exists());
}

#[tokio::test]
async fn an_echoed_paragraph_fails_the_run_and_nothing_is_written() {
    let servers = servers(Model::Echoes).await;
    let env = project(&servers, false);
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("article.de.txt ¶ 1 (s0)") && stderr.contains("repeats the German"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing was written")
            && stderr.contains("finished paragraphs are cached: run the same command again")
    );
    assert!(!env.path("article.en.txt").exists());
    // Without a cache nothing is kept, and the hint does not pretend otherwise.
    let out = fix(&env, &["article.de.txt", "--view", "none", "--no-cache"]);
    let stderr = stderr_of(&out);
    assert!(
        !stderr.contains("cached") && stderr.contains("sends every paragraph again"),
        "{stderr}"
    );
}

#[tokio::test]
async fn commentary_in_the_text_is_caught() {
    let servers = servers(Model::Comments).await;
    let env = project(&servers, false);
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("commentary"), "{stderr}");
    assert!(!env.path("article.en.txt").exists());
}

#[tokio::test]
async fn deepl_quota_stops_the_run_with_a_clear_message() {
    let servers = servers(Model::Good).await;
    let deepl = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(456)
                .set_body_json(serde_json::json!({"message": "Quota Exceeded"})),
        )
        .expect(1)
        .mount(&deepl)
        .await;
    let servers = Servers {
        chat: servers.chat,
        deepl,
    };
    let env = project(&servers, true);
    let out = fix(&env, &["article.de.txt"]);
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("HTTP 456") && stderr.contains("quota"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!env.path("article.en.txt").exists());
}

#[tokio::test]
async fn dry_run_sends_nothing() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = fix(&env, &["article.de.txt", "--dry-run"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("draft · deepl") && stderr.contains("restore · openai"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was sent"));
    assert_eq!(
        (
            requests(&servers.deepl).await,
            requests(&servers.chat).await
        ),
        (0, 0)
    );
    assert!(!env.path("article.en.txt").exists());
}

#[tokio::test]
async fn keys_appear_nowhere() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let mut seen = Vec::new();
    for args in [
        &["article.de.txt", "-v", "--json"][..],
        &["article.de.txt", "-v"],
    ] {
        let out = fix(&env, args);
        seen.push(stdout_of(&out));
        seen.push(stderr_of(&out));
    }
    // An error path: a wrong key answered with the provider's 401.
    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(serde_json::json!({"error": {
            "message": format!("Incorrect API key provided: {}****4242.", &OPENAI_KEY[..6]),
            "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})),
        )
        .mount(&bad)
        .await;
    let bad = Servers {
        chat: bad,
        deepl: servers.deepl,
    };
    let env_bad = project(&bad, true);
    let out = fix(&env_bad, &["article.de.txt", "-vv"]);
    assert_eq!(out.status.code(), Some(2));
    seen.push(stderr_of(&out));
    let cache = std::fs::read(env.path("cache/cache.sqlite")).expect("a cache");
    seen.push(String::from_utf8_lossy(&cache).into_owned());
    seen.push(String::from_utf8_lossy(&env.read("article.en.txt")).into_owned());
    for text in &seen {
        for key in [OPENAI_KEY, DEEPL_KEY, "4242"] {
            assert!(!text.contains(key), "{key} leaked into:\n{text}");
        }
    }
    assert!(
        seen[4].contains("OPENAI_API_KEY"),
        "the hint names the variable: {}",
        seen[4]
    );
}

#[tokio::test]
async fn backends_check_calls_each_backend_once() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = env
        .cmd()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("DEEPL_API_KEY", DEEPL_KEY)
        .args(["backends", "--check"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", stderr_of(&out));
    assert_eq!(stdout.lines().count(), 2, "one line per backend:\n{stdout}");
    assert!(
        stdout.contains("ok     deepl (deepl, draft)")
            && stdout.contains("ok     openai (openai, restore)"),
        "{stdout}"
    );
    let listing = env.cmd().args(["backends"]).output().expect("runs");
    assert!(stdout_of(&listing).contains("deepl (deepl) · draft"));
    assert!(
        stdout.contains("12,345 of 500,000") && stdout.contains("gpt-4.1-mini is available"),
        "{stdout}"
    );
    assert!(!stdout.contains(OPENAI_KEY) && !stdout.contains(DEEPL_KEY));

    let missing_key = env
        .cmd()
        .args(["backends", "--check"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&missing_key);
    assert_eq!(missing_key.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("FAILED deepl") && stdout.contains("set DEEPL_API_KEY"),
        "{stdout}"
    );
}

#[tokio::test]
async fn cache_stats_and_clear() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    assert_eq!(
        fix(&env, &["article.de.txt", "--view", "none"])
            .status
            .code(),
        Some(0)
    );
    let stats = env
        .cmd()
        .args(["cache", "stats", "--json"])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&stats.stdout).expect("JSON");
    let paragraphs = json["entries"].as_u64().expect("a count");
    assert!(paragraphs >= 2, "draft and restore entries: {json}");
    env.cmd().args(["cache", "clear"]).assert().success();
    let stats = env
        .cmd()
        .args(["cache", "stats", "--json"])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&stats.stdout).expect("JSON");
    assert_eq!(json["entries"], 0);
    // With the cache gone, everything is sent again.
    let before = requests(&servers.chat).await;
    assert_eq!(
        fix(&env, &["article.de.txt", "--view", "none"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(requests(&servers.chat).await, before + 1);
}

#[tokio::test]
async fn to_de_corrects_the_german() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = fix(&env, &["article.de.txt", "--to", "de", "--width", "100"]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let fixed = String::from_utf8(env.read("article.fixed.de.txt")).expect("UTF-8");
    assert!(
        fixed.contains("Ein korrigierter deutscher Absatz s0"),
        "{fixed}"
    );
    assert!(
        stdout.contains("German") && stdout.contains("final · openai"),
        "{stdout}"
    );
    assert_eq!(
        requests(&servers.deepl).await,
        0,
        "no English draft for German output"
    );
}

#[tokio::test]
async fn a_corrupt_cache_is_reported_and_the_output_still_written() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    env.write("cache/cache.sqlite", "this is not a database, it is a note");
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("cache.sqlite") && stderr.contains("without the cache"),
        "{stderr}"
    );
    assert!(env.path("article.en.txt").exists());
    assert_eq!(
        std::fs::read(env.path("cache/cache.sqlite")).expect("kept"),
        b"this is not a database, it is a note",
        "klartext never deletes the user's file"
    );
}

/// `--in-place` on a file klartext already rewrote (the German repaired offline, then
/// translated) keeps the backup of the original: the file held only klartext's own result.
#[tokio::test]
async fn in_place_twice_keeps_the_backup_of_the_original() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let original = env.read("article.de.txt");
    let repaired = fix(&env, &["article.de.txt", "--in-place", "--offline"]);
    assert_eq!(repaired.status.code(), Some(0), "{}", stderr_of(&repaired));
    assert_ne!(env.read("article.de.txt"), original, "repaired");
    let translated = fix(&env, &["article.de.txt", "--in-place"]);
    let stderr = stderr_of(&translated);
    assert_eq!(translated.status.code(), Some(0), "{stderr}");
    let english = String::from_utf8(env.read("article.de.txt")).expect("UTF-8");
    assert!(english.contains("The restored English"), "{english}");
    assert_eq!(env.read("article.de.txt.bak"), original, "{stderr}");
    assert!(!env.path("article.de.txt.1.bak").exists(), "{stderr}");
}

/// A cache this run may read but not write (its folder read-only, or only the database) is
/// used for what it holds: nothing is sent again, the cache is left as it was, and one
/// warning says so.
#[cfg(unix)]
#[tokio::test]
async fn a_read_only_cache_is_read_and_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    };
    for folder_writable in [false, true] {
        let servers = servers(Model::Good).await;
        let env = project(&servers, true);
        let first = fix(&env, &["article.de.txt", "-o", "-"]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
        let sent = (
            requests(&servers.deepl).await,
            requests(&servers.chat).await,
        );
        let (folder, db) = (env.path("cache"), env.path("cache/cache.sqlite"));
        let before = std::fs::read(&db).expect("the cache");
        mode(&db, 0o444);
        mode(&folder, if folder_writable { 0o777 } else { 0o555 });

        let Some(mut cmd) = env.unprivileged_cmd() else {
            return;
        };
        let again = cmd
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("DEEPL_API_KEY", DEEPL_KEY)
            .args(["fix", "--fail-on", "never", "article.de.txt", "-o", "-"])
            .output()
            .expect("runs");
        mode(&folder, 0o755);
        let stderr = stderr_of(&again);
        assert_eq!(again.status.code(), Some(0), "{stderr}");
        assert_eq!(stdout_of(&again), stdout_of(&first), "the same result");
        let resent = (
            requests(&servers.deepl).await,
            requests(&servers.chat).await,
        );
        assert_eq!(resent, sent, "answered from the read-only cache: {stderr}");
        assert_eq!(std::fs::read(&db).expect("the cache"), before, "left alone");
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("klartext: warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "one warning: {stderr}");
        assert!(
            warnings[0].contains("read-only") && warnings[0].contains("cache.sqlite"),
            "{stderr}"
        );
    }
}

/// `KLARTEXT_CACHE_DIR` naming a file is a mistake in that variable, said once.
#[test]
fn a_cache_dir_that_is_a_file_is_an_error_naming_the_variable() {
    let env = TestEnv::new();
    env.write("notes.txt", "not a folder");
    env.write("a.de.txt", "Der Bericht wurde gestern veröffentlicht.\n");
    let out = env
        .cmd()
        .env("KLARTEXT_CACHE_DIR", env.path("notes.txt"))
        .args(["fix", "a.de.txt", "-o", "a.fixed.de.txt"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.contains("hint:")).collect();
    assert_eq!(errors.len(), 1, "one line: {stderr}");
    assert!(
        errors[0].contains("error:")
            && errors[0].contains("KLARTEXT_CACHE_DIR")
            && errors[0].contains("notes.txt")
            && errors[0].contains("not a folder"),
        "{stderr}"
    );
    assert_eq!(env.read("notes.txt"), b"not a folder");
}

#[tokio::test]
async fn provider_variables_alone_pick_the_backends_and_say_so() {
    let servers = servers(Model::Good).await;
    let env = TestEnv::new();
    env.write(
        "a.de.txt",
        std::fs::read(sample("interview.de.txt")).expect("sample"),
    );
    let run = |extra: &[&str]| {
        env.cmd()
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .env("OPENAI_BASE_URL", format!("{}/v1", servers.chat.uri()))
            .args(["fix", "a.de.txt", "--view", "none", "--fail-on", "never"])
            .arg("--no-refine")
            .args(extra)
            .output()
            .expect("runs")
    };
    let offline = run(&["--offline"]);
    assert_eq!(offline.status.code(), Some(0));
    assert_eq!(requests(&servers.chat).await, 0, "--offline sends nothing");
    let out = run(&[]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("using openai (gpt-4.1-mini) from OPENAI_API_KEY"),
        "{stderr}"
    );
    assert!(env.path("a.en.txt").exists());
    assert_eq!(requests(&servers.chat).await, 1);
}

#[tokio::test]
async fn a_quota_exhausted_backend_falls_back_to_the_next() {
    let servers = servers(Model::Good).await;
    let broke = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(serde_json::json!({"error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})))
        .expect(1)
        .mount(&broke)
        .await;
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = [\"openai\", \"local\"]\nrefine = 0\n\
             [backends.openai]\nmodel = \"gpt-4.1-mini\"\nbase_url = \"{}/v1\"\n\
             [backends.local]\nkind = \"openai\"\nmodel = \"qwen3:8b\"\nbase_url = \"{}/v1\"\n",
            broke.uri(),
            servers.chat.uri()
        ),
    );
    env.write(
        "a.de.txt",
        std::fs::read(sample("interview.de.txt")).expect("sample"),
    );
    let out = fix(&env, &["a.de.txt", "--json"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("insufficient_quota") || stderr.contains("exceeded your current quota"),
        "{stderr}"
    );
    assert!(stderr.contains("went to the next backend"), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let segments = report["files"][0]["segments"].as_array().expect("segments");
    assert!(
        segments.iter().all(|s| s["final_backend"] == "local"),
        "{report}"
    );
    assert!(env.path("a.en.txt").exists());
    let served = requests(&servers.chat).await;
    let again = fix(&env, &["a.de.txt"]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        requests(&servers.chat).await,
        served,
        "the fallback's results are cached too"
    );
    assert_eq!(
        requests(&broke).await,
        1,
        "nothing more for the exhausted backend"
    );
}

#[tokio::test]
async fn verify_findings_set_exit_code_1_and_show_in_the_diff() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = env
        .cmd()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .env("DEEPL_API_KEY", DEEPL_KEY)
        .args(["fix", "article.de.txt", "--width", "100"])
        .output()
        .expect("runs");
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(
        out.status.code(),
        Some(1),
        "the placeholder English lost numbers: {stderr}"
    );
    assert!(env.path("article.en.txt").exists(), "written all the same");
    assert!(stdout.contains("✗ quantity/missing-number"), "{stdout}");
    assert!(
        stderr.contains("verify:") && stderr.contains("errors"),
        "{stderr}"
    );
    let json = fix(&env, &["article.de.txt", "--json", "--force"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let first = &report["files"][0]["segments"][0]["findings"][0];
    assert_eq!(first["check"], "quantity", "{report}");
    assert!(report["files"][0]["errors"].as_u64() > Some(0));
}

#[tokio::test]
async fn a_report_of_the_run_has_three_columns_and_the_findings() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = fix(
        &env,
        &["article.de.txt", "--report", "run.html", "--view", "none"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let html = String::from_utf8(env.read("run.html")).expect("UTF-8");
    assert!(
        html.contains("draft · deepl") && html.contains("final · openai"),
        "titles"
    );
    assert!(html.contains("lang=\"de\""), "the German column");
    assert!(html.contains("missing-number"), "findings are listed");
    // The page names the document it is about.
    assert!(
        html.contains("<title>article.de.txt · draft · deepl → final · openai</title>"),
        "{html}"
    );
    assert!(html.contains("<h1>article.de.txt</h1>"), "the header");
    // The German column is what the model saw: the glued quotes of the input repaired, the
    // repairs marked.
    assert!(!html.contains("erklärte:”Wir"), "the raw input");
    assert!(
        html.contains(
            "erklärte:<span class=\"repair\" title=\"glued-quote: ” → ·„\"> „</span>Wir haben"
        ),
        "{html}"
    );
}

/// The terminal's German pane (three panes from 180 columns) shows the German that was sent,
/// the repairs marked, and so does the review's record of it.
#[tokio::test]
async fn the_german_pane_shows_the_repaired_german() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = fix(
        &env,
        &[
            "article.de.txt",
            "--width",
            "200",
            "--color",
            "debug",
            "--full",
        ],
    );
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stdout.contains("<title>German</title>"), "{stdout}");
    assert!(!stdout.contains("erklärte:”Wir"), "the raw input: {stdout}");
    assert!(stdout.contains("erklärte:<rep> „</rep>Wir"), "{stdout}");
    let record: serde_json::Value =
        serde_json::from_slice(&env.read(".klartext/article.en.txt.json")).expect("JSON record");
    let second = &record["paragraphs"][2];
    assert!(
        second["german"]
            .as_str()
            .is_some_and(|g| g.contains("erklärte:”Wir")),
        "the German as read stays: {second}"
    );
    assert!(
        second["repaired"]
            .as_str()
            .is_some_and(|g| g.contains("erklärte: „Wir")),
        "{second}"
    );
    assert_eq!(second["repairs"][0]["rule"], "glued-quote", "{second}");
}

/// A doubt in the model's notes counts as a warning everywhere: the file is `flagged`,
/// `--fail-on warning` fails, `--json` lists it among the findings (the notes kept as given),
/// the Markdown report comments it, and the review record keeps it with its check.
#[tokio::test]
async fn a_model_doubt_counts_as_a_warning_in_every_output() {
    let servers = servers(Model::Doubts).await;
    let env = project(&servers, false);
    env.write("article.de.txt", DOUBTS_ARTICLE);
    let json = fix(&env, &["article.de.txt", "--json", "--report", "run.md"]);
    assert_eq!(json.status.code(), Some(0), "{}", stderr_of(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let file = &report["files"][0];
    assert_eq!(file["status"], "flagged", "{report}");
    assert_eq!(
        (file["errors"].as_u64(), file["warnings"].as_u64()),
        (Some(0), Some(1))
    );
    let second = &file["segments"][1];
    assert_eq!(
        second["notes"].as_array().map(Vec::len),
        Some(2),
        "{second}"
    );
    let doubt = &second["findings"][0];
    assert_eq!(
        (&doubt["check"], &doubt["rule"], &doubt["severity"]),
        (&"model".into(), &"doubt".into(), &"warning".into()),
        "{second}"
    );
    assert!(
        doubt["message"]
            .as_str()
            .is_some_and(|m| m.contains("cut off")),
        "{doubt}"
    );
    assert_eq!(second["findings"][1]["severity"], "info", "{second}");

    let markdown = String::from_utf8(env.read("run.md")).expect("UTF-8");
    assert!(
        markdown.contains("{>>⚠ warning: model doubt: The sentence seems cut off"),
        "{markdown}"
    );
    assert!(
        markdown.contains("{>>ℹ info: model: rejoined compound<<}"),
        "{markdown}"
    );

    let record: serde_json::Value =
        serde_json::from_slice(&env.read(".klartext/article.en.txt.json")).expect("a record");
    let kept = &record["paragraphs"][1]["findings"];
    assert_eq!(kept[0]["check"], "model", "{record}");
    assert_eq!(kept[0]["severity"], "warning", "{record}");

    let strict = env
        .cmd()
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .args(["fix", "article.de.txt", "--force", "--fail-on", "warning"])
        .output()
        .expect("runs");
    assert_eq!(strict.status.code(), Some(1), "{}", stderr_of(&strict));
    assert!(
        stderr_of(&strict).contains("verify: 1 warning to check"),
        "{}",
        stderr_of(&strict)
    );
}
