//! What goes out, checked on the requests themselves: protected spans never leave (not in a
//! segment, its context, a draft or the glossary), for every provider kind; and after an
//! edit only the changed paragraph is sent again.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Respond};

use crate::common::{TestEnv, stderr_of};
use crate::mocks::{
    AzureTranslate, ChatCompletions, GenerateContent, GoogleTranslate, LibreTranslate, Messages,
    Model, OllamaChat, Translate,
};

const KEY: &str = "sent-test-key-3131";

/// A provider stand-in: its backend table (with `{url}` for the server) and the server.
struct Provider {
    table: &'static str,
    server: MockServer,
}

/// For a chat backend's table: batches of one or two paragraphs, so requests carry context.
const SMALL_BATCHES: &str = "batch_tokens = 50";

async fn provider(table: &'static str, route: &str, responder: impl Respond + 'static) -> Provider {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(route))
        .respond_with(responder)
        .mount(&server)
        .await;
    Provider { table, server }
}

async fn deepl() -> Provider {
    provider(
        "kind = \"deepl\"\nbase_url = \"{url}\"",
        "/v2/translate",
        Translate,
    )
    .await
}

async fn google() -> Provider {
    let table = "kind = \"google\"\nbase_url = \"{url}\"";
    provider(table, "/language/translate/v2", GoogleTranslate).await
}

async fn azure() -> Provider {
    let table = "kind = \"azure\"\nregion = \"westeurope\"\nbase_url = \"{url}\"";
    provider(table, "/translate", AzureTranslate).await
}

async fn libretranslate() -> Provider {
    let table = "kind = \"libretranslate\"\nbase_url = \"{url}\"";
    provider(table, "/translate", LibreTranslate).await
}

async fn openai() -> Provider {
    let table = "kind = \"openai\"\nmodel = \"gpt-4.1-mini\"\nbase_url = \"{url}/v1\"";
    provider(table, "/v1/chat/completions", ChatCompletions(Model::Good)).await
}

async fn anthropic() -> Provider {
    let table = "kind = \"anthropic\"\nmodel = \"claude-sonnet-4-5\"\nbase_url = \"{url}\"";
    provider(table, "/v1/messages", Messages).await
}

async fn gemini() -> Provider {
    let table = "kind = \"gemini\"\nmodel = \"gemini-2.5-flash\"\nbase_url = \"{url}\"";
    let route = "/v1beta/models/gemini-2.5-flash:generateContent";
    provider(table, route, GenerateContent).await
}

async fn ollama() -> Provider {
    let table = "kind = \"ollama\"\nmodel = \"qwen3:8b\"\nbase_url = \"{url}\"";
    provider(table, "/api/chat", OllamaChat).await
}

/// A project whose passes are `draft` (if any) and `restore`; `chat` is added to the table of
/// a chat backend.
fn project(draft: Option<&Provider>, restore: &Provider, chat: &str) -> TestEnv {
    let env = TestEnv::new();
    let table = |p: &Provider| {
        let table = p.table.replace("{url}", &p.server.uri());
        if p.table.contains("model =") {
            format!("{table}\n{chat}")
        } else {
            table
        }
    };
    let config = match draft {
        Some(d) => format!(
            "[passes]\ndraft = \"d\"\nrestore = \"r\"\nrefine = 0\n[backends.d]\n{}\n[backends.r]\n{}\n",
            table(d),
            table(restore)
        ),
        None => format!(
            "[passes]\nrestore = \"r\"\nrefine = 0\n[backends.r]\n{}\n",
            table(restore)
        ),
    };
    env.write(".klartext.toml", config);
    env
}

fn fix(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let mut cmd = env.cmd();
    for var in [
        "DEEPL_API_KEY",
        "GOOGLE_TRANSLATE_API_KEY",
        "AZURE_TRANSLATOR_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
    ] {
        cmd.env(var, KEY);
    }
    cmd.args(["fix", "--fail-on", "never", "--view", "none"])
        .args(args)
        .output()
        .expect("runs")
}

