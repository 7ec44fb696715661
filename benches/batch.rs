//! Batch throughput and memory: `klartext fix in/ -o out/` (the release binary) against a
//! local fake provider with 300 ms latency (`BENCH_LATENCY_MS` to change it) and a concurrency
//! limit it enforces, for 200 and 2,000 files of 10 paragraphs, and once under a
//! requests-per-minute limit. Prints wall time against the ideal (requests × latency ÷
//! concurrency, or the rate bound) and against a bare client — reqwest with 8 tasks sending
//! exactly the bodies klartext sent, captured by the fake, to a fresh fake in this process —
//! with where klartext's time went (until its first request, slots idle while it sent, after
//! its last answer), requests sent against the minimum, retries, duplicates and the child's
//! peak memory. Last, how soon a run over a 20,000-file folder sends its first request,
//! beside how long the walk of that folder takes alone.
//! Run with `cargo bench --bench batch`; asserts nothing.

#[path = "../tests/support/fake_openai.rs"]
mod fake_openai;

use std::collections::VecDeque;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_openai::{Behaviour, FakeOpenai, Seen};

const LATENCY: Duration = Duration::from_millis(300);

fn latency() -> Duration {
    std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(LATENCY, Duration::from_millis)
}
const CONCURRENCY: usize = 8;
const PARAGRAPHS: usize = 10;
/// The folder whose first request is timed.
const LARGE: usize = 20_000;

struct Scenario {
    files: usize,
    requests_per_minute: Option<u32>,
    /// Runs; the median wall time is reported (start-up noise on a busy machine).
    runs: usize,
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "batch of N files × {PARAGRAPHS} paragraphs, fake provider: {} ms latency, concurrency {CONCURRENCY}",
        latency().as_millis()
    );
    println!(
        "{:>6} {:>9} {:>9} {:>9} {:>6} {:>9} {:>7} {:>9} {:>7} {:>18} {:>7} {:>12} {:>8} {:>11} {:>9} {:>11}",
        "files",
        "limit",
        "wall s",
        "ideal s",
        "ratio",
        "bare s",
        "×bare",
        "1st req s",
        "idle %",
        "refill ms (bare)",
        "tail s",
        "requests/min",
        "retries",
        "duplicates",
        "peak MB",
        "cpu s"
    );
    for scenario in [
        Scenario {
            files: 200,
            requests_per_minute: None,
            runs: 3,
        },
        Scenario {
            files: 2000,
            requests_per_minute: None,
            runs: 1,
        },
        Scenario {
            files: 200,
            requests_per_minute: Some(3000),
            runs: 3,
        },
    ] {
        run(&runtime, &scenario);
    }
    first_request(&runtime);
}

/// What one run measured.
struct Measured {
    wall: f64,
    sent: usize,
    retries: u64,
    duplicates: usize,
    over_limit: usize,
    peak_mb: String,
    cpu: String,
    /// The bare client's wall time for the same bodies (without a rate limit).
    bare: Option<f64>,
    /// From the start of the process to its first request.
    first: f64,
    /// Share of the slots idle between the first request and the last answer.
    idle: f64,
    /// From the last answer to the end of the process.
    tail: f64,
    /// How soon a freed slot was used again: the median and 90th percentile, in ms.
    refill: String,
    /// The same for the bare client.
    bare_refill: String,
}

fn run(runtime: &tokio::runtime::Runtime, scenario: &Scenario) {
    let mut runs: Vec<Measured> = (0..scenario.runs)
        .map(|_| once(runtime, scenario))
        .collect();
    runs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    let m = &runs[runs.len() / 2];
    // One request per file: its 10 paragraphs fit one batch.
    let minimum = scenario.files;
    let by_concurrency = minimum as f64 * latency().as_secs_f64() / CONCURRENCY as f64;
    let ideal = match scenario.requests_per_minute {
        // The limiter lets a second's worth through at once, then one request per 60/rpm s.
        Some(rpm) => {
            let burst = (f64::from(rpm) / 60.0).max(1.0);
            by_concurrency.max((minimum as f64 - burst) * 60.0 / f64::from(rpm))
        }
        None => by_concurrency,
    };
    let limit = scenario
        .requests_per_minute
        .map_or_else(|| "conc".to_owned(), |r| format!("{r}/min"));
    let (bare, times) = m.bare.map_or_else(
        || ("-".to_owned(), "-".to_owned()),
        |b| (format!("{b:.2}"), format!("{:.3}", m.wall / b)),
    );
    println!(
        "{:>6} {:>9} {:>9.2} {:>9.2} {:>6.2} {:>9} {:>7} {:>9.3} {:>7.1} {:>18} {:>7.3} {:>12} {:>8} {:>11} {:>9} {:>11}",
        scenario.files,
        limit,
        m.wall,
        ideal,
        m.wall / ideal,
        bare,
        times,
        m.first,
        m.idle * 100.0,
        format!("{} {}", m.refill, m.bare_refill),
        m.tail,
        format!("{}/{minimum}", m.sent),
        m.retries,
        m.duplicates,
        m.peak_mb,
        m.cpu
    );
    if m.over_limit > 0 {
        println!(
            "       (the provider saw {} requests over its concurrency limit)",
            m.over_limit
        );
    }
}

