//! `quotes = "straight"`: the model's curly quotation marks made straight after the restore
//! pass, outside the cache, so switching the setting sends nothing.

use crate::common::stderr_of;
use crate::consistency::{KEY, serialised};

#[tokio::test]
async fn straight_quotes_are_made_offline_and_switching_sends_nothing() {
    let (server, env) = serialised("Copilot").await;
    let fix = |quotes: &str| {
        let out = env
            .cmd()
            .env("OPENAI_API_KEY", KEY)
            .env("KLARTEXT_QUOTES", quotes)
            .args([
                "fix",
                "--fail-on",
                "never",
                "--view",
                "none",
                "article.de.txt",
            ])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        String::from_utf8(env.read("article.en.txt")).expect("UTF-8")
    };
    let straight = fix("straight");
    assert!(
        straight.contains("\"whole functions\", it's said"),
        "{straight}"
    );
    assert!(!straight.contains(['“', '”', '’']), "{straight}");
    let sent = server.received_requests().await.map_or(0, |r| r.len());

    let curly = fix("curly");
    assert!(curly.contains("“whole functions”, it’s said"), "{curly}");
    let again = server.received_requests().await.map_or(0, |r| r.len());
    assert_eq!(again, sent, "answered from the cache");
}
