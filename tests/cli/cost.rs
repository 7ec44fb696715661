//! Money: the estimate of `--dry-run` (synchronous and batch, each pass's share), what a run
//! spent in the summary and the reports (cached tokens included), the `--max-cost` budget, and
//! where the literal comes from (`--literal none`, a cheaper chat model as the draft).

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::{TestEnv, stderr_of, stdout_of};
use crate::mocks::{Model, protocol_reply};
use crate::online::{Servers, fix, project, servers};
use crate::run_report::violations;

/// OpenAI Chat Completions whose usage reports `cached` of its 1,000 prompt tokens as read
/// from the prompt cache, and 200 completion tokens.
struct CachedChat {
    cached: u64,
}

impl Respond for CachedChat {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).expect("JSON request");
        let content = protocol_reply(
            Model::Good,
            body["messages"][0]["content"].as_str().unwrap_or_default(),
            body["messages"][1]["content"].as_str().unwrap_or("{}"),
        );
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "chatcmpl-test", "object": "chat.completion", "created": 1_741_570_283,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                          "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
                      "prompt_tokens_details": {"cached_tokens": self.cached}}
        }))
    }
}

async fn cached_chat(cached: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(CachedChat { cached })
        .mount(&server)
        .await;
    server
}

/// A project restoring with gpt-4.1-mini on `server`, no draft, no refine round.
/// One request per file (packing off), so that costs are counted request by request.
fn restore_only(server: &MockServer) -> TestEnv {
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"openai\"\nrefine = 0\n\
             [backends.openai]\nmodel = \"gpt-4.1-mini\"\nbase_url = \"{}/v1\"\n\
             pack_documents = false\n",
            server.uri()
        ),
    );
    env
}

/// `n` small articles under `in/`, one paragraph each.
fn articles(env: &TestEnv, n: usize) {
    for i in 0..n {
        env.write(
            &format!("in/a{i}.de.txt"),
            format!("Die Firma hat im Jahr viele Kunden gewonnen, sagte der Chef {i}.\n"),
        );
    }
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("JSON request"))
        .collect()
}

fn usd(value: &Value) -> f64 {
    value["USD"]
        .as_f64()
        .unwrap_or_else(|| panic!("no USD in {value}"))
}