fn once(runtime: &tokio::runtime::Runtime, scenario: &Scenario) -> Measured {
    let fake = runtime.block_on(FakeOpenai::start(provider(true)));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_corpus(root, scenario.files, PARAGRAPHS);
    let rpm = scenario
        .requests_per_minute
        .map(|r| format!("requests_per_minute = {r}\n"))
        .unwrap_or_default();
    configure(root, &fake.url, &rpm);

    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "peak-kb %M cpu-s %U+%S"]).arg(binary());
        c
    } else {
        Command::new(binary())
    };
    prepare(&mut command, root);
    let started = Instant::now();
    let out = command.output().expect("klartext runs");
    let ended = Instant::now();
    let wall = (ended - started).as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "klartext failed: {stderr}");
    let measured = stderr.lines().find_map(|l| l.strip_prefix("peak-kb "));
    let peak_mb = measured
        .and_then(|m| m.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(|| "n/a".to_owned(), |kb| format!("{:.1}", kb / 1024.0));
    let cpu = measured
        .and_then(|m| m.split("cpu-s ").nth(1))
        .unwrap_or("n/a")
        .to_owned();

    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("out/klartext-report.json")).expect("report"),
    )
    .expect("JSON report");
    let seen = seen(&fake);
    let (first, idle, tail) = profile(&seen, started, ended);
    let refill = refill(&seen);
    let bare = scenario
        .requests_per_minute
        .is_none()
        .then(|| runtime.block_on(bare_client(seen.into_iter().map(|s| s.body).collect())));
    let (bare, bare_refill) = match bare {
        Some((wall, refill)) => (Some(wall), refill),
        None => (None, "-".to_owned()),
    };
    Measured {
        wall,
        bare,
        first,
        idle,
        tail,
        refill,
        bare_refill,
        sent: fake.counts.requests.load(Ordering::SeqCst),
        retries: report["totals"]["retries"].as_u64().unwrap_or(0),
        duplicates: fake.counts.duplicates(),
        over_limit: fake.counts.over_limit.load(Ordering::SeqCst),
        peak_mb,
        cpu,
    }
}

/// The fake provider: [`latency`], at most [`CONCURRENCY`] requests at once, and with
/// `record` what it saw of each request.
fn provider(record: bool) -> Behaviour {
    Behaviour {
        latency: latency(),
        max_in_flight: Some(CONCURRENCY),
        record,
        ..Behaviour::default()
    }
}

/// What `fake` saw of each request, in the order they arrived.
fn seen(fake: &FakeOpenai) -> Vec<Seen> {
    let mut seen = fake
        .counts
        .seen
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default();
    seen.sort_by_key(|s| s.arrived);
    seen
}

/// The binary measured: this build's, or `KLARTEXT_BIN` (to compare with another build).
fn binary() -> String {
    std::env::var("KLARTEXT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_klartext").to_owned())
}

/// The run's config: one OpenAI-compatible backend at `url`, `extra` lines added.
fn configure(root: &Path, url: &str, extra: &str) {
    // The fake's placeholder English drops the corpus's numbers, which verify flags: the
    // refine round is off, and packing too (small files would share requests), so the run
    // measures one request per file against its ideal.
    std::fs::write(
        root.join(".klartext.toml"),
        format!(
            "[passes]\nrestore = \"local\"\nrefine = 0\n[backends.local]\nkind = \"openai\"\nmodel = \"m\"\n\
             base_url = \"{url}\"\nconcurrency = {CONCURRENCY}\nbatch_tokens = 4000\n\
             pack_documents = false\n{extra}"
        ),
    )
    .expect("config");
}

/// `klartext fix in -o out` in `root`, in a clean environment.
fn prepare(command: &mut Command, root: &Path) {
    command
        .current_dir(root)
        .env_clear()
        .env("HOME", root)
        .env("KLARTEXT_CONFIG_DIR", root.join("config"))
        .env("KLARTEXT_CACHE_DIR", root.join("cache"))
        .args(["fix", "in", "-o", "out", "-q", "--fail-on", "never"]);
    if let Ok(arenas) = std::env::var("MALLOC_ARENA_MAX") {
        command.env("MALLOC_ARENA_MAX", arenas);
    }
}

