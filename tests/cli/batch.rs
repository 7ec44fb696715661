//! `fix DIR -o OUT` against a fake provider that injects latency and faults.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{TestEnv, stderr_of};
use crate::fake_openai::{Behaviour, FakeOpenai};

/// Distinct paragraphs, so no two files share a cache entry.
fn article(n: usize, paragraphs: usize) -> String {
    (0..paragraphs)
        .map(|p| {
            format!(
                "Der Bericht {n} sagt im Absatz {p}, dass die Firma am hinteren Fuß erwischt wurde und {} Milliarden US-Dollar verlor.",
                n * 100 + p
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The fake as the restore backend, six attempts a request unless `extra` says otherwise.
/// These tests count requests per file, so small files do not share requests unless `extra`
/// turns `pack_documents` on.
pub fn configure(env: &TestEnv, url: &str, extra: &str) {
    let default = |key: &str, line: &'static str| if extra.contains(key) { "" } else { line };
    let attempts = default("max_attempts", "max_attempts = 6\n");
    let pack = default("pack_documents", "pack_documents = false\n");
    env.write(
        ".klartext.toml",
        format!(
            "[passes]\nrestore = \"local\"\nrefine = 0\n[backends.local]\nkind = \"openai\"\nmodel = \"m\"\n\
             base_url = \"{url}\"\n{attempts}{pack}{extra}"
        ),
    );
}

fn corpus(env: &TestEnv, files: usize, paragraphs: usize) {
    for n in 0..files {
        env.write(
            &format!("in/part{}/doc{n}.de.txt", n % 3),
            article(n, paragraphs),
        );
    }
}

/// Every file below `dir`, relative to it, sorted.
fn outputs(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                found.push(relative.display().to_string());
            }
        }
    }
    found.sort();
    found
}

/// `fix in -o out`, findings not failing the run.
pub const FIX_TREE: [&str; 6] = ["fix", "in", "-o", "out", "--fail-on", "never"];

/// The folder run's record, `out/klartext-report.json`.
pub fn run_record(env: &TestEnv) -> serde_json::Value {
    serde_json::from_slice(&env.read("out/klartext-report.json")).expect("JSON")
}

/// Each file's status in a run record, in its order.
fn statuses(record: &serde_json::Value) -> Vec<&str> {
    record["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect()
}

/// The requests `fake` has had, failed ones included.
fn requests(fake: &FakeOpenai) -> usize {
    fake.counts
        .requests
        .load(std::sync::atomic::Ordering::SeqCst)
}

/// Every finished output is whole: one restored paragraph per source paragraph.
fn assert_complete(env: &TestEnv, file: &str, paragraphs: usize) {
    let text = String::from_utf8(env.read(file)).expect("UTF-8");
    assert_eq!(
        text.matches("The restored English").count(),
        paragraphs,
        "{file}:\n{text}"
    );
}

/// Once `ready` holds (within 20 s, else `what` fails the test), press Ctrl-C in `child` and
/// wait for it: its output and stderr.
#[cfg(unix)]
pub async fn interrupt(
    child: std::process::Child,
    what: &str,
    ready: impl Fn() -> bool,
) -> (std::process::Output, String) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tree_is_mirrored_with_the_right_files() {
    let fake = FakeOpenai::start(Behaviour::default()).await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "");
    env.write("in/a.de.txt", article(1, 2));
    env.write("in/deep/er/b.md", format!("# Titel\n\n{}", article(2, 1)));
    env.write("in/.hidden/c.txt", article(3, 1));
    env.write("in/skip/d.txt", article(4, 1));
    env.write("in/.gitignore", "skip/\n");
    env.write(
        "in/e.en.txt",
        "Already English, an output of an earlier run.",
    );
    env.write("in/notes.rtf", "{\\rtf1 not prose}");
    env.write("in/blob.txt", b"\x89PNG\r\n\x1a\n\0\0\0");
    let legacy_text = article(5, 1);
    let (legacy, _, _) = encoding_rs::WINDOWS_1252.encode(&legacy_text);
    env.write("in/legacy.txt", &legacy);
    #[cfg(unix)]
    std::os::unix::fs::symlink(env.path("in"), env.path("in/deep/loop")).expect("symlink");

    let out = env.cmd().args(FIX_TREE).output().expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the binary file fails the run: {stderr}"
    );
    assert!(
        stderr.contains("blob.txt") && stderr.contains("binary"),
        "{stderr}"
    );
    assert_eq!(
        outputs(&env.path("out")),
        [
            ".klartext/a.en.txt.json",
            ".klartext/legacy.en.txt.json",
            "a.en.txt",
            "deep/er/.klartext/b.en.md.json",
            "deep/er/b.en.md",
            "klartext-report.json",
            "legacy.en.txt"
        ],
        "{stderr}"
    );
    assert_complete(&env, "out/a.en.txt", 2);
    let legacy_out = env.read("out/legacy.en.txt");
    let (decoded, _, bad) = encoding_rs::WINDOWS_1252.decode(&legacy_out);
    assert!(!bad && decoded.contains("The restored English"));
    assert!(
        String::from_utf8(env.read("out/deep/er/b.en.md"))
            .expect("UTF-8")
            .starts_with("# ")
    );
    let report = run_record(&env);
    assert_eq!(report["totals"]["failed"], 1);
    assert_eq!(
        report["files"].as_array().map(Vec::len),
        Some(4),
        "a, b, blob, legacy"
    );
    assert!(
        stderr.contains("loop"),
        "the symlink loop is reported: {stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_are_retried_until_every_paragraph_is_done() {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(5),
        rate_limit_pct: 20,
        server_error_pct: 5,
        reset_pct: 2,
        truncate_pct: 1,
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "batch_tokens = 60\nconcurrency = 4\n");
    corpus(&env, 24, 4);
    let out = env.cmd().args(FIX_TREE).output().expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for n in 0..24 {
        assert_complete(&env, &format!("out/part{}/doc{n}.en.txt", n % 3), 4);
    }
    let faults = fake.counts.faults.load(std::sync::atomic::Ordering::SeqCst);
    assert!(faults > 5, "faults were injected: {faults}");
    let report = run_record(&env);
    assert!(report["totals"]["retries"].as_u64() > Some(0), "{report}");
    assert!(stderr.contains("retries"), "{stderr}");
    assert_eq!(
        fake.counts.duplicates(),
        0,
        "no paragraph was paid for twice"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quota_running_out_halfway_keeps_finished_files_and_the_rerun_finishes() {
    let fake = FakeOpenai::start(Behaviour {
        quota_after: Some(6),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "concurrency = 1\n");
    corpus(&env, 12, 2);
    let out = env
        .cmd()
        .args(FIX_TREE)
        .args(["--jobs", "1"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("quota") && stderr.contains("not finished"),
        "{stderr}"
    );
    assert!(stderr.contains("run the same command again"), "{stderr}");
    let done: Vec<String> = outputs(&env.path("out"))
        .into_iter()
        .filter(|p| p.ends_with(".en.txt"))
        .collect();
    assert_eq!(done.len(), 6, "{done:?}\n{stderr}");
    // One set of numbers: the report's statuses, its totals, the terminal and the provider.
    let report = run_record(&env);
    let statuses = statuses(&report);
    let count = |status: &str| statuses.iter().filter(|s| **s == status).count();
    let (ok, flagged) = (count("ok"), count("flagged"));
    assert_eq!(
        (ok + flagged, count("failed"), count("not_started")),
        (6, 1, 5),
        "{statuses:?}"
    );
    let totals = &report["totals"];
    let total = |key: &str| totals[key].as_u64().and_then(|n| usize::try_from(n).ok());
    assert_eq!(
        ["ok", "flagged", "failed", "not_started"].map(total),
        [Some(ok), Some(flagged), Some(1), Some(5)],
        "{totals}"
    );
    let sent = requests(&fake);
    assert_eq!(
        totals["requests"].as_u64(),
        Some(sent as u64),
        "a request that failed is a request too: {totals}"
    );
    assert!(
        stderr.contains(&format!(
            "12 files: {ok} ok, {flagged} flagged, 1 failed, 5 not started · {sent} requests"
        )),
        "{stderr}"
    );
    for n in 0..12 {
        let file = format!("out/part{}/doc{n}.en.txt", n % 3);
        if env.path(&file).exists() {
            assert_complete(&env, &file, 2);
        }
    }

    let fresh = FakeOpenai::start(Behaviour::default()).await;
    configure(&env, &fresh.url, "concurrency = 1\n");
    let again = env.cmd().args(FIX_TREE).output().expect("runs");
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    let sent = requests(&fresh);
    assert_eq!(sent, 6, "only the unfinished files were sent");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_keeps_finished_files_and_leaves_no_partial_ones() {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(150),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "concurrency = 2\n");
    corpus(&env, 40, 2);
    let child = env
        .std_cmd()
        .args(FIX_TREE)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let (out, stderr) = interrupt(child, "no output appeared", || {
        outputs(&env.path("out"))
            .iter()
            .filter(|p| p.ends_with(".en.txt"))
            .count()
            >= 2
    })
    .await;
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let files = outputs(&env.path("out"));
    assert!(
        !files
            .iter()
            .any(|f| f.contains(".klartext-") || f.ends_with(".tmp")),
        "{files:?}"
    );
    let finished: Vec<&String> = files.iter().filter(|p| p.ends_with(".en.txt")).collect();
    assert!(finished.len() < 40, "stopped early");
    for file in finished {
        assert_complete(&env, &format!("out/{file}"), 2);
    }
}

/// Two runs on one output folder: the second stops before it sends anything, naming the
/// first; the first finishes alone, and the provider sees every request once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_the_same_output_folder_stops_and_names_the_first() {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(200),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "concurrency = 1\n");
    corpus(&env, 6, 1);
    let first = env
        .std_cmd()
        .args(FIX_TREE)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let started = Instant::now();
    while requests(&fake) == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = env.cmd().args(FIX_TREE).output().expect("runs");
    let stderr = stderr_of(&second);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("out")
            && stderr.contains("another klartext run")
            && stderr.contains(&format!("process {}", first.id())),
        "{stderr}"
    );
    assert!(!stderr.contains("not written by klartext"), "{stderr}");

    let first = first.wait_with_output().expect("exits");
    let first_err = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{first_err}");
    assert_eq!(fake.counts.duplicates(), 0, "each request once");
    let sent = requests(&fake);
    assert_eq!(sent, 6, "one request per file, from the first run alone");
    for n in 0..6 {
        assert_complete(&env, &format!("out/part{}/doc{n}.en.txt", n % 3), 1);
    }

    // Once the first has finished, the same command runs: from the cache, as its own files.
    let third = env.cmd().args(FIX_TREE).output().expect("runs");
    assert_eq!(third.status.code(), Some(0), "{}", stderr_of(&third));
    assert_eq!(requests(&fake), 6);
}

/// `fix FILE -o OUT/` and `fix FOLDER -o OUT` with the folder holding only that file: one
/// implementation, so the same output, record and JSON report (but for the paths).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_file_and_a_folder_of_one_file_agree() {
    let fake = FakeOpenai::start(Behaviour::default()).await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "");
    // Offline repairs, a heading and a list, and a finding (the number goes missing).
    let text = format!(
        "# Bericht:”Zahlen”\n\n{}\n\n- Erstens ,ein Punkt.\n- Der Wert lag bei 4 Billionen Dollar.\n",
        article(7, 3)
    );
    env.write("in/doc.de.md", &text);
    std::fs::create_dir_all(env.path("one")).expect("folder");
    let run = |args: &[&str]| {
        let out = env.cmd().args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        let mut report: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("--json prints JSON");
        let file = report["files"][0].take();
        (report, file)
    };
    for offline in [false, true] {
        let mut common = vec!["--json", "--no-cache", "--fail-on", "never"];
        if offline {
            common.push("--offline");
        }
        let (one_run, one) = run(&[&["fix", "in/doc.de.md", "-o", "one/"], &common[..]].concat());
        let (tree_run, tree) = run(&[&["fix", "in", "-o", "tree"], &common[..]].concat());
        let name = if offline {
            "doc.fixed.de.md"
        } else {
            "doc.en.md"
        };
        assert_eq!(
            env.read(&format!("one/{name}")),
            env.read(&format!("tree/{name}")),
            "offline: {offline}"
        );
        if !offline {
            let record = |dir: &str| env.read(&format!("{dir}/.klartext/{name}.json"));
            assert_eq!(record("one"), record("tree"));
            assert!(
                one["segments"].as_array().is_some_and(|s| s.len() == 6),
                "{one}"
            );
        }
        // The comparison below covers findings and repairs: there are some.
        assert!(
            one["errors"].as_u64().is_some_and(|n| n > 0) || offline,
            "{one}"
        );
        assert!(one["warnings"].as_u64().is_some_and(|n| n > 0), "{one}");
        assert!(
            one["repaired"].as_array().is_some_and(|r| !r.is_empty()),
            "{one}"
        );
        assert_eq!(one["input"], "in/doc.de.md");
        assert_eq!(tree["input"], "in/doc.de.md");
        assert_eq!(one["output"], format!("one/{name}"));
        assert_eq!(tree["output"], format!("tree/{name}"));
        let without_paths = |mut file: serde_json::Value| {
            file["output"].take();
            file
        };
        assert_eq!(
            without_paths(one),
            without_paths(tree),
            "offline: {offline}"
        );
        assert_eq!(one_run, tree_run, "offline: {offline}");
    }
}

