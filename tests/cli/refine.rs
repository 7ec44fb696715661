//! The refine round end to end: a stand-in model that gets a number scale wrong in its first
//! answer, and, when the paragraph comes back with verify's finding, either corrects it or
//! repeats itself. Exactly one refine request goes out, carrying the finding and the earlier
//! answer; the report says what was kept.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{TestEnv, stderr_of, stdout_of};

const KEY: &str = "sk-test-refine";
const GERMAN: &str = "Nvidia nähert sich einer Bewertung von 4 Billionen Dollar.\n\n\
                      Der Bericht wurde gestern veröffentlicht.\n";
const WRONG: &str = "Nvidia is nearing a $4 billion valuation.";
const RIGHT: &str = "Nvidia is nearing a $4 trillion valuation.";
const CLEAN: &str = "The report was published yesterday.";
/// Two scale errors in one paragraph, for more than one round.
const TWO_WRONG_DE: &str = "Nvidia nähert sich 4 Billionen Dollar, und 1,4 Milliarden Geräte \
                            nutzen seine Chips.\n";
const TWO_WRONG: &str = "Nvidia is nearing $4 billion, and 1.4 million devices use its chips.";

/// What the stand-in does with a paragraph sent back.
#[derive(Clone, Copy)]
enum Second {
    /// Corrects every wrong scale.
    Fixes,
    /// Corrects the first wrong scale it finds.
    OneAtATime,
    /// Answers with its earlier text.
    Repeats,
    /// Answers with the German (which fails validation).
    Echoes,
}

/// The stand-in's first answer to a German paragraph.
fn first(de: &str) -> &'static str {
    if de.contains("Milliarden") {
        TWO_WRONG
    } else if de.contains("Billionen") {
        WRONG
    } else {
        CLEAN
    }
}

const CORRECTIONS: [(&str, &str); 2] =
    [("4 billion", "4 trillion"), ("1.4 million", "1.4 billion")];

/// The `⟦n⟧` markers of a text.
fn markers(text: &str) -> Vec<&str> {
    text.match_indices('⟦')
        .filter_map(|(at, _)| {
            text[at..]
                .find('⟧')
                .map(|end| &text[at..at + end + '⟧'.len_utf8()])
        })
        .collect()
}

/// Its answer when the paragraph comes back.
fn second(how: Second, de: &str, previous: &str) -> String {
    match how {
        Second::Fixes => CORRECTIONS
            .iter()
            .fold(previous.to_owned(), |text, (from, to)| {
                text.replace(from, to)
            }),
        Second::OneAtATime => CORRECTIONS
            .iter()
            .find(|(from, _)| previous.contains(from))
            .map_or(previous.to_owned(), |(from, to)| {
                previous.replacen(from, to, 1)
            }),
        Second::Repeats => previous.to_owned(),
        Second::Echoes => de.to_owned(),
    }
}

struct Planted(Second);

impl Respond for Planted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON request");
        let system = body["messages"][0]["content"].as_str().unwrap_or_default();
        let user: Value =
            serde_json::from_str(body["messages"][1]["content"].as_str().unwrap_or("{}"))
                .expect("the user message is JSON");
        let segments: Vec<Value> = user["segments"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let de = item["de"].as_str().unwrap_or_default();
                let en = match item["previous"].as_str() {
                    // Markers of protected spans are kept, as the prompt asks.
                    None => format!("{} {}", first(de), markers(de).join(" "))
                        .trim_end()
                        .to_owned(),
                    Some(previous) => second(self.0, de, previous),
                };
                let mut segment = json!({"id": item["id"], "en": en, "notes": []});
                if system.contains("Also return `literal`") {
                    segment["literal"] = json!(format!("Literally: {en}"));
                }
                segment
            })
            .collect();
        let content = json!({ "segments": segments }).to_string();
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-refine", "object": "chat.completion", "created": 1_741_570_283,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 300, "completion_tokens": 60, "total_tokens": 360}
        }))
    }
}

async fn server(second: Second) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Planted(second))
        .mount(&server)
        .await;
    server
}

fn project(server: &MockServer, extra_config: &str) -> TestEnv {
    project_with(server, extra_config, GERMAN)
}

