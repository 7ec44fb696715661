//! Batch throughput and memory: `klartext fix in/ -o out/` (the release binary) against a
//! local fake provider with 50 ms latency and a concurrency limit it enforces, for 200 and
//! 2,000 files of 10 paragraphs, and once under a requests-per-minute limit. Prints wall time
//! against the ideal (requests × latency ÷ concurrency, or the rate bound), requests sent
//! against the minimum, retries, duplicates and the child's peak memory.
//! Run with `cargo bench --bench batch`; asserts nothing.

#[path = "../tests/support/fake_openai.rs"]
mod fake_openai;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use fake_openai::{Behaviour, FakeOpenai};

const LATENCY: Duration = Duration::from_millis(50);

fn latency() -> Duration {
    std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(LATENCY, Duration::from_millis)
}
const CONCURRENCY: usize = 8;
const PARAGRAPHS: usize = 10;

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
        "{:>6} {:>9} {:>9} {:>9} {:>6} {:>12} {:>8} {:>11} {:>9} {:>11}",
        "files",
        "limit",
        "wall s",
        "ideal s",
        "ratio",
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
    println!(
        "{:>6} {:>9} {:>9.2} {:>9.2} {:>6.2} {:>12} {:>8} {:>11} {:>9} {:>11}",
        scenario.files,
        limit,
        m.wall,
        ideal,
        m.wall / ideal,
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
    let fake = runtime.block_on(FakeOpenai::start(Behaviour {
        latency: latency(),
        max_in_flight: Some(CONCURRENCY),
        ..Behaviour::default()
    }));
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write_corpus(root, scenario.files);
    let rpm = scenario
        .requests_per_minute
        .map(|r| format!("requests_per_minute = {r}\n"))
        .unwrap_or_default();
    // The fake's placeholder English drops the corpus's numbers, which verify flags: the
    // refine round is off, and packing too (small files would share requests), so the run
    // measures one request per file against its ideal.
    std::fs::write(
        root.join(".klartext.toml"),
        format!(
            "[passes]\nrestore = \"local\"\nrefine = 0\n[backends.local]\nkind = \"openai\"\nmodel = \"m\"\n\
             base_url = \"{}\"\nconcurrency = {CONCURRENCY}\nbatch_tokens = 4000\n\
             pack_documents = false\n{rpm}",
            fake.url
        ),
    )
    .expect("config");

    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "peak-kb %M cpu-s %U+%S"])
            .arg(env!("CARGO_BIN_EXE_klartext"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_klartext"))
    };
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
    let started = Instant::now();
    let out = command.output().expect("klartext runs");
    let wall = started.elapsed().as_secs_f64();
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
    Measured {
        wall,
        sent: fake.counts.requests.load(Ordering::SeqCst),
        retries: report["totals"]["retries"].as_u64().unwrap_or(0),
        duplicates: fake.counts.duplicates(),
        over_limit: fake.counts.over_limit.load(Ordering::SeqCst),
        peak_mb,
        cpu,
    }
}

fn write_corpus(root: &Path, files: usize) {
    for n in 0..files {
        let folder = root.join(format!("in/part{:02}", n % 20));
        std::fs::create_dir_all(&folder).expect("folder");
        let text: Vec<String> = (0..PARAGRAPHS)
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
