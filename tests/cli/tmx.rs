//! TMX 1.4b: `cache export --tmx` and `fix --report run.tmx` write translation memories that
//! validate against the TMX DTD (the real `xmllint`), protected spans as `<ph>`.

use std::path::Path;

use crate::common::{TestEnv, have, stderr_of};
use crate::mocks::Model;
use crate::online::{fix, project, servers};
use crate::xliff::XMLLINT;

/// `path` validated against the vendored TMX 1.4b DTD; `false` (skipped) without xmllint.
/// Copies the DTD into `path`'s folder.
fn valid(path: &Path) -> bool {
    if !have(&XMLLINT) {
        return false;
    }
    let dtd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/specs/tmx14.dtd");
    // The document's own `<!DOCTYPE tmx SYSTEM "tmx14.dtd">` is read too: put it beside it,
    // as a CAT tool has it.
    let beside = path.with_file_name("tmx14.dtd");
    std::fs::copy(&dtd, &beside).expect("copy the DTD");
    let out = std::process::Command::new(XMLLINT.program)
        .args(["--noout", "--dtdvalid"])
        .arg(&dtd)
        .arg(path)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{} is not valid TMX 1.4b:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

fn read(env: &TestEnv, rel: &str) -> String {
    String::from_utf8(env.read(rel)).expect("UTF-8")
}

const MARKDOWN: &str = "# Über `klartext`\n\n\
    Rufe `klartext fix --json` auf und lies [die Anleitung](https://example.org/a?b=1&c=2).\n\n\
    Mehr unter https://example.org/mehr.\n";

#[tokio::test]
async fn cache_export_writes_valid_tmx_with_spans_as_ph() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    env.write("guide.de.md", MARKDOWN);
    let out = fix(&env, &["article.de.txt", "guide.de.md", "--view", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    let export = env
        .cmd()
        .args(["cache", "export", "--tmx", "memory.tmx"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&export);
    assert_eq!(export.status.code(), Some(0), "{stderr}");
    let tmx = read(&env, "memory.tmx");
    let units = tmx.matches("<tu ").count();
    assert!(units > 3, "{tmx}");
    assert!(
        stderr.contains(&format!("wrote {units} translation units to memory.tmx")),
        "{stderr}"
    );
    assert!(
        tmx.contains("<prop type=\"x-backend\">openai</prop>"),
        "{tmx}"
    );
    assert!(
        tmx.contains("<prop type=\"x-model\">gpt-4.1-mini</prop>"),
        "{tmx}"
    );
    // Code and the link target are placeholders on both sides, never plain text.
    let code = "<ph x=\"1\">`klartext fix --json`</ph>";
    assert_eq!(tmx.matches(code).count(), 2, "{tmx}");
    assert!(
        tmx.contains("<ph x=\"3\">](https://example.org/a?b=1&amp;c=2)</ph>"),
        "{tmx}"
    );
    assert_eq!(
        tmx.matches("<ph x=\"1\">https://example.org/mehr</ph>")
            .count(),
        2,
        "{tmx}"
    );
    assert!(!tmx.contains("⟦"), "{tmx}");
    valid(&env.path("memory.tmx"));

    // A file klartext did not write is kept unless --force.
    env.write("theirs.tmx", "mine");
    let refused = env
        .cmd()
        .args(["cache", "export", "--tmx", "theirs.tmx"])
        .output()
        .expect("runs");
    assert_ne!(refused.status.code(), Some(0));
    assert_eq!(read(&env, "theirs.tmx"), "mine");
    let forced = env
        .cmd()
        .args(["cache", "export", "--tmx", "theirs.tmx", "--force"])
        .output()
        .expect("runs");
    assert_eq!(forced.status.code(), Some(0), "{}", stderr_of(&forced));
    assert_eq!(read(&env, "theirs.tmx").matches("<tu ").count(), units);
}

#[test]
fn an_empty_cache_exports_a_valid_empty_memory() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["cache", "export", "--tmx", "empty.tmx"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("wrote 0 translation units"));
    valid(&env.path("empty.tmx"));
}

#[tokio::test]
async fn fix_report_tmx_has_a_unit_per_finished_paragraph_of_each_file() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    env.write("guide.de.md", MARKDOWN);
    let out = fix(
        &env,
        &[
            "article.de.txt",
            "guide.de.md",
            "--view",
            "none",
            "--report",
            "run.tmx",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let tmx = read(&env, "run.tmx");
    let guide = tmx
        .matches("<prop type=\"x-file\">guide.de.md</prop>")
        .count();
    let article = tmx
        .matches("<prop type=\"x-file\">article.de.txt</prop>")
        .count();
    assert_eq!(guide, 3, "{tmx}");
    assert!(article > 3, "{tmx}");
    assert_eq!(tmx.matches("<tu ").count(), guide + article);
    assert_eq!(
        tmx.matches("<prop type=\"x-model\">gpt-4.1-mini</prop>")
            .count(),
        guide + article
    );
    // The English as written.
    let english = read(&env, "guide.en.md");
    let first = english.lines().next().expect("a heading");
    let heading = first
        .trim_start_matches("# ")
        .replace("`klartext`", "<ph x=\"1\">`klartext`</ph>");
    assert!(
        tmx.contains(&format!("<seg>{heading}</seg>")),
        "{tmx}\n{english}"
    );
    assert!(
        tmx.contains("<ph x=\"3\">](https://example.org/a?b=1&amp;c=2)</ph>"),
        "{tmx}"
    );
    valid(&env.path("run.tmx"));
}

#[tokio::test]
async fn fix_report_tmx_of_one_file_is_a_whole_memory() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    env.write("guide.de.md", MARKDOWN);
    let out = fix(&env, &["guide.de.md", "--report", "guide.tmx"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("wrote guide.tmx"),
        "{}",
        stderr_of(&out)
    );
    let tmx = read(&env, "guide.tmx");
    assert_eq!(tmx.matches("<tu ").count(), 3, "{tmx}");
    assert_eq!(
        tmx.matches("<ph x=\"1\">`klartext fix --json`</ph>")
            .count(),
        2,
        "{tmx}"
    );
    valid(&env.path("guide.tmx"));
}

#[test]
fn diff_refuses_a_tmx_report() {
    let env = TestEnv::new();
    env.write("a.txt", "eins\n");
    env.write("b.txt", "zwei\n");
    let out = env
        .cmd()
        .args(["diff", "a.txt", "b.txt", "--report", "d.tmx"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("klartext fix --report run.tmx"),
        "{}",
        stderr_of(&out)
    );
    assert!(!env.path("d.tmx").exists());
}

async fn requests(server: &wiremock::MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn a_memory_from_one_run_answers_the_same_corpus_without_requests() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    env.write("guide.de.md", MARKDOWN);
    let corpus = ["article.de.txt", "guide.de.md"];
    let args = |extra: &[&'static str]| {
        let mut args = corpus.to_vec();
        args.extend(["--view", "none"]);
        args.extend(extra);
        args
    };
    let out = fix(&env, &args(&["--report", "run.tmx"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let sent = requests(&servers.chat).await;
    assert!(sent > 0);
    let first = (read(&env, "article.en.txt"), read(&env, "guide.en.md"));

    // The cache is out of the game: only the memory can answer.
    let again = fix(
        &env,
        &args(&["--no-cache", "--memory", "run.tmx", "--json"]),
    );
    let stdout = crate::common::stdout_of(&again);
    assert_eq!(again.status.code(), Some(0), "{}", stderr_of(&again));
    assert_eq!(
        requests(&servers.chat).await,
        sent,
        "the memory answered everything"
    );
    assert_eq!(
        (read(&env, "article.en.txt"), read(&env, "guide.en.md")),
        first,
        "the same outputs, byte for byte"
    );
    let planned = fix(
        &env,
        &args(&["--no-cache", "--memory", "run.tmx", "--dry-run"]),
    );
    assert!(
        stderr_of(&planned).contains("0 of 8 paragraphs to send in 0 requests")
            && stderr_of(&planned).contains("(0 cached, 8 from the memory)"),
        "a dry run plans nothing for the memory's paragraphs: {}",
        stderr_of(&planned)
    );
    // Marked as memory hits in the JSON report, and still verified.
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let segments: Vec<serde_json::Value> = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["segments"].as_array().cloned().unwrap_or_default())
        .collect();
    assert!(!segments.is_empty(), "{stdout}");
    assert!(
        segments.iter().all(|s| s["final_backend"] == "memory"),
        "{stdout}"
    );
    assert!(
        segments
            .iter()
            .any(|s| !s["findings"].as_array().expect("findings").is_empty()),
        "verify ran on the memory's English: {stdout}"
    );
}

#[tokio::test]
async fn a_memory_in_the_config_answers_what_it_has_and_the_rest_is_sent() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    env.write(
        "mem/team.tmx",
        "<?xml version=\"1.0\"?>\n<tmx version=\"1.4\"><header creationtool=\"x\" \
         creationtoolversion=\"1\" segtype=\"paragraph\" o-tmf=\"x\" adminlang=\"en\" \
         srclang=\"de\" datatype=\"plaintext\"/><body>\
         <tu><tuv xml:lang=\"de-DE\"><seg>Das   Team arbeitet weiter.</seg></tuv>\
         <tuv xml:lang=\"en-US\"><seg>The team keeps &lt;working&gt;.</seg></tuv></tu>\
         </body></tmx>\n",
    );
    let config = read(&env, ".klartext.toml");
    env.write(
        ".klartext.toml",
        format!("memory = [\"mem/team.tmx\"]\n{config}"),
    );
    env.write(
        "short.de.txt",
        "Das Team arbeitet weiter.\n\nDer Plan ist fertig.\n",
    );
    let out = fix(&env, &["short.de.txt", "--view", "none", "-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("memory: ")
            && stderr_of(&out).contains("(1 unit)")
            && stderr_of(&out).contains(
                "0 of 2 paragraphs from the cache, 1 from the translation memory, 1 sent"
            )
            && stderr_of(&out).contains("final paragraphs: 1 by memory, 1 by openai"),
        "{}",
        stderr_of(&out)
    );
    let english = read(&env, "short.en.txt");
    assert!(
        english.starts_with("The team keeps <working>.\n\n"),
        "{english}"
    );
    assert!(
        english.contains("paragraph s1"),
        "the other paragraph was sent: {english}"
    );
    assert_eq!(requests(&servers.chat).await, 1);
}

#[test]
fn a_memory_that_is_not_tmx_stops_the_run_before_anything_is_sent() {
    let env = TestEnv::new();
    env.write(".klartext.toml", "[passes]\nrestore = \"openai\"\n[backends.openai]\nmodel = \"m\"\nbase_url = \"http://127.0.0.1:9/v1\"\n");
    env.write("a.de.txt", "Hallo.\n");
    env.write("bad.tmx", "<xliff version=\"2.1\"/>\n");
    let out = env
        .cmd()
        .env("OPENAI_API_KEY", "sk-x")
        .args(["fix", "a.de.txt", "--memory", "bad.tmx"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.tmx is not a TMX translation memory"),
        "{stderr}"
    );
    assert!(!env.path("a.en.txt").exists());
}

#[tokio::test]
async fn a_folder_run_records_the_memory_among_the_backends() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    env.write("in/guide.de.md", MARKDOWN);
    env.write("in/other.de.txt", "Der Plan ist fertig.\n");
    let out = fix(
        &env,
        &["in/guide.de.md", "--view", "none", "--report", "guide.tmx"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let sent = requests(&servers.chat).await;
    let out = fix(
        &env,
        &[
            "in",
            "-o",
            "out",
            "--no-cache",
            "--memory",
            "guide.tmx",
            "--report",
            "out.tmx",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        requests(&servers.chat).await,
        sent + 1,
        "only the other file is sent"
    );
    let record: serde_json::Value =
        serde_json::from_str(&read(&env, "out/klartext-report.json")).expect("JSON");
    let finals: Vec<&serde_json::Value> = record["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| &f["backends"]["final"])
        .collect();
    assert_eq!(
        finals,
        [
            &serde_json::json!(["memory"]),
            &serde_json::json!(["openai"])
        ]
    );
    let tmx = read(&env, "out.tmx");
    assert_eq!(
        tmx.matches("<prop type=\"x-backend\">memory</prop>")
            .count(),
        3,
        "{tmx}"
    );
    assert!(!tmx.contains("<prop type=\"x-model\">memory"), "{tmx}");
    valid(&env.path("out.tmx"));
}

/// `cache export --tmx FILE --reviewed OUT`: the reviewer's English (as `review --apply` left
/// it) takes the place of the machine's, marked `x-review`, and is there even when the cache
/// is gone; without `--reviewed` the memory keeps the machine's English.
#[tokio::test]
async fn cache_export_takes_the_reviewed_english_with_reviewed() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, true);
    env.write(
        "two.de.txt",
        "Der Bericht wurde gestern veröffentlicht.\n\nDas Team arbeitet weiter an dem Plan.\n",
    );
    let out = fix(&env, &["two.de.txt", "--view", "none"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let record: serde_json::Value =
        serde_json::from_slice(&env.read(".klartext/two.en.txt.json")).expect("a record");
    let side = |i: usize, key: &str| {
        record["paragraphs"][i][key]
            .as_str()
            .expect("a paragraph")
            .to_owned()
    };
    let (s0_machine, s1_machine, s1_draft) = (side(0, "new"), side(1, "new"), side(1, "old"));
    assert_ne!(s1_machine, s1_draft, "{record}");
    let seg = |english: &str| format!("<tuv xml:lang=\"en\"><seg>{english}</seg></tuv>");

    // Without --reviewed: the machine's English, nothing marked.
    let export = |file: &str, reviewed: &[&str]| {
        let out = env
            .cmd()
            .args(["cache", "export", "--tmx", file])
            .args(reviewed)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        (read(&env, file), stderr_of(&out))
    };
    let (machine, _) = export("machine.tmx", &[]);
    assert!(machine.contains(&seg(&s0_machine)), "{machine}");
    assert!(machine.contains(&seg(&s1_machine)), "{machine}");
    assert!(!machine.contains("x-review"), "{machine}");
    valid(&env.path("machine.tmx"));

    // A reviewer rewrites s0 and keeps the draft of s1 (as applying an edited XLIFF does).
    env.write(
        "decisions.json",
        r#"{"schema": "klartext.decisions/1", "output": "two.en.txt", "paragraphs": [
            {"id": "s0", "decision": "edit", "text": "The report came out yesterday & was read."},
            {"id": "s1", "decision": "reject"}]}"#,
    );
    let out = env
        .cmd()
        .args(["review", "two.en.txt", "--apply", "decisions.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));

    let edited = "The report came out yesterday &amp; was read.";
    for (file, reviewed) in [("reviewed.tmx", "."), ("one.tmx", "two.en.txt")] {
        let (tmx, stderr) = export(file, &["--reviewed", reviewed]);
        assert!(tmx.contains(&seg(edited)), "{tmx}");
        assert!(tmx.contains(&seg(&s1_draft)), "{tmx}");
        assert!(!tmx.contains(&seg(&s0_machine)), "{tmx}");
        assert!(!tmx.contains(&seg(&s1_machine)), "{tmx}");
        let units = tmx.matches("<tu ").count();
        assert_eq!(units, machine.matches("<tu ").count(), "{tmx}");
        assert!(
            stderr.contains(&format!("wrote {units} translation units to {file}")),
            "{stderr}"
        );
        // The edited correction keeps the model that made it; the kept draft is DeepL's.
        for (outcome, english, by) in [
            (
                "edited",
                edited,
                "<prop type=\"x-model\">gpt-4.1-mini</prop>",
            ),
            (
                "rejected",
                s1_draft.as_str(),
                "<prop type=\"x-backend\">deepl</prop>",
            ),
        ] {
            let unit = tmx
                .split("<tu ")
                .find(|u| u.contains(&seg(english)))
                .expect("a unit");
            // Properties come before the variants, as the DTD wants.
            let prop = format!("<prop type=\"x-review\">{outcome}</prop>");
            let at = unit
                .find(&prop)
                .unwrap_or_else(|| panic!("{prop} in {unit}"));
            assert!(at < unit.find("<tuv").expect("variants"), "{unit}");
            assert!(unit.contains(by), "{unit}");
            assert!(
                unit.contains("<prop type=\"x-file\">two.de.txt</prop>"),
                "{unit}"
            );
        }
        valid(&env.path(file));
    }

    // The cache gone, the records alone still make the reviewed memory.
    let out = env.cmd().args(["cache", "clear"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let (tmx, _) = export("records.tmx", &["--reviewed", "."]);
    assert_eq!(tmx.matches("<tu ").count(), 2, "{tmx}");
    assert!(tmx.contains(&seg(edited)), "{tmx}");
    assert!(
        tmx.contains("<prop type=\"x-review\">rejected</prop>"),
        "{tmx}"
    );
    // The kept draft is DeepL's, the edited correction the model's.
    assert!(
        tmx.contains(
            "<prop type=\"x-backend\">deepl</prop>\n      <prop type=\"x-review\">rejected</prop>"
        ),
        "{tmx}"
    );
    assert!(
        tmx.contains(
            "<prop type=\"x-backend\">openai</prop>\n      <prop type=\"x-review\">edited</prop>"
        ),
        "{tmx}"
    );
    valid(&env.path("records.tmx"));
}

/// Trados and other CAT tools save TMX as UTF-16: read like a document, BOM and all.
#[tokio::test]
async fn a_memory_saved_as_utf16_is_read() {
    let servers = servers(Model::Good).await;
    let env = project(&servers, false);
    let tmx = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<tmx version=\"1.4\">\
               <header creationtool=\"x\" creationtoolversion=\"1\" segtype=\"paragraph\" \
               o-tmf=\"x\" adminlang=\"en\" srclang=\"de\" datatype=\"plaintext\"/><body>\
               <tu><tuv xml:lang=\"de\"><seg>Das Team arbeitet weiter.</seg></tuv>\
               <tuv xml:lang=\"en\"><seg>The team keeps working.</seg></tuv></tu>\
               </body></tmx>\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(tmx.encode_utf16().flat_map(u16::to_le_bytes));
    env.write("team.tmx", bytes);
    env.write("short.de.txt", "Das Team arbeitet weiter.\n");
    let out = fix(&env, &["short.de.txt", "--memory", "team.tmx", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("(0 cached, 1 from the memory)"),
        "{}",
        stderr_of(&out)
    );
}
