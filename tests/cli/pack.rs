//! Packing small documents of a run into shared requests: fewer requests than files, every
//! file right, a failing document retried alone, and `--dry-run`'s tokens per paragraph token
//! on a folder of twenty small articles.

use serde_json::Value;
use wiremock::MockServer;

use crate::articles;
use crate::common::{TestEnv, stderr_of, stdout_of};
use crate::mocks::Model;
use crate::online::{Servers, fix, project, servers};

/// The chat requests the stand-in received: each one's segment ids.
async fn sent_ids(server: &MockServer) -> Vec<Vec<String>> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests
        .iter()
        .filter(|r| r.url.path().ends_with("/chat/completions"))
        .map(|r| {
            let body: Value = serde_json::from_slice(&r.body).expect("JSON");
            let user: Value =
                serde_json::from_str(body["messages"][1]["content"].as_str().unwrap_or("{}"))
                    .expect("protocol JSON");
            user["segments"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

/// A project on `servers` with the twenty small articles under `in/`.
fn folder_project(servers: &Servers) -> TestEnv {
    let env = project(servers, false);
    articles::write_folder(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"),
        &env.path("in"),
    );
    env
}

/// The paragraphs of article `n` under `in/`.
fn german_paragraphs(env: &TestEnv, n: usize) -> usize {
    String::from_utf8(env.read(&format!("in/article-{n:02}.de.txt")))
        .expect("UTF-8")
        .split("\n\n")
        .count()
}

/// Every output has one restored paragraph per German one, and no other document's.
fn assert_written(env: &TestEnv) {
    for n in 0..20 {
        let english =
            String::from_utf8(env.read(&format!("out/article-{n:02}.en.txt"))).expect("UTF-8");
        let paragraphs = german_paragraphs(env, n);
        assert_eq!(
            english.matches("The restored English").count(),
            paragraphs,
            "article {n}:\n{english}"
        );
    }
}

#[tokio::test]
async fn a_folder_of_small_files_goes_in_fewer_requests_than_files() {
    let servers = servers(Model::Good).await;
    let env = folder_project(&servers);
    let out = fix(&env, &["in", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_written(&env);
    let sent = sent_ids(&servers.chat).await;
    assert!(sent.len() < 20 / 2, "{} requests for 20 files", sent.len());
    // Ids are unique within a request and name their document.
    for ids in &sent {
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        // A pack of several documents names them (`d1.s0`); a document alone keeps `s0`.
        let packed = ids.iter().any(|id| id.starts_with("d1."));
        assert!(
            ids.iter().all(|id| id.starts_with('d') == packed),
            "{ids:?}"
        );
    }
    // Each document's segments went together, in order.
    let total: usize = sent.iter().map(Vec::len).sum();
    let german: usize = (0..20).map(|n| german_paragraphs(&env, n)).sum();
    assert_eq!(total, german, "each paragraph sent once");

    // The same run without packing: one request per file.
    let env = folder_project(&servers);
    let config = String::from_utf8(env.read(".klartext.toml")).expect("UTF-8");
    env.write(
        ".klartext.toml",
        config.replace(
            "[backends.openai]\n",
            "[backends.openai]\npack_documents = false\n",
        ),
    );
    let before = sent_ids(&servers.chat).await.len();
    let out = fix(&env, &["in", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(sent_ids(&servers.chat).await.len() - before, 20);
}

#[tokio::test]
async fn a_document_whose_part_of_a_packed_reply_fails_goes_again_alone() {
    let servers = servers(Model::EchoesSecondOfAPack).await;
    let env = folder_project(&servers);
    let out = fix(&env, &["in", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_written(&env);
    let sent = sent_ids(&servers.chat).await;
    // The document an id names in a pack; none for a document sent alone.
    let doc = |id: &str| {
        id.split_once('.')
            .map(|(d, _)| d.to_owned())
            .unwrap_or_default()
    };
    let packs: Vec<&Vec<String>> = sent
        .iter()
        .filter(|ids| ids.iter().any(|id| doc(id) != doc(&ids[0])))
        .collect();
    let retries: Vec<&Vec<String>> = sent
        .iter()
        .filter(|ids| ids.iter().all(|id| doc(id) == "d1"))
        .collect();
    assert!(!packs.is_empty(), "{sent:?}");
    // Each pack's second document went again alone, in one request, whole; the others were
    // kept from the pack's reply.
    assert_eq!(
        sent.len(),
        packs.len() * 2 + sent.iter().filter(|ids| ids[0] == "s0").count(),
        "{sent:?}"
    );
    for pack in &packs {
        let second: Vec<&String> = pack.iter().filter(|id| doc(id) == "d1").collect();
        assert!(
            retries
                .iter()
                .any(|r| r.iter().collect::<Vec<_>>() == second),
            "{second:?} not retried alone: {sent:?}"
        );
    }
}

#[tokio::test]
async fn dry_run_shows_at_most_two_and_a_half_tokens_per_paragraph_token() {
    let servers = servers(Model::Good).await;
    let env = folder_project(&servers);
    let out = fix(&env, &["in", "-o", "out", "--dry-run"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("per paragraph token"), "{stderr}");
    let out = fix(&env, &["in", "-o", "out", "--dry-run", "--json"]);
    let report: Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    let restore = report["plan"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["pass"] == "restore")
        .unwrap_or_else(|| panic!("a restore plan: {report}"));
    let figure = restore["per_paragraph_token"].as_f64().expect("the figure");
    eprintln!(
        "20 small articles: {figure} tokens per paragraph token, {} requests",
        restore["requests"]
    );
    assert!(
        figure <= 2.5,
        "{figure} tokens per paragraph token: {restore}"
    );
    assert!(restore["requests"].as_u64() < Some(20), "{restore}");
    assert_eq!(
        servers
            .chat
            .received_requests()
            .await
            .map_or(0, |r| r.len()),
        0
    );
}
