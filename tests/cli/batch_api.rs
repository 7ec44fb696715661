//! `fix DIR -o OUT --batch-api` against the fake of both batch APIs
//! (`tests/support/fake_batches.rs`): a corpus over several jobs with a failed fifth, an
//! interrupted wait resumed, `--no-wait` collected by later runs, an expired and a cancelled
//! job, `klartext jobs`. Every run checks what the provider was sent: no line twice unless it
//! failed, nothing synchronous unless few were left to retry.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{TestEnv, stderr_of, stdout_of};
use crate::fake_batches::FakeBatches;
use crate::fake_batches_selftest::protocol_fake;

const KEY: &str = "batch-api-test-key-4711";

fn article(n: usize) -> String {
    format!(
        "Der Bericht {n} sagt, dass die Firma im Jahr {} am hinteren Fuß erwischt wurde.",
        1900 + n
    )
}

/// `files` one-paragraph articles under `in/`, and a config whose restore backend (of `kind`)
/// is the fake, polled every 50 ms; one request per file unless `extra` turns packing on.
fn setup(fake: &FakeBatches, kind: &str, files: usize, extra: &str) -> TestEnv {
    let env = TestEnv::new();
    let (base, model) = match kind {
        "openai" => (fake.openai_base(), "gpt-4.1-mini"),
        _ => (fake.anthropic_base(), "claude-sonnet-4-5"),
    };
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"{kind}\"\nrefine = 0\n[backends.{kind}]\nkind = \"{kind}\"\n\
             model = \"{model}\"\nbase_url = \"{base}\"\npoll_secs = 0.05\n{}",
            if extra.contains("pack_documents") {
                extra.to_owned()
            } else {
                format!("pack_documents = false\n{extra}")
            }
        ),
    );
    for n in 0..files {
        env.write(&format!("in/doc{n:03}.de.txt"), article(n));
    }
    env
}

/// `klartext fix in -o out --batch-api` with `extra`, run off the test's runtime so the fake
/// keeps answering.
fn fix(env: &TestEnv, extra: &[&str]) -> std::process::Output {
    klartext(
        env,
        &[
            "fix",
            "in",
            "-o",
            "out",
            "--batch-api",
            "--fail-on",
            "never",
        ],
        extra,
    )
}

/// `klartext jobs out` with `extra`, run like [`fix`].
fn jobs(env: &TestEnv, extra: &[&str]) -> std::process::Output {
    klartext(env, &["jobs", "out"], extra)
}

fn klartext(env: &TestEnv, args: &[&str], extra: &[&str]) -> std::process::Output {
    tokio::task::block_in_place(|| {
        env.cmd()
            .env("OPENAI_API_KEY", KEY)
            .env("ANTHROPIC_API_KEY", KEY)
            .args(args)
            .args(extra)
            .output()
            .expect("klartext runs")
    })
}

/// How many outputs are written, each with its restored paragraph.
fn written(env: &TestEnv, files: usize) -> usize {
    (0..files)
        .filter(|n| {
            let path = env.path(&format!("out/doc{n:03}.en.txt"));
            std::fs::read_to_string(path).is_ok_and(|t| t.contains("The restored English"))
        })
        .count()
}

