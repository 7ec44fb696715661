//! The batch fake (`tests/support/fake_batches.rs`) driven directly: with reqwest through a
//! whole OpenAI and Anthropic flow (upload, create, poll, results, cancel, refusals), and
//! with klartext's own wire layer (`backend::batch`), so the fake and the client agree on the
//! shapes before the batch-mode tests rely on both.

use std::time::Duration;

use klartext::backend::Backend;
use klartext::backend::batch::{BatchLine, JobPhase, LineReason, LineResult};
use klartext::config::{self, Env, Overrides};
use serde_json::{Value, json};

use crate::common::TestEnv;
use crate::fake_batches::{FakeBatches, Received};
use crate::mocks::{self, Model};

const KEY: &str = "batch-selftest-key-0815";

/// A fake answering every line like the protocol mocks do.
pub async fn protocol_fake() -> FakeBatches {
    FakeBatches::start(
        |body| mocks::chat_completion(Model::Good, body),
        mocks::message,
    )
    .await
}

/// A klartext backend named `kind` of that kind at `base_url`, loaded through the config as a
/// user would write it, with `extra` lines in its table; `env` keeps the config file.
pub fn library_backend(env: &TestEnv, kind: &str, base_url: &str, extra: &str) -> Backend {
    let model = if kind == "openai" {
        "gpt-4.1-mini"
    } else {
        "claude-sonnet-4-5"
    };
    let file = env.write(
        "batch-backends.toml",
        format!(
            "[backends.{kind}]\nkind = \"{kind}\"\nbase_url = \"{base_url}\"\nmodel = \"{model}\"\n{extra}"
        ),
    );
    let key_var = if kind == "openai" {
        "OPENAI_API_KEY"
    } else {
        "ANTHROPIC_API_KEY"
    };
    let vars = Env::from_pairs([
        ("KLARTEXT_CONFIG", file.to_string_lossy().into_owned()),
        (key_var, KEY.to_owned()),
    ]);
    let settings =
        config::load(&vars, env.root(), &Overrides::default()).expect("the config loads");
    Backend::new(&settings.backends[kind]).expect("the backend is set up")
}

/// `n` lines `r00`, `r01`, … whose bodies are `backend`'s chat bodies for one segment each.
pub fn protocol_lines(backend: &Backend, n: usize) -> Vec<BatchLine> {
    (0..n)
        .map(|i| BatchLine {
            custom_id: format!("r{i:02}"),
            body: backend
                .chat_body(&klartext::backend::ChatRequest {
                    system: "Restore the English.".to_owned(),
                    user: json!({"segments": [{"id": "s0", "de": format!("Absatz {i}.")}]})
                        .to_string(),
                    schema: None,
                    estimated_tokens: 20,
                })
                .expect("a chat backend"),
        })
        .collect()
}

fn openai_line(id: &str, n: usize) -> String {
    json!({
        "custom_id": id, "method": "POST", "url": "/v1/chat/completions",
        "body": {"model": "gpt-4.1-mini", "messages": [
            {"role": "system", "content": "Restore the English."},
            {"role": "user", "content": json!({"segments": [{"id": "s0", "de": format!("Absatz {n}.")}]}).to_string()}
        ]}
    })
    .to_string()
}

fn anthropic_request(id: &str, n: usize) -> Value {
    json!({"custom_id": id, "params": {
        "model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "Restore the English.",
        "messages": [{"role": "user", "content": json!({"segments": [{"id": "s0", "de": format!("Absatz {n}.")}]}).to_string()}]
    }})
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(fake: &FakeBatches) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: fake.uri(),
        }
    }

    async fn openai(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/v1{path}", self.base);
        let request = match method {
            "GET" => self.http.get(&url),
            _ => self.http.post(&url),
        }
        .bearer_auth(KEY);
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        read(request).await
    }

    async fn anthropic(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/v1/messages/batches{path}", self.base);
        let request = match method {
            "GET" => self.http.get(&url),
            _ => self.http.post(&url),
        }
        .header("x-api-key", KEY)
        .header("anthropic-version", "2023-06-01");
        let request = match body {
            Some(body) => request.json(&body),
            None => request,
        };
        read(request).await
    }

    async fn upload(&self, lines: &[String]) -> String {
        let file: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let form = reqwest::multipart::Form::new()
            .text("purpose", "batch")
            .part(
                "file",
                reqwest::multipart::Part::bytes(file.into_bytes()).file_name("input.jsonl"),
            );
        let (status, body) = read(
            self.http
                .post(format!("{}/v1/files", self.base))
                .bearer_auth(KEY)
                .multipart(form),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body["id"].as_str().expect("a file id").to_owned()
    }

    /// `POST /v1/batches` for the uploaded `file`.
    async fn create_openai(&self, file: &str) -> (u16, Value) {
        let create = json!({"input_file_id": file, "endpoint": "/v1/chat/completions", "completion_window": "24h"});
        self.openai("POST", "/batches", Some(create)).await
    }

    /// The lines of the OpenAI file `batch[field]` names (`output_file_id`, `error_file_id`).
    async fn file(&self, batch: &Value, field: &str) -> Vec<Value> {
        let id = batch[field].as_str().expect("a file id");
        self.text(&format!("/v1/files/{id}/content"), false).await
    }

    async fn text(&self, path: &str, anthropic: bool) -> Vec<Value> {
        let request = self.http.get(format!("{}{path}", self.base));
        let request = if anthropic {
            request
                .header("x-api-key", KEY)
                .header("anthropic-version", "2023-06-01")
        } else {
            request.bearer_auth(KEY)
        };
        let response = request.send().await.expect("the fake answers");
        assert_eq!(response.status(), 200);
        let text = response.text().await.expect("a body");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("JSONL"))
            .collect()
    }
}

