//! One report for the whole run (issue 14, items 1 and 2): a folder of 50 files with mixed
//! outcomes — ok, flagged, a binary file that fails, a quota stop that leaves the rest not
//! started — gives one `--report` covering every file, and an `OUT/klartext-report.json`
//! that validates against `schemas/klartext-report.schema.json` and whose totals are the sum
//! of its files and the numbers the terminal printed. `browser.rs` loads the same run's page
//! in Chromium.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::batch::{FIX_TREE, configure, run_record};
use crate::common::{TestEnv, sample, stderr_of};
use crate::fake_openai::{Behaviour, FakeOpenai};

pub const FILES: usize = 50;
/// Replies the fake gives before the quota runs out: one per file, one paragraph each.
const QUOTA: usize = 30;

/// The run record's JSON Schema, compiled once.
fn schema() -> &'static Validator {
    static SCHEMA: OnceLock<Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/schemas/klartext-report.schema.json"
        ));
        let schema: Value = serde_json::from_str(text).expect("the schema is JSON");
        jsonschema::draft202012::new(&schema).expect("the schema compiles")
    })
}

/// Every way `record` breaks the schema, as `path: message`.
pub fn violations(record: &Value) -> Vec<String> {
    schema()
        .iter_errors(record)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// A folder of [`FILES`] files: every third one a quiet paragraph verify has nothing to say
/// about, the others reporting figures the fake's answer leaves out (errors: flagged), and
/// `blob.txt`, which is binary and fails.
pub fn corpus(env: &TestEnv) {
    for n in 0..FILES - 1 {
        let text = if n % 3 == 0 {
            format!("Die Katze schläft ruhig auf dem Sofa {}.", words(n))
        } else {
            format!(
                "Der Bericht {n} sagt, dass die Firma {} Milliarden Euro verlor.",
                n + 2
            )
        };
        env.write(&format!("in/part{}/doc{n:02}.de.txt", n % 4), text);
    }
    env.write("in/blob.txt", b"\x89PNG\r\n\x1a\n\0\0\0");
}

/// Distinct German words, so that no two files share a cache entry.
fn words(n: usize) -> &'static str {
    const WORDS: [&str; 17] = [
        "und träumt",
        "am Abend",
        "im Winter",
        "nach dem Essen",
        "bei Regen",
        "ganz still",
        "ohne Sorgen",
        "mit Freude",
        "den ganzen Tag",
        "am Morgen",
        "nach der Arbeit",
        "im Sommer",
        "bei Sonne",
        "vor dem Fenster",
        "neben dem Hund",
        "seit Stunden",
        "wie immer",
    ];
    WORDS[n / 3 % WORDS.len()]
}

/// `fix in -o out --report REPORT` over [`corpus`] against a fake whose quota runs out after
/// [`QUOTA`] replies, one request at a time: the run's stderr.
pub async fn quota_run(env: &TestEnv, report: &str) -> String {
    let fake = FakeOpenai::start(Behaviour {
        quota_after: Some(QUOTA),
        ..Behaviour::default()
    })
    .await;
    configure(env, &fake.url, "max_attempts = 2\nconcurrency = 1\n");
    corpus(env);
    let out = env
        .cmd()
        .args(FIX_TREE)
        .args(["--report", report, "--jobs", "1"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "files failed: {stderr}");
    stderr
}

fn count(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("a count: {value}"))
}

/// The record's checks that hold for any run: it validates, each file's `repairs` is what
/// its paragraphs list, and the totals are the sum of the files.
pub fn check_record(record: &Value) {
    let wrong = violations(record);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let files = record["files"].as_array().expect("files");
    let totals = &record["totals"];
    assert_eq!(count(&totals["files"]), files.len() as u64);
    let mut statuses: BTreeMap<&str, u64> = BTreeMap::new();
    for file in files {
        *statuses
            .entry(file["status"].as_str().expect("a status"))
            .or_default() += 1;
        let listed: usize = file["segments"]
            .as_array()
            .expect("segments")
            .iter()
            .map(|s| s["repairs"].as_array().map_or(0, Vec::len))
            .sum();
        assert_eq!(count(&file["repairs"]), listed as u64, "{file:#}");
    }
    for status in ["ok", "flagged", "failed", "not_started", "empty"] {
        assert_eq!(
            count(&totals[status]),
            statuses.get(status).copied().unwrap_or(0),
            "{status}: {totals}"
        );
    }
    for key in [
        "paragraphs",
        "changed",
        "repairs",
        "errors",
        "warnings",
        "infos",
        "doubts",
    ] {
        let sum: u64 = files.iter().map(|f| count(&f[key])).sum();
        assert_eq!(count(&totals[key]), sum, "{key} is the sum of the files");
    }
    // Tokens and characters come only from replies, each counted for its file.
    for key in [
        "input_tokens",
        "cached_input_tokens",
        "output_tokens",
        "billed_characters",
    ] {
        let sum: u64 = files
            .iter()
            .flat_map(|f| f["usage"].as_object().into_iter().flatten())
            .map(|(_, u)| count(&u[key]))
            .sum();
        assert_eq!(count(&totals[key]), sum, "{key} is the sum of the files");
    }
    // Requests: the files' answered ones, and the run's every one sent.
    let answered: u64 = files
        .iter()
        .flat_map(|f| f["usage"].as_object().into_iter().flatten())
        .map(|(_, u)| count(&u["requests"]))
        .sum();
    let sent: u64 = record["usage"]
        .as_object()
        .expect("usage")
        .values()
        .map(|u| count(&u["requests"]))
        .sum();
    assert_eq!(count(&totals["requests"]), sent);
    assert!(answered <= sent, "{answered} answered, {sent} sent");
}