fn project_with(server: &MockServer, extra_config: &str, german: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"openai\"\n{extra_config}\
             [backends.openai]\nmodel = \"gpt-4.1-mini\"\nbase_url = \"{}/v1\"\n",
            server.uri()
        ),
    );
    env.write("nvidia.de.txt", german);
    env
}

fn fix(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd()
        .env("OPENAI_API_KEY", KEY)
        .args(["fix", "nvidia.de.txt"])
        .args(args)
        .output()
        .expect("runs")
}

/// The user messages of every request so far, as JSON.
async fn sent(server: &MockServer) -> Vec<(String, Value)> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).expect("JSON request");
            let system = body["messages"][0]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let user = body["messages"][1]["content"].as_str().unwrap_or("{}");
            (
                system,
                serde_json::from_str(user).expect("JSON user message"),
            )
        })
        .collect()
}

fn report(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// The one refine request: the flagged paragraph alone, with its earlier answer and the
/// finding marked, under the refine prompt.
fn assert_one_refine_request(requests: &[(String, Value)]) {
    assert_eq!(requests.len(), 2, "restore, then one refine request");
    let (system, refine) = &requests[1];
    assert!(
        system.contains("# Task: correct flagged segments")
            && system.contains("Do not return `literal`."),
        "{system}"
    );
    let items = refine["segments"].as_array().expect("segments");
    assert_eq!(items.len(), 1, "only the flagged paragraph: {refine}");
    let item = &items[0];
    assert_eq!(item["id"], "s0");
    assert_eq!(item["previous"], WRONG);
    assert!(
        item.get("draft").is_none(),
        "the model's own literal is not sent back as a draft: {item}"
    );
    let problems = item["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 1, "{item}");
    assert_eq!(problems[0]["check"], "quantity");
    assert_eq!(problems[0]["rule"], "wrong-scale");
    assert!(
        problems[0]["span"]
            .as_str()
            .is_some_and(|s| s.contains("4 billion")),
        "the words at fault: {item}"
    );
    assert!(
        problems[0]["de"]
            .as_str()
            .is_some_and(|s| s.contains("Billionen")),
        "what the German says: {item}"
    );
    assert!(requests[0].1["segments"][0].get("problems").is_none());
}

#[tokio::test]
async fn a_planted_wrong_scale_is_refined_and_resolved() {
    let server = server(Second::Fixes).await;
    let env = project(&server, "");
    let out = fix(&env, &["--json"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "no error left: {stderr}");
    assert_one_refine_request(&sent(&server).await);
    let english = String::from_utf8(env.read("nvidia.en.txt")).expect("UTF-8");
    assert!(english.contains(RIGHT), "{english}");

    let report = report(&out);
    let segment = &report["files"][0]["segments"][0];
    let refine = &segment["refine"];
    assert_eq!(refine["outcome"], "resolved", "{segment}");
    assert_eq!(refine["before"], WRONG);
    assert_eq!(refine["after"], RIGHT);
    assert_eq!(refine["rounds"], 1);
    assert_eq!(refine["findings_before"][0]["rule"], "wrong-scale");
    assert_eq!(refine["findings_after"], json!([]));
    assert_eq!(segment["final_text"], RIGHT);
    assert_eq!(segment["findings"], json!([]), "verify ran on the new text");
    assert!(
        report["files"][0]["segments"][1].get("refine").is_none(),
        "the clean paragraph was not sent back"
    );

    // The diff says what happened, and a rerun is answered from the cache.
    let shown = fix(&env, &["--force", "--width", "100", "-v"]);
    let stdout = stdout_of(&shown);
    assert!(
        stdout.contains("refined: resolved ✗ quantity/wrong-scale"),
        "{stdout}"
    );
    assert!(
        stderr_of(&shown).contains("refine: 1 paragraph sent back (1 answered from the cache)"),
        "{}",
        stderr_of(&shown)
    );
    assert_eq!(sent(&server).await.len(), 2, "the rerun sends nothing");
}

#[tokio::test]
async fn a_refine_that_repeats_the_error_keeps_the_first_version() {
    let server = server(Second::Repeats).await;
    let env = project(&server, "");
    let out = fix(&env, &["--json"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "the error stands: {stderr}");
    assert_one_refine_request(&sent(&server).await);
    let english = String::from_utf8(env.read("nvidia.en.txt")).expect("UTF-8");
    assert!(english.contains(WRONG), "{english}");

    let report = report(&out);
    let segment = &report["files"][0]["segments"][0];
    let refine = &segment["refine"];
    assert_eq!(refine["outcome"], "kept", "{segment}");
    assert_eq!(refine["before"], WRONG);
    assert_eq!(refine["after"], WRONG);
    assert_eq!(refine["findings_after"][0]["rule"], "wrong-scale");
    assert_eq!(segment["findings"][0]["rule"], "wrong-scale");

    let html = fix(&env, &["--force", "--report", "run.html", "--view", "none"]);
    assert_eq!(html.status.code(), Some(1), "{}", stderr_of(&html));
    let page = String::from_utf8(env.read("run.html")).expect("UTF-8");
    assert!(
        page.contains(
            "refine tried, kept the first version: the new one has ✗ quantity/wrong-scale"
        ),
        "the HTML report has the note"
    );
    assert_eq!(sent(&server).await.len(), 2, "the rerun sends nothing");
}

#[tokio::test]
async fn no_refine_and_refine_zero_send_no_refine_request() {
    let server = server(Second::Fixes).await;
    for (config, args) in [
        ("", &["--no-refine", "--json"][..]),
        ("refine = 0\n", &["--json"][..]),
        (
            "refine = 3\n",
            &["--json", "--refine", "0", "--no-cache"][..],
        ),
    ] {
        let env = project(&server, config);
        let before = sent(&server).await.len();
        let out = fix(&env, args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
        assert_eq!(
            sent(&server).await.len(),
            before + 1,
            "restore only: {config} {args:?}"
        );
        let segment = &report(&out)["files"][0]["segments"][0];
        assert!(segment.get("refine").is_none(), "{segment}");
        assert_eq!(segment["final_text"], WRONG);
    }
}

#[tokio::test]
async fn dry_run_counts_refine_as_possible() {
    let server = server(Second::Fixes).await;
    let env = project(&server, "");
    let out = fix(&env, &["--dry-run"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("refine · openai: up to 2 paragraphs, only those verify flags; at most 1 round (1 request"),
        "{stderr}"
    );
    let none = fix(&env, &["--dry-run", "--no-refine"]);
    assert!(
        !stderr_of(&none).contains("refine ·"),
        "{}",
        stderr_of(&none)
    );
    assert!(sent(&server).await.is_empty());
}

#[test]
fn refine_rounds_are_range_checked() {
    let env = TestEnv::new();
    env.write("a.de.txt", "Ein Satz.\n");
    let out = env
        .cmd()
        .args(["fix", "a.de.txt", "--refine", "4"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("--refine"), "{}", stderr_of(&out));
    env.write(".klartext.toml", "[passes]\nrefine = 9\n");
    let out = env.cmd().args(["fix", "a.de.txt"]).output().expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("passes.refine") && stderr.contains("0 to 3"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_second_round_takes_what_the_first_improved() {
    let server = server(Second::OneAtATime).await;
    let env = project_with(&server, "", TWO_WRONG_DE);
    let once = fix(&env, &["--json", "--no-cache"]);
    assert_eq!(once.status.code(), Some(1), "{}", stderr_of(&once));
    let refine = &report(&once)["files"][0]["segments"][0]["refine"];
    assert_eq!(refine["outcome"], "improved", "{refine}");
    assert_eq!(refine["findings_before"].as_array().map(Vec::len), Some(2));
    assert_eq!(refine["findings_after"].as_array().map(Vec::len), Some(1));
    assert_eq!(sent(&server).await.len(), 2);

    let twice = fix(&env, &["--json", "--force", "--refine", "2"]);
    assert_eq!(twice.status.code(), Some(0), "{}", stderr_of(&twice));
    let requests = sent(&server).await;
    assert_eq!(requests.len(), 5, "restore and two refine rounds");
    let round_two = &requests[4].1["segments"][0];
    assert!(
        round_two["previous"]
            .as_str()
            .is_some_and(|p| p.contains("$4 trillion") && p.contains("1.4 million")),
        "the second round starts from the first round's text: {round_two}"
    );
    assert_eq!(round_two["problems"].as_array().map(Vec::len), Some(1));
    let segment = &report(&twice)["files"][0]["segments"][0];
    assert_eq!(segment["refine"]["outcome"], "resolved", "{segment}");
    assert_eq!(segment["refine"]["rounds"], 2);
    assert_eq!(segment["refine"]["before"], TWO_WRONG);
    assert_eq!(
        segment["final_text"],
        "Nvidia is nearing $4 trillion, and 1.4 billion devices use its chips."
    );
}

#[tokio::test]
async fn a_refine_answer_that_fails_validation_keeps_the_first_version() {
    let server = server(Second::Echoes).await;
    let env = project(&server, "");
    let out = fix(&env, &["--json"]);
    let stderr = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "written, with the error: {stderr}"
    );
    let english = String::from_utf8(env.read("nvidia.en.txt")).expect("UTF-8");
    assert!(english.contains(WRONG), "{english}");
    let refine = &report(&out)["files"][0]["segments"][0]["refine"];
    assert_eq!(refine["outcome"], "failed", "{refine}");
    assert_eq!(refine["rounds"], 0);
    assert!(refine["after"].is_null());
    assert!(
        refine["error"]
            .as_str()
            .is_some_and(|e| e.contains("repeats the German")),
        "{refine}"
    );
    assert_eq!(
        sent(&server).await.len(),
        3,
        "restore, then the refine request and its one more try"
    );
}

#[tokio::test]
async fn protected_spans_stay_masked_in_refine_requests() {
    let server = server(Second::Fixes).await;
    let env = project(&server, "");
    env.write(
        "nvidia.de.md",
        "Laut <https://example.com/nvidia> nähert sich Nvidia 4 Billionen Dollar.\n",
    );
    let out = env
        .cmd()
        .env("OPENAI_API_KEY", KEY)
        .args(["fix", "nvidia.de.md", "--view", "none"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let requests = sent(&server).await;
    assert_eq!(requests.len(), 2, "restore and refine");
    let refine = &requests[1].1["segments"][0];
    assert_eq!(refine["previous"], format!("{WRONG} ⟦1⟧"), "{refine}");
    for (_, user) in &requests {
        assert!(!user.to_string().contains("example.com"), "{user}");
    }
    let english = String::from_utf8(env.read("nvidia.en.md")).expect("UTF-8");
    assert_eq!(english, format!("{RIGHT} <https://example.com/nvidia>\n"));
}

/// `cache export --tmx memory.tmx`, read back.
fn export(env: &TestEnv) -> String {
    let export = env
        .cmd()
        .args(["cache", "export", "--tmx", "memory.tmx"])
        .output()
        .expect("runs");
    assert_eq!(export.status.code(), Some(0), "{}", stderr_of(&export));
    String::from_utf8(env.read("memory.tmx")).expect("UTF-8")
}

/// `cache export --tmx` writes the English the refine rounds left, not the first answer, so
/// the memory reproduces the run; a paragraph whose first version was kept exports that.
#[tokio::test]
async fn cache_export_takes_the_refined_english_and_its_memory_reproduces_the_run() {
    let one = server(Second::OneAtATime).await;
    let env = project_with(&one, "", TWO_WRONG_DE);
    let out = fix(&env, &["--refine", "2", "--view", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(sent(&one).await.len(), 3, "restore and two refine rounds");
    let english = env.read("nvidia.en.txt");
    let right = "Nvidia is nearing $4 trillion, and 1.4 billion devices use its chips.";
    assert!(String::from_utf8_lossy(&english).contains(right));

    let memory = export(&env);
    assert!(memory.contains(right), "{memory}");
    assert!(
        !memory.contains(TWO_WRONG),
        "not the first answer: {memory}"
    );

    let again = fix(
        &env,
        &[
            "--no-cache",
            "--memory",
            "memory.tmx",
            "--force",
            "--view",
            "none",
        ],
    );
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert_eq!(sent(&one).await.len(), 3, "the memory answered");
    assert_eq!(env.read("nvidia.en.txt"), english, "the same output");

    // A refine answer that repeats the error leaves the first version, in the memory too.
    let repeats = server(Second::Repeats).await;
    let env = project(&repeats, "");
    let out = fix(&env, &["--view", "none"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let memory = export(&env);
    assert!(memory.contains(WRONG), "{memory}");
}
