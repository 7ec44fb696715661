//! A fake OpenAI-compatible server on a raw TCP socket, for batch tests and the batch
//! benchmark: it answers the segment protocol after an injected latency, enforces a
//! concurrency limit (more requests in flight get a 429, proving the client kept to it),
//! and injects faults — 429 with `Retry-After`, 500, dropped connections, truncated replies,
//! quota exhaustion — each only on the first attempt of a given request body, so every
//! retry can succeed and the outcome is deterministic. It counts requests and duplicates.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    RateLimit,
    ServerError,
    Reset,
    Truncate,
}

/// What the server does and how often; percentages of first attempts.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    pub latency: Duration,
    pub max_in_flight: Option<usize>,
    pub rate_limit_pct: u8,
    pub server_error_pct: u8,
    pub reset_pct: u8,
    pub truncate_pct: u8,
    /// After this many successful replies, every request gets `insufficient_quota`.
    pub quota_after: Option<usize>,
    /// Keep every request's body and when it came and went (the benchmark replays the bodies
    /// with a bare client and measures idle slots).
    pub record: bool,
}

/// One request as the server saw it: when its body had arrived and when its answer left.
#[derive(Debug, Clone)]
#[allow(
    dead_code,
    reason = "read by the batch benchmark, not by the CLI tests"
)]
pub struct Seen {
    pub arrived: Instant,
    pub answered: Instant,
    pub body: Vec<u8>,
}

#[derive(Default)]
pub struct Counts {
    pub requests: AtomicUsize,
    pub ok: AtomicUsize,
    pub faults: AtomicUsize,
    pub over_limit: AtomicUsize,
    in_flight: AtomicUsize,
    pub peak_in_flight: AtomicUsize,
    /// Successful replies per request body (a count above 1 is a duplicate).
    served: Mutex<HashMap<[u8; 32], usize>>,
    attempts: Mutex<HashMap<[u8; 32], usize>>,
    quota_gone: AtomicBool,
    /// With [`Behaviour::record`]: every request, in the order they were answered.
    pub seen: Mutex<Vec<Seen>>,
    /// When the first request arrived.
    pub first: std::sync::OnceLock<Instant>,
}

impl Counts {
    pub fn duplicates(&self) -> usize {
        self.served
            .lock()
            .map(|m| m.values().map(|n| n - 1).sum())
            .unwrap_or(0)
    }
}

pub struct FakeOpenai {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl FakeOpenai {
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/v1", listener.local_addr().expect("address"));
        let counts = Arc::new(Counts::default());
        let shared = (Arc::new(behaviour), counts.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let _ = socket.set_nodelay(true);
                let (behaviour, counts) = (shared.0.clone(), shared.1.clone());
                tokio::spawn(serve(socket, behaviour, counts));
            }
        });
        Self { url, counts }
    }
}

async fn serve(mut socket: TcpStream, behaviour: Arc<Behaviour>, counts: Arc<Counts>) {
    let mut buffer = Vec::new();
    loop {
        let Some(body) = read_request(&mut socket, &mut buffer).await else {
            return;
        };
        let arrived = Instant::now();
        let _ = counts.first.set(arrived);
        counts.requests.fetch_add(1, Ordering::SeqCst);
        let now = counts.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        counts.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        let response = respond(&body, &behaviour, &counts, now).await;
        counts.in_flight.fetch_sub(1, Ordering::SeqCst);
        if behaviour.record
            && let Ok(mut seen) = counts.seen.lock()
        {
            seen.push(Seen {
                arrived,
                answered: Instant::now(),
                body,
            });
        }
        let Some((status, headers, text)) = response else {
            return; // a dropped connection
        };
        // One write, so Nagle's algorithm never holds the body back for a delayed ACK.
        let whole = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n{text}",
            text.len()
        );
        if socket.write_all(whole.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// One request's body, or `None` when the client closed the connection.
async fn read_request(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            while buffer.len() < total {
                read_more(socket, buffer).await?;
            }
            let body = buffer[end + 4..total].to_vec();
            buffer.drain(..total);
            return Some(body);
        }
        read_more(socket, buffer).await?;
    }
}