/// Ctrl-C on a single file does what it does in a folder: stop sending, write nothing
/// half-done, say so, exit 130; the paragraphs that came back are cached for the rerun. It
/// holds for a process that inherited SIGINT ignored, as a background job does.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_on_one_file_keeps_what_finished_and_writes_nothing_half_done() {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(200),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    // One paragraph per request, one request at a time: a long document takes a while.
    configure(&env, &fake.url, "concurrency = 1\nbatch_tokens = 50\n");
    env.write("long.de.txt", article(9, 30));
    // Started the way a shell starts a background job, with SIGINT ignored: an interrupt the
    // user sends on purpose (`kill -INT`) still stops it cleanly.
    let mut klartext = env.std_cmd();
    klartext.args(["fix", "long.de.txt", "--fail-on", "never", "--view", "none"]);
    let child = std::process::Command::new("sh")
        .arg("-c")
        .arg("trap '' INT; exec \"$0\" \"$@\"")
        .arg(klartext.get_program())
        .args(klartext.get_args())
        .current_dir(env.root())
        .env_clear()
        .envs(klartext.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let (out, stderr) = interrupt(child, "nothing was sent", || {
        fake.counts.ok.load(std::sync::atomic::Ordering::SeqCst) >= 2
    })
    .await;
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted") && stderr.contains("run the same command again"),
        "{stderr}"
    );
    assert!(
        !env.path("long.en.txt").exists(),
        "nothing half-done is written"
    );
    let sent = fake.counts.ok.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 30, "it stopped early: {sent} of 30 sent");

    let fresh = FakeOpenai::start(Behaviour::default()).await;
    configure(&env, &fresh.url, "concurrency = 1\nbatch_tokens = 50\n");
    let again = env
        .cmd()
        .args(["fix", "long.de.txt", "--fail-on", "never", "--view", "none"])
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    let resent = fresh.counts.ok.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        resent <= 30 - sent,
        "finished paragraphs came from the cache: {resent} resent"
    );
    assert_complete(&env, "long.en.txt", 30);
}