fn records(env: &TestEnv) -> Vec<serde_json::Value> {
    let dir = env.path("out/.klartext/jobs");
    let mut found: Vec<serde_json::Value> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|b| serde_json::from_slice(&b).ok())
        .collect();
    found.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corpus_goes_out_in_jobs_within_the_limit_and_a_failed_fifth_is_retried() {
    let fake = protocol_fake().await;
    fake.knobs(|k| {
        k.fail_every = Some(5);
        k.max_requests = 120;
    });
    let env = setup(&fake, "openai", 200, "job_requests = 120");
    // Half a second of quiet before a wave is submitted, so that a loaded machine still
    // gathers the corpus into few jobs.
    let config = String::from_utf8(env.read(".klartext.toml")).expect("UTF-8");
    env.write(
        ".klartext.toml",
        config.replace("poll_secs = 0.05", "poll_secs = 0.5"),
    );
    let output = fix(&env, &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(written(&env, 200), 200, "{stderr}");
    // 200 lines in jobs of at most 120 (a document that is slow to get ready may make a job
    // of its own), then every fifth line of each job, which failed, again in a later one.
    let sizes = fake.job_sizes();
    let again = fake.duplicate_ids().len();
    // A late job's few failures go out one by one instead of as another job.
    let direct = fake.count("POST", "/v1/chat/completions");
    // Every fifth line of a job fails the first time it is submitted: 40 when the corpus
    // made two jobs, a few more or fewer when slow documents joined a later one.
    assert!(
        (20..=60).contains(&(again + direct)),
        "{again} + {direct} failed: {sizes:?}"
    );
    assert_eq!(sizes.iter().sum::<usize>(), 200 + again, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 120), "{sizes:?}");
    assert!(sizes.len() >= 3, "{sizes:?}");
    // Only the failed lines went out twice, each exactly twice.
    assert_eq!(fake.submitted().len(), 200 + again);
    let summary = format!(
        "batch: {} jobs submitted ({} requests, {again} again after failing), {} collected",
        sizes.len(),
        200 + again,
        sizes.len()
    );
    assert!(stderr.contains(&summary), "{summary}\n{stderr}");
    // The batch price: half of gpt-4.1-mini's $0.40/$1.60 per million for the 1,000 tokens
    // in and 200 out the fake reports per line; lines sent directly at the full price.
    let record: serde_json::Value =
        serde_json::from_slice(&env.read("out/klartext-report.json")).expect("the run record");
    let spent = record["cost"]["total"]["USD"]
        .as_f64()
        .expect("a cost in USD");
    let line = 1000.0 * 0.4e-6 + 200.0 * 1.6e-6;
    let expected = (200 - direct) as f64 * line / 2.0 + direct as f64 * line;
    assert!(
        (spent - expected).abs() < 1e-9,
        "{spent} spent, {expected} expected"
    );
    assert!(stderr.contains("cost: $"), "{stderr}");
    // Each job was recorded, and is recorded as collected.
    let records = records(&env);
    assert_eq!(records.len(), sizes.len());
    assert!(
        records.iter().all(|r| r["state"] == "collected"),
        "{records:?}"
    );
    let lines: usize = records
        .iter()
        .map(|r| r["lines"].as_object().map_or(0, |l| l.len()))
        .sum();
    assert_eq!(lines, 200 + again);
    assert!(
        records[0]["lines"]
            .as_object()
            .is_some_and(|l| l.values().all(|v| {
                v.as_str()
                    .is_some_and(|v| v.starts_with("in/doc") && v.ends_with(".de.txt#s0"))
            })),
        "each line names its document and segments: {}",
        records[0]
    );
    // A second run finds everything in the cache and submits nothing.
    let again = fix(&env, &["--force"]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert_eq!(fake.jobs(), sizes.len());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_leaves_the_job_running_and_the_rerun_collects_it() {
    let fake = protocol_fake().await;
    // About 2 s of polls before the job ends.
    fake.knobs(|k| k.polls = 40);
    // Packed: small documents share requests, and a re-run must build the same ones.
    let env = setup(&fake, "openai", 12, "pack_documents = true");
    let child = env
        .std_cmd()
        .env("OPENAI_API_KEY", KEY)
        .args([
            "fix",
            "in",
            "-o",
            "out",
            "--batch-api",
            "--fail-on",
            "never",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("klartext starts");
    let started = Instant::now();
    while records(&env).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no job was recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let output = tokio::task::block_in_place(|| child.wait_with_output()).expect("it ends");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("1 batch job still running"), "{stderr}");
    assert!(
        stderr.contains("run the same command again to collect"),
        "{stderr}"
    );
    assert_eq!(written(&env, 12), 0);
    assert_eq!(fake.jobs(), 1);

    let output = fix(&env, &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(written(&env, 12), 12);
    assert_eq!(fake.jobs(), 1, "nothing was submitted again");
    assert!(fake.duplicate_ids().is_empty());
    let lines = fake.submitted().len();
    assert!(lines < 12, "{lines} requests for 12 small files");
    let resumed = if lines == 1 {
        "1 request from earlier runs' jobs".to_owned()
    } else {
        format!("{lines} requests from earlier runs' jobs")
    };
    assert!(stderr.contains(&resumed), "{resumed}\n{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_wait_exits_75_and_later_runs_collect_without_submitting_twice() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.polls = 3);
    let env = setup(&fake, "anthropic", 6, "");
    let first = fix(&env, &["--no-wait"]);
    let stderr = stderr_of(&first);
    assert_eq!(first.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("still running at the provider"), "{stderr}");
    assert_eq!(written(&env, 6), 0);

    let listed = jobs(&env, &[]);
    let table = stdout_of(&listed);
    assert_eq!(listed.status.code(), Some(0), "{}", stderr_of(&listed));
    assert!(table.contains(&fake.job_ids()[0]), "{table}");
    assert!(table.contains("in_progress"), "{table}");

    let mut runs = 1;
    loop {
        let next = fix(&env, &["--no-wait"]);
        runs += 1;
        match next.status.code() {
            Some(75) if runs < 6 => continue,
            Some(0) => break,
            other => panic!("run {runs} ended with {other:?}: {}", stderr_of(&next)),
        }
    }
    assert_eq!(written(&env, 6), 6);
    assert_eq!(fake.jobs(), 1);
    assert!(fake.duplicate_ids().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_job_keeps_what_finished_and_the_few_left_go_out_one_by_one() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.expire_keeping = Some(7));
    let env = setup(&fake, "anthropic", 10, "");
    let output = fix(&env, &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(written(&env, 10), 10);
    assert_eq!(fake.jobs(), 1);
    assert_eq!(
        fake.count("POST", "/v1/messages"),
        3,
        "the expired three, synchronously"
    );
    assert!(stderr.contains("3 requests sent one by one"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_job_keeps_its_finished_lines_and_the_next_run_submits_the_rest() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.polls = 4);
    let env = setup(&fake, "openai", 8, "");
    let first = fix(&env, &["--no-wait"]);
    assert_eq!(first.status.code(), Some(75), "{}", stderr_of(&first));
    // Half the polls: half the lines are done when the cancel arrives.
    let id = fake.job_ids()[0].clone();
    let _ = fix(&env, &["--no-wait"]);
    let cancelled = jobs(&env, &["--cancel"]);
    assert_eq!(
        cancelled.status.code(),
        Some(0),
        "{}",
        stderr_of(&cancelled)
    );
    assert!(stdout_of(&cancelled).contains(&id));
    // The run after the cancel collects the finished half; the rest were not done.
    let collect = fix(&env, &[]);
    let stderr = stderr_of(&collect);
    let done = written(&env, 8);
    assert_eq!(done, 4, "{stderr}");
    assert_eq!(collect.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("4 not started"), "{stderr}");
    assert_eq!(records(&env)[0]["status"], "cancelled");
    assert_eq!(
        fake.jobs(),
        1,
        "the cancelled lines are not submitted again in that run"
    );
    // The next run submits only what the cancelled job did not finish.
    let rest = fix(&env, &[]);
    assert_eq!(rest.status.code(), Some(0), "{}", stderr_of(&rest));
    assert_eq!(written(&env, 8), 8);
    assert_eq!(fake.job_sizes(), vec![8, 4]);
    assert_eq!(fake.duplicate_ids().len(), 4);
}

#[test]
fn batch_mode_needs_an_output_and_a_backend_with_a_batch_api() {
    let env = TestEnv::new();
    env.write("a.de.txt", article(1));
    env.write(
        ".klartext.toml",
        "[passes]\nrestore = \"local\"\n[backends.local]\nkind = \"ollama\"\nmodel = \"m\"\n",
    );
    let stdout_run = env
        .cmd()
        .args(["fix", "a.de.txt", "--batch-api"])
        .output()
        .expect("runs");
    assert_eq!(stdout_run.status.code(), Some(2));
    assert!(stderr_of(&stdout_run).contains("--batch-api needs an output"));
    let ollama = env
        .cmd()
        .args(["fix", "a.de.txt", "-o", "a.en.txt", "--batch-api"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&ollama);
    assert_eq!(ollama.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no backend of the run has a batch API (local has none)"),
        "{stderr}"
    );
    assert!(!Path::new(&env.path("a.en.txt")).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_the_provider_refuses_fails_the_run_and_its_upload_is_deleted() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.max_requests = 3);
    let env = setup(&fake, "openai", 5, "");
    let out = fix(&env, &["--view", "none"]);
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("more than the limit of 3"), "{stderr}");
    assert!(
        stderr.contains("openai refused a batch job of 5 requests")
            && stderr.contains("lower job_requests or job_bytes in [backends.openai]"),
        "{stderr}"
    );
    assert_eq!(fake.uploads().len(), 1);
    let deleted = fake
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE" && r.path.starts_with("/v1/files/"))
        .count();
    assert_eq!(deleted, 1, "{:?}", fake.requests());
    assert!(fake.file_ids().is_empty(), "{:?}", fake.file_ids());
    assert_eq!(written(&env, 5), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_the_provider_no_longer_knows_is_named_with_its_record() {
    let fake = protocol_fake().await;
    fake.knobs(|k| k.polls = 3);
    let env = setup(&fake, "openai", 2, "");
    let first = fix(&env, &["--no-wait"]);
    assert_eq!(first.status.code(), Some(75), "{}", stderr_of(&first));
    // The provider forgets the job (deleted, or past its retention).
    let id = fake.job_ids()[0].clone();
    assert!(fake.forget(&id));
    let record = format!("out/.klartext/jobs/openai-{id}.json");
    assert!(std::path::Path::new(&env.path(&record)).is_file());

    let again = fix(&env, &["--view", "none"]);
    let stderr = stderr_of(&again);
    assert_ne!(again.status.code(), Some(0), "{stderr}");
    let told = format!("the provider does not know batch job {id}");
    assert!(stderr.contains(&told), "{stderr}");
    assert!(stderr.contains(&format!("delete {record}")), "{stderr}");
    assert!(!stderr.contains("and the model name"), "{stderr}");
    let listed = jobs(&env, &[]);
    assert!(stdout_of(&listed).contains(&told), "{}", stdout_of(&listed));
    let hints = stderr_of(&listed);
    assert!(
        hints.contains("delete") && !hints.contains("to collect"),
        "{hints}"
    );

    // Deleted as told, the record's requests go out again and every file is written.
    std::fs::remove_file(env.path(&record)).expect("removed");
    let last = fix(&env, &["--view", "none"]);
    assert_eq!(last.status.code(), Some(0), "{}", stderr_of(&last));
    assert_eq!(written(&env, 2), 2);
    assert_eq!(fake.jobs(), 2);
}