async fn read_more(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 16 * 1024];
    match socket.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(n) => {
            buffer.extend_from_slice(&chunk[..n]);
            Some(())
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

type Response = Option<(&'static str, String, String)>;

async fn respond(
    body: &[u8],
    behaviour: &Behaviour,
    counts: &Counts,
    in_flight: usize,
) -> Response {
    let key = *blake3::hash(body).as_bytes();
    if behaviour.max_in_flight.is_some_and(|max| in_flight > max) {
        counts.over_limit.fetch_add(1, Ordering::SeqCst);
        return Some((
            "429 Too Many Requests",
            "retry-after: 0\r\n".into(),
            error("rate_limit_exceeded", "Too many requests in flight"),
        ));
    }
    if counts.quota_gone.load(Ordering::SeqCst) {
        return Some((
            "429 Too Many Requests",
            String::new(),
            error(
                "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details.",
            ),
        ));
    }
    let attempt = {
        let mut attempts = counts.attempts.lock().expect("lock");
        let n = attempts.entry(key).or_insert(0);
        *n += 1;
        *n
    };
    // Faults only on a body's first attempt, chosen by its hash: deterministic, and every
    // retry succeeds.
    let roll = usize::from(key[0]) * 100 / 256;
    let fault = (attempt == 1)
        .then(|| {
            let mut bound = 0;
            [
                (behaviour.rate_limit_pct, Fault::RateLimit),
                (behaviour.server_error_pct, Fault::ServerError),
                (behaviour.reset_pct, Fault::Reset),
                (behaviour.truncate_pct, Fault::Truncate),
            ]
            .into_iter()
            .find(|(pct, _)| {
                bound += usize::from(*pct);
                roll < bound
            })
            .map(|(_, fault)| fault)
        })
        .flatten();
    tokio::time::sleep(behaviour.latency).await;
    if let Some(fault) = fault {
        counts.faults.fetch_add(1, Ordering::SeqCst);
        return match fault {
            Fault::RateLimit => Some((
                "429 Too Many Requests",
                "retry-after: 0\r\n".into(),
                error("rate_limit_exceeded", "Rate limit reached"),
            )),
            Fault::ServerError => Some((
                "500 Internal Server Error",
                String::new(),
                error("server_error", "The server had an error"),
            )),
            Fault::Reset => None,
            Fault::Truncate => Some((
                "200 OK",
                String::new(),
                completion(&reply(body, true), "length"),
            )),
        };
    }
    let ok = counts.ok.fetch_add(1, Ordering::SeqCst) + 1;
    if behaviour.quota_after.is_some_and(|limit| ok > limit) {
        counts.quota_gone.store(true, Ordering::SeqCst);
        return Some((
            "429 Too Many Requests",
            String::new(),
            error(
                "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details.",
            ),
        ));
    }
    *counts.served.lock().expect("lock").entry(key).or_insert(0) += 1;
    Some((
        "200 OK",
        String::new(),
        completion(&reply(body, false), "stop"),
    ))
}

fn error(code: &str, message: &str) -> String {
    json!({"error": {"message": message, "type": code, "param": null, "code": code}}).to_string()
}

fn completion(content: &str, finish: &str) -> String {
    json!({
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_741_570_283, "model": "fake",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 500, "completion_tokens": 100, "total_tokens": 600}
    })
    .to_string()
}

/// The segment protocol's reply: one good English text per segment, markers kept.
fn reply(body: &[u8], truncated: bool) -> String {
    let request: Value = serde_json::from_slice(body).unwrap_or_default();
    let system = request["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    let user: Value =
        serde_json::from_str(request["messages"][1]["content"].as_str().unwrap_or("{}"))
            .unwrap_or_default();
    let with_literal = system.contains("Also return `literal`");
    let segments: Vec<Value> = user["segments"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|item| {
            let id = item["id"].as_str().unwrap_or_default();
            let de = item["de"].as_str().unwrap_or_default();
            let markers: Vec<&str> = de.match_indices('⟦').filter_map(|(at, _)| {
                de[at..].find('⟧').map(|end| &de[at..at + end + '⟧'.len_utf8()])
            }).collect();
            let kept = markers.join(" ");
            let mut segment = json!({"id": id, "en": format!("The restored English of paragraph {id}. {kept}").trim(), "notes": []});
            if with_literal {
                segment["literal"] = json!(format!("The literal English of paragraph {id}. {kept}").trim());
            }
            segment
        })
        .collect();
    let text = json!({"segments": segments}).to_string();
    if truncated {
        let half = text.chars().count() / 2;
        text.chars().take(half).collect()
    } else {
        text
    }
}