/// One run, one set of numbers (issue 12, item 15): `--dry-run --json` reports the German's
/// findings the run reports too, a file with findings is `flagged` in `--json` and in the
/// folder report, and the terminal says the same counts in one vocabulary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_json_and_the_run_report_the_same_findings_and_statuses() {
    let fake = FakeOpenai::start(Behaviour::default()).await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "");
    env.write(
        "in/a.de.txt",
        "Er sagte,,Hallo\" und nannte 4 Billionen Euro.\n\nDer zweite Absatz ist ruhig.\n",
    );
    let json = |args: &[&str]| -> serde_json::Value {
        let out = env.cmd().args(args).output().expect("runs");
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    };
    let source_findings = |file: &serde_json::Value| -> Vec<String> {
        let all = file["findings"].as_array().cloned().unwrap_or_default();
        let per_segment = file["segments"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["findings"].as_array().cloned().unwrap_or_default());
        let mut rules: Vec<String> = all
            .into_iter()
            .chain(per_segment)
            .filter(|f| f["check"] == "source" && f["severity"] != "info")
            .map(|f| format!("{}/{}", f["segment"], f["rule"]))
            .collect();
        rules.sort();
        rules
    };
    let planned = json(&["fix", "in/a.de.txt", "--dry-run", "--json"]);
    let planned = &planned["files"][0];
    assert_eq!(planned["status"], "flagged", "{planned:#}");
    let before = source_findings(planned);
    assert!(
        before.iter().any(|r| r.contains("unbalanced-quotes")),
        "{planned:#}"
    );
    let run = json(&["fix", "in/a.de.txt", "--json", "--fail-on", "never"]);
    let run = &run["files"][0];
    assert_eq!(run["status"], "flagged", "{run:#}");
    assert_eq!(source_findings(run), before, "{run:#}");

    let out = env.cmd().args(FIX_TREE).output().expect("runs");
    let stderr = stderr_of(&out);
    let report = run_record(&env);
    assert_eq!(report["files"][0]["status"], "flagged");
    assert_eq!(report["totals"]["flagged"], 1);
    let (errors, warnings) = (
        report["totals"]["errors"].as_u64().unwrap_or(0),
        report["totals"]["warnings"].as_u64().unwrap_or(0),
    );
    assert!(
        stderr.contains("1 file: 0 ok, 1 flagged, 0 failed"),
        "{stderr}"
    );
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let expected = match (errors, warnings) {
        (0, w) => plural(w, "warning", "warnings"),
        (e, 0) => plural(e, "error", "errors"),
        (e, w) => format!(
            "{} and {}",
            plural(e, "error", "errors"),
            plural(w, "warning", "warnings")
        ),
    };
    assert!(
        stderr.contains(&format!("verify: {expected} to check")),
        "{stderr}"
    );
    for wrong in [
        "flag to check",
        "flags to check",
        "1 warnings",
        "1 files",
        "1 errors",
    ] {
        assert!(!stderr.contains(wrong), "{wrong:?} in\n{stderr}");
    }
}

