//! One name, one rendering across a document: the names a restore reply reports (`terms`) reach
//! the batches sent after it as glossary entries, and a name the document still renders two
//! ways is a warning.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{TestEnv, stderr_of};

pub const KEY: &str = "sk-test-never-shown-4242";

/// Two paragraphs about the same product, each long enough to be its own batch under
/// `batch_tokens = 50` (about 3.5 characters a token).
const ARTICLE: &str = "Der Kopilot von Microsoft schreibt jetzt ganze Funktionen und testet sie \
                       gleich mit, sagt das Unternehmen.\n\nMit dem Kopilot werden Entwickler \
                       nach eigenen Angaben deutlich schneller mit ihrer Arbeit fertig.\n";

/// A restore model that decides "Kopilot" is "Copilot" and says so in `terms` — and, when
/// `second` says so, writes "Co-Pilot" in every reply after the first.
struct Restorer {
    second: &'static str,
    replies: AtomicUsize,
}

impl Respond for Restorer {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON request");
        let user: Value = serde_json::from_str(
            body["messages"][1]["content"]
                .as_str()
                .expect("a user message"),
        )
        .expect("the user message is JSON");
        let name = if self.replies.fetch_add(1, Ordering::SeqCst) == 0 {
            "Copilot"
        } else {
            self.second
        };
        let segments: Vec<Value> = user["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .map(|item| {
                let id = item["id"].as_str().unwrap_or_default();
                json!({
                    "id": id,
                    "en": format!("{name} from Microsoft now writes and tests “whole functions”, it’s said, paragraph {id}."),
                    "literal": format!("The co-pilot of Microsoft writes now whole functions, paragraph {id}."),
                    "notes": ["'Kopilot' = Copilot (product name)"]
                })
            })
            .collect();
        let content = json!({"segments": segments, "terms": [{"de": "Kopilot", "en": name}]});
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1_741_570_283,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string(), "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}
        }))
    }
}

/// A project whose restore backend takes one small batch at a time, so the second batch is
/// built after the first reply came back.
pub async fn serialised(second: &'static str) -> (MockServer, TestEnv) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(Restorer {
            second,
            replies: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"openai\"\n[backends.openai]\nmodel = \"gpt-4.1-mini\"\n\
             base_url = \"{}/v1\"\nconcurrency = 1\nbatch_tokens = 50\n",
            server.uri()
        ),
    );
    env.write("article.de.txt", ARTICLE);
    (server, env)
}

fn fix_json(env: &TestEnv) -> Value {
    let out = env
        .cmd()
        .env("OPENAI_API_KEY", KEY)
        .args(["fix", "--json", "--fail-on", "never", "article.de.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// The glossary of each chat request, in the order they were sent.
async fn glossaries(server: &MockServer) -> Vec<Value> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).expect("JSON request");
            let user: Value =
                serde_json::from_str(body["messages"][1]["content"].as_str().unwrap_or_default())
                    .expect("JSON user message");
            // Absent when empty.
            match &user["glossary"] {
                Value::Null => json!([]),
                glossary => glossary.clone(),
            }
        })
        .collect()
}

/// The `check/rule` of every finding in a `fix --json` report.
fn rules(report: &Value) -> Vec<String> {
    report["files"][0]["segments"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default())
        .map(|f| {
            format!(
                "{}/{}",
                f["check"].as_str().unwrap_or(""),
                f["rule"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn a_name_decided_in_one_batch_reaches_the_next_as_a_glossary_entry() {
    let (server, env) = serialised("Copilot").await;
    let report = fix_json(&env);
    let sent = glossaries(&server).await;
    assert_eq!(sent.len(), 2, "one batch per paragraph: {sent:?}");
    assert_eq!(sent[0], json!([]), "nothing decided before the first reply");
    assert_eq!(sent[1], json!([{"de": "Kopilot", "en": "Copilot"}]));
    let segments = report["files"][0]["segments"].as_array().expect("segments");
    assert_eq!(
        segments[0]["terms"],
        json!([{"de": "Kopilot", "en": "Copilot"}]),
        "the reply's terms are kept with the paragraph"
    );
    assert!(
        !rules(&report).contains(&"consistency/term-variants".to_owned()),
        "{:?}",
        rules(&report)
    );

    // Learned names are not part of the cache key: a re-run is answered from the cache.
    let again = fix_json(&env);
    assert_eq!(glossaries(&server).await.len(), 2, "nothing sent again");
    assert_eq!(
        again["files"][0]["segments"][0]["final_cached"],
        json!(true)
    );
}

#[tokio::test]
async fn a_name_rendered_two_ways_is_a_warning() {
    let (_server, env) = serialised("Co-Pilot").await;
    let report = fix_json(&env);
    let segments = report["files"][0]["segments"].as_array().expect("segments");
    let findings = segments[1]["findings"].as_array().expect("findings");
    let variant = findings
        .iter()
        .find(|f| f["rule"] == "term-variants")
        .unwrap_or_else(|| panic!("no term-variants finding: {findings:?}"));
    assert_eq!(variant["check"], "consistency");
    assert_eq!(variant["severity"], "warning");
    let message = variant["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("\"Co-Pilot\"") && message.contains("\"Copilot\""),
        "{message}"
    );
    // The finding survives a re-run from the cache: the reported names are cached too.
    let again = fix_json(&env);
    assert!(rules(&again).contains(&"consistency/term-variants".to_owned()));
}