/// The statuses of the rows of an HTML report's summary table, by file name.
pub fn html_rows(page: &str) -> BTreeMap<String, String> {
    let table = page
        .split_once("<tbody>")
        .and_then(|(_, rest)| rest.split_once("</tbody>"))
        .map(|(rows, _)| rows)
        .expect("the summary table");
    table
        .lines()
        .filter(|line| line.starts_with("<tr"))
        .map(|row| {
            let name = row
                .split_once("<a href=\"#")
                .and_then(|(_, r)| r.split_once("\">"))
                .and_then(|(_, r)| r.split_once("</a>"))
                .map(|(name, _)| name.to_owned())
                .expect("a linked name");
            let status = row
                .split_once("<span class=\"status ")
                .and_then(|(_, r)| r.split_once("\">"))
                .and_then(|(_, r)| r.split_once("</span>"))
                .map(|(status, _)| status.replace(' ', "_"))
                .expect("a status");
            (name, status)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_stopped_folder_run_has_one_report_and_a_truthful_record() {
    let env = TestEnv::new();
    let stderr = quota_run(&env, "report.html").await;
    let record = run_record(&env);
    check_record(&record);
    assert_eq!(record["schema"], "klartext.run/2");
    let files = record["files"].as_array().expect("files");
    assert_eq!(files.len(), FILES, "every file is listed");
    let status_of = |name: &str| {
        files
            .iter()
            .find(|f| f["input"] == name)
            .map(|f| f["status"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(status_of("in/blob.txt").as_deref(), Some("failed"));
    let totals = &record["totals"];
    let ok = count(&totals["ok"]);
    let flagged = count(&totals["flagged"]);
    let failed = count(&totals["failed"]);
    let not_started = count(&totals["not_started"]);
    assert_eq!(
        ok + flagged,
        QUOTA as u64,
        "each reply finished a file: {totals}"
    );
    assert!(ok > 0 && flagged > 0 && not_started > 0, "{totals}");
    assert_eq!(failed, 2, "the binary file and the one the quota cut off");
    assert!(
        record["stopped"][0]
            .as_str()
            .is_some_and(|s| s.contains("quota"))
    );
    // The terminal said the same numbers.
    assert!(
        stderr.contains(&format!(
            "{FILES} files: {ok} ok, {flagged} flagged, {failed} failed, {not_started} not \
             started · {} requests",
            count(&totals["requests"])
        )),
        "{stderr}"
    );
    let (errors, warnings) = (count(&totals["errors"]), count(&totals["warnings"]));
    let found = match warnings {
        0 => format!("verify: {errors} errors to check"),
        _ => format!("verify: {errors} errors and {warnings} warnings to check"),
    };
    assert!(errors > 0 && stderr.contains(&found), "{stderr}");
    assert!(stderr.contains("report: report.html"), "{stderr}");

    // One page: every file of the run in the summary, with the record's status.
    let page = String::from_utf8(env.read("report.html")).expect("UTF-8");
    let rows = html_rows(&page);
    assert_eq!(rows.len(), FILES);
    for file in files {
        let name = file["input"].as_str().expect("input");
        assert_eq!(
            rows.get(name),
            file["status"].as_str().map(str::to_owned).as_ref()
        );
    }
    assert_eq!(page.matches("<details id=\"f").count(), FILES);
    assert!(
        page.contains("looks like a binary file"),
        "the failure says why"
    );
    assert!(page.contains("not started"));
    assert!(!page.contains("<script"));
}

#[test]
fn a_run_report_in_every_format_covers_every_file() {
    let env = TestEnv::new();
    for name in ["tech-news.de.txt", "interview.de.txt", "cloud-report.de.md"] {
        let text = std::fs::read(sample(name)).expect("sample");
        env.write(&format!("in/{name}"), &text);
    }
    env.write("in/blob.txt", b"\0\0\0binary");
    env.write("in/empty.txt", "  \n");
    // `fix` with `args` and `--fail-on never`, exiting with `code`: its stderr.
    let run = |code: i32, args: &[&str]| {
        let out = env
            .cmd()
            .args(args)
            .args(["--fail-on", "never"])
            .output()
            .expect("runs");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(code), "{stderr}");
        stderr
    };
    // The binary file fails the runs over the folder.
    let failing = 2;

    // The run record as `--report FILE.json`: the same schema, each change record added.
    let stderr = run(failing, &["fix", "in", "-o", "out", "--report", "run.json"]);
    assert!(stderr.contains("report: run.json"), "{stderr}");
    let record: Value = serde_json::from_slice(&env.read("run.json")).expect("JSON");
    check_record(&record);
    let folder = run_record(&env);
    check_record(&folder);
    let files = record["files"].as_array().expect("files");
    assert_eq!(files.len(), 5);
    for file in files {
        let finished = matches!(file["status"].as_str(), Some("ok" | "flagged"));
        assert_eq!(
            file["diff"]["schema"] == "klartext.report/1",
            finished,
            "{file:#}"
        );
    }
    assert!(
        folder["files"][0].get("diff").is_none(),
        "the folder's record keeps no texts"
    );
    // The schema is no formality: a record broken on purpose is refused where it broke.
    let mut broken = folder.clone();
    broken["files"][0]["status"] = "done".into();
    broken["totals"]
        .as_object_mut()
        .expect("totals")
        .remove("doubts");
    let wrong = violations(&broken);
    assert!(
        wrong.iter().any(|w| w.starts_with("/files/0/status:"))
            && wrong
                .iter()
                .any(|w| w.starts_with("/totals:") && w.contains("doubts")),
        "{wrong:?}"
    );
    assert_eq!(record["totals"]["warnings"], folder["totals"]["warnings"]);

    // Markdown: the table first, then a section per file.
    run(failing, &["fix", "in", "-o", "out", "--report", "run.md"]);
    let markdown = String::from_utf8(env.read("run.md")).expect("UTF-8");
    let table = markdown
        .lines()
        .filter(|l| l.starts_with("| ["))
        .collect::<Vec<_>>();
    assert_eq!(table.len(), 5, "{markdown}");
    assert!(table[0].starts_with("| [in/blob.txt]") && table[0].contains("failed"));
    assert!(table[4].starts_with("| [in/empty.txt]") && table[4].contains("empty"));
    assert_eq!(markdown.matches("<a id=\"f").count(), 5);
    assert!(markdown.contains("{~~"), "the changes in CriticMarkup");

    // Files named one by one: one report of both, not one overwriting the other.
    let stderr = run(
        0,
        &[
            "fix",
            "in/tech-news.de.txt",
            "in/interview.de.txt",
            "--report",
            "two.html",
            "--view",
            "none",
        ],
    );
    let page = String::from_utf8(env.read("two.html")).expect("UTF-8");
    let rows = html_rows(&page);
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        ["in/interview.de.txt", "in/tech-news.de.txt"]
    );
    assert_eq!(stderr.matches("two.html").count(), 1, "written once");
    // Few files: every section open; the ids of the second start with its place.
    assert_eq!(page.matches("<details id=\"f").count(), 2);
    assert!(page.contains("<details id=\"f2\" class=\"file flagged\" open>"));
    assert!(page.contains("id=\"f2-p1\""));

    // One file keeps the report of one document.
    run(
        0,
        &[
            "fix",
            "in/tech-news.de.txt",
            "--report",
            "one.html",
            "--view",
            "none",
        ],
    );
    let page = String::from_utf8(env.read("one.html")).expect("UTF-8");
    assert!(!page.contains("table class=\"files\"") && page.contains("id=\"p1\""));
}

/// Ctrl-C: the report is still written, covering what finished, the rest not started.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_still_writes_the_report_of_what_was_done() {
    let fake = FakeOpenai::start(Behaviour {
        latency: std::time::Duration::from_millis(150),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "concurrency = 1\n");
    corpus(&env);
    std::fs::remove_file(env.path("in/blob.txt")).expect("remove");
    let child = env
        .std_cmd()
        .args(FIX_TREE)
        .args(["--report", "r.md"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let (out, stderr) = crate::batch::interrupt(child, "nothing was answered", || {
        fake.counts.ok.load(std::sync::atomic::Ordering::SeqCst) >= 3
    })
    .await;
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let record = run_record(&env);
    check_record(&record);
    assert_eq!(record["interrupted"], true);
    let totals = &record["totals"];
    assert_eq!(count(&totals["files"]), (FILES - 1) as u64);
    assert!(count(&totals["not_started"]) > 0, "{totals}");
    assert!(
        count(&totals["ok"]) + count(&totals["flagged"]) >= 3,
        "{totals}"
    );
    let markdown = String::from_utf8(env.read("r.md")).expect("UTF-8");
    assert_eq!(
        markdown.lines().filter(|l| l.starts_with("| [")).count(),
        FILES - 1
    );
    assert!(markdown.contains("Interrupted: Ctrl-C"), "{markdown}");
}