/// Paragraph `p` of the shared text: the same words wherever it stands.
fn shared(p: usize) -> String {
    format!(
        "Der gemeinsame Absatz {p} sagt, dass die Firma am hinteren Fuß erwischt wurde und {p} Milliarden US-Dollar verlor. \
         Die Aktionäre waren nicht amüsiert, und der Vorstand versprach, die Kosten im nächsten Jahr deutlich zu senken."
    )
}

/// Run `fix in -o out` (with `extra` arguments) at concurrency 8 against a slow fake: the
/// requests it sent, after checking every output is written, whole and the same.
async fn run_repeated(files: &[Vec<usize>], batch_tokens: Option<u32>, extra: &[&str]) -> usize {
    run_repeated_with(files, batch_tokens, extra, "").await
}

/// [`run_repeated`] with more backend settings.
async fn run_repeated_with(
    files: &[Vec<usize>],
    batch_tokens: Option<u32>,
    extra: &[&str],
    settings: &str,
) -> usize {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(150),
        max_in_flight: Some(8),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    let tokens = batch_tokens.map_or(String::new(), |t| format!("batch_tokens = {t}\n"));
    configure(
        &env,
        &fake.url,
        &format!("concurrency = 8\n{tokens}{settings}"),
    );
    for (n, paragraphs) in files.iter().enumerate() {
        let text: Vec<String> = paragraphs.iter().map(|p| shared(*p)).collect();
        env.write(&format!("in/doc{n}.de.txt"), text.join("\n\n"));
    }
    let out = env
        .cmd()
        .args(FIX_TREE)
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for (n, paragraphs) in files.iter().enumerate() {
        assert_complete(&env, &format!("out/doc{n}.en.txt"), paragraphs.len());
    }
    let first = env.read("out/doc0.en.txt");
    for (n, paragraphs) in files.iter().enumerate() {
        if paragraphs == &files[0] {
            assert_eq!(env.read(&format!("out/doc{n}.en.txt")), first, "doc{n}");
        }
    }
    assert_eq!(
        fake.counts.duplicates(),
        0,
        "no request sent twice: {stderr}"
    );
    requests(&fake)
}

