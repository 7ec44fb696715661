//! `review` from the command line: the record `fix` leaves, the refusal without a terminal,
//! and the non-interactive decisions (`--accept-all`, `--reject-all`, `--apply`).

use crate::common::{TestEnv, stderr_of, stdout_of};
use crate::mocks::Model;
use crate::online::{fix, project, servers};

const DRAFT: &str = "Literal draft of a paragraph.";
const FINAL: &str = "The restored English of paragraph";

fn review(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.cmd().arg("review").args(args).output().expect("runs")
}

fn text(env: &TestEnv, file: &str) -> String {
    String::from_utf8(env.read(file)).expect("UTF-8")
}

/// Paragraph texts of an output (the sample has one paragraph per line).
fn paragraphs(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

async fn translated() -> (TestEnv, crate::online::Servers) {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    (env, servers)
}

#[tokio::test]
async fn fix_leaves_a_record_and_review_needs_a_terminal() {
    let (env, _servers) = translated().await;
    let record: serde_json::Value =
        serde_json::from_slice(&env.read(".klartext/article.en.txt.json")).expect("JSON record");
    assert_eq!(record["schema"], "klartext.record/1");
    assert_eq!(record["output"], "article.en.txt");
    let first = &record["paragraphs"][0];
    assert!(
        first["old"].as_str().is_some_and(|d| d.starts_with(DRAFT)),
        "{first}"
    );
    assert!(
        first["new"].as_str().is_some_and(|f| f.starts_with(FINAL)),
        "{first}"
    );
    let raw = String::from_utf8(env.read(".klartext/article.en.txt.json")).expect("UTF-8");
    assert!(
        !raw.contains("sk-test") && !raw.contains("deepl-test"),
        "no keys in records"
    );

    let out = review(&env, &["article.en.txt"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for hint in [
        "needs a terminal",
        "--accept-all",
        "--reject-all",
        "--apply",
    ] {
        assert!(stderr.contains(hint), "{hint}: {stderr}");
    }
}

#[tokio::test]
async fn reject_all_writes_the_drafts_and_a_rerun_of_fix_keeps_the_decisions() {
    let (env, _servers) = translated().await;
    let before = text(&env, "article.en.txt");
    let count = paragraphs(&before).len();
    let out = review(&env, &["article.en.txt", "--reject-all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("rejected"), "{}", stderr_of(&out));
    let after = text(&env, "article.en.txt");
    assert_eq!(
        paragraphs(&after).len(),
        count,
        "the same paragraphs, in place"
    );
    assert!(
        paragraphs(&after).iter().all(|p| p.starts_with(DRAFT)),
        "{after}"
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&env.read(".klartext/article.en.txt.review.json")).expect("saved");
    assert_eq!(saved["schema"], "klartext.decisions/1");
    assert_eq!(saved["paragraphs"][0]["decision"], "reject");

    // fix again (from the cache): the output keeps the reviewed text.
    let again = fix(&env, &["article.de.txt", "--view", "none"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert!(stderr_of(&again).contains("kept"), "{}", stderr_of(&again));
    assert_eq!(text(&env, "article.en.txt"), after);

    // Accepting everything gives back what fix first wrote.
    let out = review(&env, &["article.en.txt", "--accept-all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(text(&env, "article.en.txt"), before);
}

#[tokio::test]
async fn apply_takes_decisions_from_a_file() {
    let (env, _servers) = translated().await;
    let before = text(&env, "article.en.txt");
    env.write(
        "mine.json",
        r#"{"schema": "klartext.decisions/1", "output": "article.en.txt", "paragraphs": [
            {"id": "s1", "decision": "reject"},
            {"id": "s2", "decision": "edit", "text": "My own words."}]}"#,
    );
    let out = review(&env, &["article.en.txt", "--apply", "mine.json", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    assert_eq!(summary[0]["rejected"], 1);
    assert_eq!(summary[0]["edited"], 1);
    assert_eq!(summary[0]["written"], true);
    let after = text(&env, "article.en.txt");
    let (old, new) = (paragraphs(&before), paragraphs(&after));
    assert_eq!(new[0], old[0]);
    assert!(new[1].starts_with(DRAFT), "{}", new[1]);
    assert_eq!(new[2], "My own words.");
    assert_eq!(new[3..], old[3..]);

    env.write(
        "bad.json",
        r#"{"schema": "klartext.decisions/1", "output": "article.en.txt", "paragraphs": [{"id": "s99", "decision": "accept"}]}"#,
    );
    let out = review(&env, &["article.en.txt", "--apply", "bad.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("s99"), "{}", stderr_of(&out));
    assert_eq!(text(&env, "article.en.txt"), after, "nothing written");
}

#[tokio::test]
async fn hand_edited_outputs_are_not_replaced_without_force() {
    let (env, _servers) = translated().await;
    let edited = format!("{}\nA line of my own.\n", text(&env, "article.en.txt"));
    env.write("article.en.txt", &edited);
    let out = review(&env, &["article.en.txt", "--accept-all"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("edited since klartext wrote it") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(text(&env, "article.en.txt"), edited);
    let out = review(&env, &["article.en.txt", "--reject-all", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!text(&env, "article.en.txt").contains("A line of my own."));
}

#[tokio::test]
async fn folders_and_reports_name_their_outputs() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    env.write("in/one.de.txt", "Der erste Absatz.\n\nDer zweite Absatz.\n");
    env.write("in/sub/two.de.md", "# Titel\n\nEin Absatz.\n");
    let out = fix(&env, &["in", "-o", "out"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let out = review(&env, &["out", "--accept-all", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    let names: Vec<&str> = summary
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["output"].as_str())
        .collect();
    assert_eq!(names, ["out/one.en.txt", "out/sub/two.en.md"]);
    assert_eq!(
        summary[0]["written"], false,
        "accepting all is what fix wrote"
    );

    let out = review(&env, &["out/klartext-report.json", "--reject-all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let two = text(&env, "out/sub/two.en.md");
    assert!(
        two.starts_with("# Literal draft"),
        "the heading's markup stays: {two}"
    );

    // The run's report names outputs as seen from where fix ran; from elsewhere they are
    // found below the report's folder.
    env.write("elsewhere/.keep", "");
    let out = env
        .cmd()
        .current_dir(env.path("elsewhere"))
        .args([
            "review",
            "../out/klartext-report.json",
            "--accept-all",
            "--json",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    assert_eq!(summary.as_array().map(Vec::len), Some(2), "{summary}");
    assert!(text(&env, "out/sub/two.en.md").starts_with("# The restored"));
}

#[test]
fn outputs_without_a_record_get_a_clear_error() {
    let env = TestEnv::new();
    env.write("plain.en.txt", "Some English.\n");
    let out = review(&env, &["plain.en.txt", "--accept-all"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("plain.en.txt") && stderr.contains("offline"),
        "{stderr}"
    );
    let out = review(&env, &["missing.en.txt"]);
    assert!(
        stderr_of(&out).contains("missing.en.txt"),
        "{}",
        stderr_of(&out)
    );
    std::fs::create_dir_all(env.path("empty")).expect("folder");
    let out = review(&env, &["empty"]);
    assert!(
        stderr_of(&out).contains("no outputs of fix"),
        "{}",
        stderr_of(&out)
    );
}

/// Saved decisions that cannot be read are an error for `fix` too: writing the output without
/// them would silently undo a review. The reviewed output stays as it was.
#[tokio::test]
async fn unreadable_saved_decisions_stop_fix_from_rewriting_the_output() {
    let (env, _servers) = translated().await;
    let out = review(&env, &["article.en.txt", "--reject-all"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let reviewed = env.read("article.en.txt");
    env.write(".klartext/article.en.txt.review.json", "{ not json");
    let out = fix(&env, &["article.de.txt", "--view", "none"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("article.en.txt.review.json") && stderr.contains("not a decisions file"),
        "{stderr}"
    );
    assert_eq!(
        env.read("article.en.txt"),
        reviewed,
        "the output is untouched"
    );
}