#[tokio::test]
async fn dry_run_shows_the_cost_synchronous_and_in_batches_with_each_pass_share() {
    let servers: Servers = servers(Model::Good).await;
    let env = project(&servers, false);
    // With the refine round, whose share is an upper bound.
    env.write(
        ".klartext.toml",
        String::from_utf8(env.read(".klartext.toml"))
            .unwrap()
            .replace("refine = 0", "refine = 1"),
    );
    let out = fix(&env, &["article.de.txt", "--dry-run"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("estimated cost $"), "{stderr}");
    assert!(stderr.contains("with --batch-api ("), "{stderr}");
    for share in ["literal $", "restore $", "refine up to $"] {
        assert!(stderr.contains(share), "{share}: {stderr}");
    }
    assert!(stderr.contains("prices as of"), "{stderr}");

    let out = fix(&env, &["article.de.txt", "--dry-run", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    let estimate = &report["estimate"];
    let (sync, batch) = (usd(&estimate["synchronous"]), usd(&estimate["batch"]));
    assert!(sync > 0.0, "{estimate}");
    assert!((batch - sync / 2.0).abs() < 1e-9, "{estimate}");
    let passes = &estimate["passes"];
    let (literal, restore) = (
        usd(&passes["literal"]["synchronous"]),
        usd(&passes["restore"]["synchronous"]),
    );
    assert!(literal > 0.0 && restore > literal, "{passes}");
    // Draft, literal and restore make the total; refine is on top, at most.
    assert!((literal + restore - sync).abs() < 1e-9, "{estimate}");
    assert!(usd(&passes["refine"]["synchronous"]) > 0.0, "{passes}");
    let plan = &report["files"][0]["plan"][0];
    assert_eq!(plan["pass"], "restore");
    assert!(plan["estimated_output"].as_u64() > plan["literal_output"].as_u64());
    assert!(plan["cost"]["synchronous"].as_f64() > plan["literal_cost"]["synchronous"].as_f64());
    assert!(servers.chat.received_requests().await.unwrap().is_empty());

    // A folder's dry run records the estimate in its report, as the schema says.
    env.write("in/b.de.txt", "Die Firma wächst.\n");
    let out = fix(&env, &["in", "-o", "out", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let record: Value =
        serde_json::from_slice(&env.read("out/klartext-report.json")).expect("JSON");
    assert_eq!(violations(&record), Vec::<String>::new());
    assert!(usd(&record["estimate"]["synchronous"]) > 0.0, "{record}");
}

#[tokio::test]
async fn the_summary_and_the_reports_show_what_was_spent_with_cached_tokens() {
    let server = cached_chat(800).await;
    let env = restore_only(&server);
    articles(&env, 3);
    let out = fix(&env, &["in", "-o", "out", "--json", "--jobs", "1"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let requests = bodies(&server).await.len() as u64;
    assert_eq!(requests, 3);

    // gpt-4.1-mini per reply: 200 uncached × $0.40 + 800 cached × $0.10 + 200 out × $1.60 per
    // million tokens.
    let per_reply = (200.0 * 0.40 + 800.0 * 0.10 + 200.0 * 1.60) / 1e6;
    let report: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    let cost = &report["cost"];
    let openai = &cost["backends"]["openai"];
    assert_eq!(openai["input_tokens"], 1000 * requests);
    assert_eq!(openai["cached_input_tokens"], 800 * requests);
    assert_eq!(openai["output_tokens"], 200 * requests);
    let total = usd(&cost["total"]);
    assert!((total - per_reply * requests as f64).abs() < 1e-9, "{cost}");
    assert!((usd(&openai["cost"]) - total).abs() < 1e-9);
    // The passes add up to the total; the literal's part of the output is its own.
    let passes = &cost["passes"];
    let (restore, literal) = (&passes["restore"], &passes["literal"]);
    assert!(literal["output_tokens"].as_u64().unwrap() > 0, "{passes}");
    assert_eq!(
        literal["output_tokens"].as_u64().unwrap() + restore["output_tokens"].as_u64().unwrap(),
        200 * requests
    );
    assert_eq!(restore["cached_input_tokens"], 800 * requests);
    assert!((usd(&restore["cost"]) + usd(&literal["cost"]) - total).abs() < 1e-9);
    assert!(usd(&cost["estimated"]) > 0.0, "{cost}");

    assert!(stderr.contains("(2,400 cached)"), "{stderr}");
    assert!(
        stderr.contains(&format!("cost: ${total:.4} spent")),
        "{stderr}"
    );
    assert!(stderr.contains("literal $"), "{stderr}");

    let record: Value =
        serde_json::from_slice(&env.read("out/klartext-report.json")).expect("JSON");
    assert_eq!(violations(&record), Vec::<String>::new());
    assert!((usd(&record["cost"]["total"]) - total).abs() < 1e-9);
    assert_eq!(
        record["cost"]["backends"]["openai"]["cached_input_tokens"],
        800 * requests
    );
}

#[tokio::test]
async fn max_cost_stops_before_the_budget_is_passed_and_keeps_what_finished() {
    let server = cached_chat(0).await;
    let env = restore_only(&server);
    articles(&env, 6);
    // A reply costs $0.00072 (1,000 in, 200 out); each request reserves about $0.001 first.
    let budget = 0.0025;
    let out = fix(
        &env,
        &[
            "in",
            "-o",
            "out",
            "--json",
            "--jobs",
            "1",
            "--max-cost",
            &budget.to_string(),
        ],
    );
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let sent = bodies(&server).await.len();
    assert!((1..6).contains(&sent), "{sent} requests: {stderr}");
    let report: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    let spent = usd(&report["cost"]["total"]);
    assert!(spent <= budget, "spent {spent}: {stderr}");
    assert_eq!(report["cost"]["max_cost"], budget);
    let files = report["files"].as_array().unwrap();
    let written = files.iter().filter(|f| f["output"].is_string()).count();
    assert_eq!(written, sent, "{report}");
    let not_started = files
        .iter()
        .filter(|f| f["status"] == "not_started")
        .count();
    assert_eq!(not_started, 6 - sent, "{report}");
    for file in files.iter().filter(|f| f["output"].is_string()) {
        assert!(env.path(file["output"].as_str().unwrap()).is_file());
    }
    assert!(stderr.contains("budget reached"), "{stderr}");
    assert!(
        stderr.contains(
            "raise --max-cost or run the same command again: finished paragraphs come from the \
             cache"
        ),
        "{stderr}"
    );

    // Run again with room: only the rest is sent.
    let out = fix(&env, &["in", "-o", "out", "--jobs", "1", "--max-cost", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(bodies(&server).await.len(), 6);
}

#[tokio::test]
async fn max_cost_refuses_a_backend_without_a_price() {
    let server = cached_chat(0).await;
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"local\"\nrefine = 0\n[backends.local]\nkind = \"openai\"\n\
             model = \"my-finetune\"\nbase_url = \"{}/v1\"\n",
            server.uri()
        ),
    );
    articles(&env, 1);
    let out = fix(&env, &["in", "-o", "out", "--max-cost", "2"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--max-cost needs the price of every backend, and local has none"),
        "{stderr}"
    );
    assert!(stderr.contains("set backends.local.price"), "{stderr}");
    assert!(bodies(&server).await.is_empty());

    // Without a budget the run goes ahead and says the cost is unknown, once.
    let out = fix(&env, &["in", "-o", "out"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr
            .matches("cost unknown for backend local: set backends.local.price")
            .count(),
        1,
        "{stderr}"
    );

    // A dry run of two files says so once too.
    env.write("two/b.de.txt", "Die Firma wächst.\n");
    let out = fix(
        &env,
        &["in/a0.de.txt", "two/b.de.txt", "--dry-run", "--no-cache"],
    );
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("cost unknown for backend local").count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains("estimated cost"), "{stderr}");

    // A price in the config makes it known.
    env.write(
        ".klartext.toml",
        String::from_utf8(env.read(".klartext.toml")).unwrap()
            + "[backends.local.price]\ninput = 1.0\noutput = 2.0\n",
    );
    let out = fix(
        &env,
        &[
            "in",
            "-o",
            "out2",
            "--max-cost",
            "2",
            "--json",
            "--no-cache",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    assert!(report["cost"]["unpriced"].is_null(), "{report}");
    // 1,000 in × $1 + 200 out × $2 per million tokens.
    let total = usd(&report["cost"]["total"]);
    assert!((total - 0.0014).abs() < 1e-9, "{report}");
}

#[tokio::test]
async fn literal_none_asks_for_no_literal_and_the_view_says_what_it_shows() {
    let servers: Servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let config = String::from_utf8(env.read(".klartext.toml")).unwrap();
    env.write(
        ".klartext.toml",
        config.replace("[passes]\n", "[passes]\nliteral = \"none\"\n"),
    );
    let out = fix(
        &env,
        &["article.de.txt", "--width", "100", "--color", "never"],
    );
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // No draft pass, though one is configured, and no literal asked of the restore model.
    assert!(servers.deepl.received_requests().await.unwrap().is_empty());
    let sent = bodies(&servers.chat).await;
    assert!(!sent.is_empty());
    for body in &sent {
        let system = body["messages"][0]["content"].as_str().unwrap();
        assert!(system.contains("Do not return `literal`"), "{system}");
        assert!(!body.to_string().contains("\"literal\""), "{body}");
    }
    assert!(
        stderr.contains(
            "no literal (literal = none): the repaired German is shown beside the English"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("German, repaired (no literal)"), "{stdout}");
    let english = String::from_utf8(env.read("article.en.txt")).unwrap();
    assert!(english.contains("The restored English of paragraph s0"));

    // `--literal auto` on the command line brings the draft back.
    let out = fix(
        &env,
        &["article.de.txt", "-o", "again.en.txt", "--literal", "auto"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!servers.deepl.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_cheaper_chat_model_can_write_the_literal_as_the_draft() {
    let server = cached_chat(0).await;
    let env = TestEnv::new();
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\ndraft = \"cheap\"\nrestore = \"openai\"\nrefine = 0\n\
             [backends.openai]\nmodel = \"gpt-4.1\"\nbase_url = \"{uri}/v1\"\n\
             [backends.cheap]\nkind = \"openai\"\nmodel = \"gpt-4.1-nano\"\nbase_url = \"{uri}/v1\"\n",
            uri = server.uri()
        ),
    );
    articles(&env, 1);
    let out = fix(&env, &["in", "-o", "out", "--json"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let sent = bodies(&server).await;
    assert_eq!(sent.len(), 2, "{stderr}");
    // The draft first, from the cheap model with the literal prompt; then the restore, which
    // post-edits that draft and writes no literal of its own.
    assert_eq!(sent[0]["model"], "gpt-4.1-nano");
    assert_eq!(sent[1]["model"], "gpt-4.1");
    let restore_system = sent[1]["messages"][0]["content"].as_str().unwrap();
    assert!(restore_system.contains("Do not return `literal`"));
    let restore_user = sent[1]["messages"][1]["content"].as_str().unwrap();
    assert!(restore_user.contains("\"draft\""), "{restore_user}");
    let report: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    let passes = &report["cost"]["passes"];
    assert!(passes["literal"].is_null(), "{passes}");
    // The draft costs what gpt-4.1-nano costs, the restore what gpt-4.1 costs.
    let nano = (1000.0 * 0.10 + 200.0 * 0.40) / 1e6;
    let full = (1000.0 * 2.00 + 200.0 * 8.00) / 1e6;
    assert!(
        (usd(&passes["draft"]["cost"]) - nano).abs() < 1e-9,
        "{passes}"
    );
    assert!(
        (usd(&passes["restore"]["cost"]) - full).abs() < 1e-9,
        "{passes}"
    );
    assert_eq!(report["files"][0]["backends"]["draft"], json!(["cheap"]));
}