/// Identical documents in flight at once: each request (and each paragraph shared across
/// files) is sent once, and the others take its result, with or without the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_documents_in_flight_at_once_send_each_request_once() {
    let same = vec![vec![0, 1]; 8];
    // Two paragraphs in one batch, in other orders in other files: each sent alone, once.
    let mixed: Vec<Vec<usize>> = (0..8)
        .map(|n| if n % 2 == 0 { vec![0, 1] } else { vec![1, 0] })
        .collect();
    for extra in [&[][..], &["--no-cache"][..]] {
        assert_eq!(run_repeated(&same, None, extra).await, 1, "{extra:?}");
        assert_eq!(run_repeated(&mixed, Some(50), extra).await, 2, "{extra:?}");
        // Packed into one request, the copies' paragraphs are not sent along: they take the
        // first document's answers.
        let packed = "pack_documents = true\n";
        assert_eq!(
            run_repeated_with(&same, None, extra, packed).await,
            1,
            "{extra:?}"
        );
    }
}

/// The one request for a paragraph many files share fails (quota): the files waiting for it
/// fail with it, the run ends, and nothing is sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_request_fails_the_files_waiting_for_it_and_the_run_ends() {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(150),
        quota_after: Some(0),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "concurrency = 8\n");
    for n in 0..8 {
        env.write(
            &format!("in/doc{n}.de.txt"),
            format!("{}\n\n{}", shared(0), shared(1)),
        );
    }
    let out = env
        .cmd()
        .args(FIX_TREE)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("quota"), "{stderr}");
    let report = run_record(&env);
    let statuses = statuses(&report);
    assert_eq!(statuses.len(), 8, "{report}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == "failed" || *s == "not_started"),
        "{statuses:?}"
    );
    let sent = requests(&fake);
    assert_eq!(sent, 1, "the waiters did not send it again: {stderr}");
}