/// The bodies of every request `server` received, as text.
async fn bodies(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

/// The protected strings of paragraph `n`: its inline code, its link target and its bare URL.
fn protected(n: usize) -> [String; 3] {
    [
        format!("code_geheim_{n}"),
        format!("ziel-{n}.example.org"),
        format!("nackt-{n}.example.net"),
    ]
}

/// A Markdown corpus where every paragraph (heading, prose, list item, quote) has inline code,
/// a link with its own target and a bare URL; the prose also names the glossary term
/// `Schattenwert`, but only inside code.
fn corpus() -> String {
    let shapes = [
        "# Überblick",
        "Der Dienst liest",
        "- Der Listenpunkt nennt",
        "> Das Zitat erwähnt",
        "Der letzte Absatz prüft",
    ];
    shapes
        .iter()
        .enumerate()
        .map(|(n, shape)| {
            format!(
                "{shape} `code_geheim_{n}` und `Schattenwert` aus der \
                 [Anleitung](https://ziel-{n}.example.org/pfad/{n}) sowie \
                 https://nackt-{n}.example.net/seite?id={n} für die Kosten.\n"
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn protected_spans_reach_no_provider_in_any_request() {
    let pairs = [
        (deepl().await, openai().await),
        (google().await, anthropic().await),
        (azure().await, gemini().await),
        (libretranslate().await, ollama().await),
        // A language model drafting: its literal comes back unmasked and goes on to restore.
        (ollama().await, anthropic().await),
    ];
    for (draft, restore) in &pairs {
        let env = project(Some(draft), restore, SMALL_BATCHES);
        env.write(
            "glossary.toml",
            "[terms]\n\"Schattenwert\" = \"shadow value\"\n",
        );
        let kinds = format!("{} → {}", draft.table, restore.table);
        // The second run sends the edited middle paragraph between finished neighbours.
        for text in [
            corpus(),
            corpus().replace("Der Listenpunkt", "Der kurze Listenpunkt"),
        ] {
            env.write("doc.de.md", text);
            let out = fix(&env, &["doc.de.md"]);
            assert_eq!(out.status.code(), Some(0), "{kinds}: {}", stderr_of(&out));
        }
        let english = String::from_utf8(env.read("doc.en.md")).expect("UTF-8");
        let drafted = bodies(&draft.server).await;
        let restored = bodies(&restore.server).await;
        assert!(
            !drafted.is_empty() && !restored.is_empty(),
            "{kinds}: both passes sent"
        );
        assert!(
            restored.iter().any(|body| body.contains("⟦…⟧")),
            "{kinds}: the context went along, its spans as placeholders"
        );
        for n in 0..5 {
            for span in protected(n).iter().chain([&"Schattenwert".to_owned()]) {
                assert!(english.contains(span.as_str()), "{kinds}: {span} came back");
                for body in drafted.iter().chain(&restored) {
                    assert!(
                        !body.contains(span.as_str()),
                        "{kinds}: {span} sent in {body}"
                    );
                }
            }
        }
    }
}

/// A plain-text article of five paragraphs.
fn article() -> String {
    [
        "Der Bericht beginnt mit einem Rückblick auf das letzte Jahr.",
        "Im Frühjahr stiegen die Kosten für den Betrieb deutlich an.",
        "Im Sommer hat das Team die Dienste auf kleinere Maschinen umgezogen.",
        "Im Herbst fielen die Ausgaben wieder auf das alte Niveau.",
        "Der Ausblick auf das neue Jahr ist vorsichtig optimistisch.",
    ]
    .join("\n\n")
        + "\n"
}

/// Segments the request bodies carry: DeepL's `text` items, or the segment protocol's
/// `segments` inside an OpenAI chat request.
fn segments_in(bodies: &[String]) -> usize {
    bodies
        .iter()
        .map(|body| {
            let body: Value = serde_json::from_str(body).expect("a JSON body");
            if let Some(texts) = body["text"].as_array() {
                return texts.len();
            }
            let user = body["messages"][1]["content"].as_str().unwrap_or("{}");
            let user: Value = serde_json::from_str(user).expect("the segment protocol");
            user["segments"].as_array().map_or(0, Vec::len)
        })
        .sum()
}

#[tokio::test]
async fn after_an_edit_only_the_changed_paragraph_is_sent() {
    for with_draft in [true, false] {
        let (draft, restore) = (deepl().await, openai().await);
        let env = project(with_draft.then_some(&draft), &restore, "");
        env.write("article.de.txt", article());
        let first = fix(&env, &["article.de.txt"]);
        assert_eq!(first.status.code(), Some(0), "{}", stderr_of(&first));
        let sent_before = (
            bodies(&draft.server).await.len(),
            bodies(&restore.server).await.len(),
        );
        assert_eq!(segments_in(&bodies(&restore.server).await), 5);

        let edited = article().replace("Im Sommer hat", "Im Sommer 2024 hat");
        env.write("article.de.txt", edited);
        let planned = fix(&env, &["article.de.txt", "--dry-run"]);
        let plan = stderr_of(&planned);
        assert_eq!(planned.status.code(), Some(0), "{plan}");
        let passes = if with_draft { 2 } else { 1 };
        assert_eq!(
            plan.matches("1 of 5 paragraphs to send").count(),
            passes,
            "{plan}"
        );

        let second = fix(&env, &["article.de.txt"]);
        assert_eq!(second.status.code(), Some(0), "{}", stderr_of(&second));
        let drafted = bodies(&draft.server).await;
        let restored = bodies(&restore.server).await;
        if with_draft {
            assert_eq!(segments_in(&drafted[sent_before.0..]), 1, "deepl");
        }
        assert_eq!(segments_in(&restored[sent_before.1..]), 1, "openai");
        let english = String::from_utf8(env.read("article.en.txt")).expect("UTF-8");
        assert_eq!(english.matches("The restored English").count(), 5);
    }
}