async fn read(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn an_openai_batch_runs_through_with_a_failed_fifth_retried() {
    let fake = protocol_fake().await;
    fake.knobs(|k| {
        k.polls = 2;
        k.fail_every = Some(5);
    });
    let client = Client::new(&fake);
    let lines: Vec<String> = (0..10)
        .map(|n| openai_line(&format!("r{n:02}"), n))
        .collect();
    let file = client.upload(&lines).await;
    assert_eq!(
        fake.upload_forms()[0][0],
        ("purpose".to_owned(), "batch".to_owned())
    );
    let (status, batch) = client.create_openai(&file).await;
    assert_eq!(
        (status, batch["status"].as_str()),
        (200, Some("validating"))
    );
    let id = batch["id"].as_str().expect("an id").to_owned();
    let mut seen = Vec::new();
    for _ in 0..3 {
        let (_, batch) = client.openai("GET", &format!("/batches/{id}"), None).await;
        seen.push(batch["status"].as_str().unwrap_or_default().to_owned());
    }
    assert_eq!(seen, ["in_progress", "in_progress", "completed"]);
    let (_, batch) = client.openai("GET", &format!("/batches/{id}"), None).await;
    assert_eq!(
        batch["request_counts"],
        json!({"total": 10, "completed": 8, "failed": 2})
    );
    let output = client.file(&batch, "output_file_id").await;
    let errors = client.file(&batch, "error_file_id").await;
    assert_eq!(output.len(), 8);
    let reply = &output[0]["response"];
    assert_eq!(reply["status_code"], 200);
    let content = reply["body"]["choices"][0]["message"]["content"]
        .as_str()
        .expect("text");
    assert!(
        content.contains("The restored English of paragraph s0"),
        "{content}"
    );
    let failed: Vec<&str> = errors
        .iter()
        .filter_map(|l| l["custom_id"].as_str())
        .collect();
    assert_eq!(failed, ["r04", "r09"]);
    assert_eq!(errors[0]["response"]["status_code"], 500);

    // The failed fifth, sent again, succeeds: a body fails only on its first submission.
    let again = client.upload(&[lines[4].clone(), lines[9].clone()]).await;
    let (_, batch) = client.create_openai(&again).await;
    let id = batch["id"].as_str().expect("an id").to_owned();
    for _ in 0..3 {
        client.openai("GET", &format!("/batches/{id}"), None).await;
    }
    let (_, batch) = client.openai("GET", &format!("/batches/{id}"), None).await;
    assert_eq!(
        (batch["status"].as_str(), batch["error_file_id"].is_null()),
        (Some("completed"), true)
    );
    assert_eq!(fake.jobs(), 2);
    assert_eq!(fake.job_sizes(), [10, 2]);
    assert_eq!(fake.duplicate_ids(), ["r04", "r09"]);
    assert_eq!(fake.duplicate_bodies(), 2);
    assert_eq!(fake.submitted().len(), 12);
    assert_eq!(fake.uploads().len(), 2);
    assert_eq!(fake.count("POST", "/v1/files"), 2);
    assert_eq!(
        fake.requests()[0],
        Received {
            method: "POST".to_owned(),
            path: "/v1/files".to_owned()
        }
    );
}

#[tokio::test]
async fn an_anthropic_batch_expires_keeping_what_finished() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.expire_keeping = Some(3));
    let client = Client::new(&fake);
    let requests: Vec<Value> = (0..5)
        .map(|n| anthropic_request(&format!("r{n}"), n))
        .collect();
    let (status, batch) = client
        .anthropic("POST", "", Some(json!({"requests": requests})))
        .await;
    assert_eq!(
        (status, batch["processing_status"].as_str()),
        (200, Some("in_progress"))
    );
    let id = batch["id"].as_str().expect("an id").to_owned();
    let (_, batch) = client.anthropic("GET", &format!("/{id}"), None).await;
    assert_eq!(batch["processing_status"], "in_progress");
    let (_, batch) = client.anthropic("GET", &format!("/{id}"), None).await;
    assert_eq!(batch["processing_status"], "ended");
    assert_eq!(
        batch["request_counts"],
        json!({"processing": 0, "succeeded": 3, "errored": 0, "canceled": 0, "expired": 2})
    );
    let url = batch["results_url"].as_str().expect("a results url");
    let path = url.strip_prefix(&fake.uri()).expect("on the fake");
    let results = client.text(path, true).await;
    let kinds: Vec<&str> = results
        .iter()
        .filter_map(|r| r["result"]["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["succeeded", "succeeded", "succeeded", "expired", "expired"]
    );
    let text = results[0]["result"]["message"]["content"][0]["text"]
        .as_str()
        .expect("text");
    assert!(text.contains("The restored English"), "{text}");
}