/// The first request leaves while the folder is still being walked (issue 15, item 8). The
/// walk is held fast, deterministically: the last folder's `.gitignore` is a named pipe, and
/// the walker reads ignore files as it enters a folder, so it waits there until the pipe gets
/// a writer — which this test gives it only after a request has arrived. A run that walked
/// the whole folder first would send nothing until then. Every file is written in the end.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_request_leaves_while_the_folder_is_still_being_walked() {
    let fake = FakeOpenai::start(Behaviour {
        latency: Duration::from_millis(20),
        ..Behaviour::default()
    })
    .await;
    let env = TestEnv::new();
    configure(&env, &fake.url, "concurrency = 2\n");
    for n in 0..4 {
        env.write(&format!("in/aa/doc{n}.de.txt"), article(n, 1));
    }
    env.write("in/zz/last.de.txt", article(9, 1));
    let pipe = env.path("in/zz/.gitignore");
    let made = std::process::Command::new("mkfifo")
        .arg(&pipe)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let child = env
        .std_cmd()
        .args(FIX_TREE)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let waited = Instant::now();
    while fake.counts.first.get().is_none() && waited.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent_while_walking = requests(&fake);
    // Let the walk go on (opening the pipe to write waits for the walker to read it).
    tokio::task::spawn_blocking(move || {
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .open(&pipe)
            .expect("the walker opens the pipe");
        drop(writer);
    })
    .await
    .expect("pipe");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("the run ends");
    assert!(
        sent_while_walking > 0,
        "no request arrived while the walk waited at in/zz/.gitignore"
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let written: Vec<String> = outputs(&env.path("out"))
        .into_iter()
        .filter(|f| !f.contains(".klartext/"))
        .collect();
    assert_eq!(
        written,
        [
            "aa/doc0.en.txt",
            "aa/doc1.en.txt",
            "aa/doc2.en.txt",
            "aa/doc3.en.txt",
            "klartext-report.json",
            "zz/last.en.txt"
        ]
    );
    let report = run_record(&env);
    let listed: Vec<&str> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["input"].as_str())
        .collect();
    assert_eq!(listed.len(), 5, "{listed:?}");
    assert!(listed.is_sorted(), "{listed:?}");
}