/// Where a run's time went: seconds until its first request arrived, the share of slot time
/// idle between that and the last answer, and seconds from the last answer to the end.
fn profile(seen: &[Seen], started: Instant, ended: Instant) -> (f64, f64, f64) {
    let (Some(first), Some(last)) = (
        seen.iter().map(|s| s.arrived).min(),
        seen.iter().map(|s| s.answered).max(),
    ) else {
        return (0.0, 0.0, 0.0);
    };
    let window = (last - first).as_secs_f64() * CONCURRENCY as f64;
    let busy: f64 = seen
        .iter()
        .map(|s| (s.answered - s.arrived).as_secs_f64())
        .sum();
    let idle = if window > 0.0 {
        (1.0 - busy / window).max(0.0)
    } else {
        0.0
    };
    (
        (first - started).as_secs_f64(),
        idle,
        ended.saturating_duration_since(last).as_secs_f64(),
    )
}

/// How soon after each answer the next request arrived (the slot it freed used again), over
/// the answers before the last request: "median/90th percentile" in ms.
fn refill(seen: &[Seen]) -> String {
    let arrivals: Vec<Instant> = seen.iter().map(|s| s.arrived).collect();
    let mut gaps: Vec<f64> = seen
        .iter()
        .filter_map(|s| {
            let next = arrivals.partition_point(|a| *a < s.answered);
            arrivals
                .get(next)
                .map(|a| (*a - s.answered).as_secs_f64() * 1000.0)
        })
        .collect();
    if gaps.is_empty() {
        return "-".to_owned();
    }
    gaps.sort_by(f64::total_cmp);
    let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q) as usize];
    format!("{:.1}/{:.1}", at(0.5), at(0.9))
}

/// A bare client: reqwest with [`CONCURRENCY`] tasks sending `bodies` in order to a fresh fake
/// with the same latency and limit; its wall time in seconds, and how soon it refilled a slot.
async fn bare_client(bodies: Vec<Vec<u8>>) -> (f64, String) {
    let fake = FakeOpenai::start(provider(true)).await;
    let url = format!("{}/chat/completions", fake.url);
    let client = reqwest::Client::new();
    let queue = Arc::new(Mutex::new(VecDeque::from(bodies)));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, queue, url) = (client.clone(), queue.clone(), url.clone());
            tokio::spawn(async move {
                loop {
                    let Some(body) = queue.lock().expect("queue").pop_front() else {
                        return;
                    };
                    let answer = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("the fake answers");
                    assert!(answer.status().is_success(), "{}", answer.status());
                    answer.bytes().await.expect("its body");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("bare client task");
    }
    let wall = started.elapsed().as_secs_f64();
    let seen = seen(&fake);
    (wall, refill(&seen))
}

/// How soon a run over a folder of [`LARGE`] small files sends its first request (the run is
/// stopped then), beside how long walking that folder takes by itself.
fn first_request(runtime: &tokio::runtime::Runtime) {
    let fake = runtime.block_on(FakeOpenai::start(provider(false)));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_corpus(root, LARGE, 1);
    configure(root, &fake.url, "");
    let mut command = Command::new(binary());
    prepare(&mut command, root);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let started = Instant::now();
    let mut child = command.spawn().expect("klartext starts");
    let first = loop {
        if let Some(first) = fake.counts.first.get() {
            break Some(*first - started);
        }
        if started.elapsed() > Duration::from_secs(120) || child.try_wait().ok().flatten().is_some()
        {
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = child.kill();
    let _ = child.wait();
    let walking = Instant::now();
    let (found, _) = klartext::files::walk(
        &root.join("in"),
        &klartext::files::Patterns::default(),
        klartext::files::Rules::default(),
    )
    .expect("walk");
    let walk = walking.elapsed().as_secs_f64();
    let first = first.map_or_else(
        || "never".to_owned(),
        |f| format!("{:.3} s", f.as_secs_f64()),
    );
    println!(
        "{LARGE} files: first request after {first}; walking the folder alone takes {walk:.3} s ({} files)",
        found.len()
    );
}

fn write_corpus(root: &Path, files: usize, paragraphs: usize) {
    for n in 0..files {
        let folder = root.join(format!("in/part{:02}", n % 20));
        std::fs::create_dir_all(&folder).expect("folder");
        let text: Vec<String> = (0..paragraphs)
            .map(|p| {
                format!(
                    "Der Bericht {n} sagt im Absatz {p}, dass die Firma am hinteren Fuß erwischt wurde und {} Milliarden US-Dollar verlor.",
                    n * 100 + p
                )
            })
            .collect();
        std::fs::write(folder.join(format!("doc{n}.de.txt")), text.join("\n\n")).expect("write");
    }
}