#[tokio::test]
async fn a_cancelled_job_keeps_the_lines_done_and_cancels_the_rest() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.polls = 4);
    let client = Client::new(&fake);
    let lines: Vec<String> = (0..8).map(|n| openai_line(&format!("r{n}"), n)).collect();
    let file = client.upload(&lines).await;
    let (_, batch) = client.create_openai(&file).await;
    let id = batch["id"].as_str().expect("an id").to_owned();
    for _ in 0..2 {
        client.openai("GET", &format!("/batches/{id}"), None).await;
    }
    let (_, batch) = client
        .openai("POST", &format!("/batches/{id}/cancel"), None)
        .await;
    assert_eq!(batch["status"], "cancelling");
    let (_, batch) = client.openai("GET", &format!("/batches/{id}"), None).await;
    assert_eq!(batch["status"], "cancelled");
    let errors = client.file(&batch, "error_file_id").await;
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|l| l["error"]["code"].as_str())
        .collect();
    assert_eq!(
        codes, ["batch_cancelled"; 4],
        "half the polls: half the lines done"
    );

    // A test may cancel a job itself; with `omit_unfinished` the rest is left out.
    fake.knobs(|k| k.omit_unfinished = true);
    let requests: Vec<Value> = (0..4)
        .map(|n| anthropic_request(&format!("a{n}"), n))
        .collect();
    let (_, batch) = client
        .anthropic("POST", "", Some(json!({"requests": requests})))
        .await;
    let id = batch["id"].as_str().expect("an id").to_owned();
    assert!(fake.cancel(&id));
    let (_, batch) = client.anthropic("GET", &format!("/{id}"), None).await;
    assert_eq!(batch["processing_status"], "ended");
    let results = client
        .text(&format!("/v1/messages/batches/{id}/results"), true)
        .await;
    assert!(results.is_empty(), "{results:?}");
}

#[tokio::test]
async fn jobs_over_the_limit_and_calls_without_a_key_are_refused() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.max_requests = 3);
    let client = Client::new(&fake);
    let lines: Vec<String> = (0..4).map(|n| openai_line(&format!("r{n}"), n)).collect();
    let file = client.upload(&lines).await;
    let (status, body) = client.create_openai(&file).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let requests: Vec<Value> = (0..4)
        .map(|n| anthropic_request(&format!("r{n}"), n))
        .collect();
    let (status, body) = client
        .anthropic("POST", "", Some(json!({"requests": requests})))
        .await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );
    assert_eq!((fake.jobs(), fake.submitted().len()), (0, 0));
    let status = reqwest::Client::new()
        .get(format!("{}/v1/messages/batches/msgbatch_1", fake.uri()))
        .send()
        .await
        .expect("answers")
        .status();
    assert_eq!(status, 401);
}

/// klartext's wire layer and the fake agree, for both providers.
#[tokio::test]
async fn klartexts_wire_layer_runs_a_job_on_the_fake() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.fail_every = Some(3));
    let env = TestEnv::new();
    for (kind, base) in [
        ("openai", fake.openai_base()),
        ("anthropic", fake.anthropic_base()),
    ] {
        let backend = library_backend(&env, kind, &base, "poll_secs = 0.05\n");
        assert_eq!(backend.poll_secs(), 0.05);
        let lines = protocol_lines(&backend, 6);
        let submitted = backend.submit_job(&lines).await.expect("submitted");
        let status = loop {
            let status = backend.job_status(&submitted.id).await.expect("status");
            if status.phase != JobPhase::Running {
                break status;
            }
            tokio::time::sleep(Duration::from_secs_f64(backend.poll_secs())).await;
        };
        assert_eq!(
            (status.phase, status.total, status.succeeded, status.failed),
            (JobPhase::Ended, 6, 4, 2),
            "{kind}"
        );
        let mut results = backend.job_results(&submitted.id).await.expect("results");
        results.sort_by(|a, b| a.0.cmp(&b.0));
        let failed: Vec<&str> = results
            .iter()
            .filter(|(_, r)| matches!(r, LineResult::Failed(f) if f.reason == LineReason::Errored { retryable: true }))
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(failed, ["r02", "r05"], "{kind}");
        let LineResult::Reply(reply) = &results[0].1 else {
            panic!("{kind}: a reply");
        };
        assert!(
            reply.text.contains("The restored English of paragraph s0"),
            "{kind}"
        );
        assert_eq!(reply.usage.requests, 1);
    }
    assert_eq!(fake.jobs(), 2);
}
