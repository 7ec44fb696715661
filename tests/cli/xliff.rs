//! The XLIFF round trip: `fix --report FILE.xlf` writes XLIFF 1.2 that the official schema
//! accepts, with protected spans as `<ph>` inline codes; `review --apply FILE.xlf` takes the
//! targets back (as a CAT tool would leave them) as review decisions, and refuses a unit whose
//! inline codes were broken.

use std::process::{Command, Output};

use crate::common::{TestEnv, Tool, have, stderr_of, stdout_of};
use crate::mocks::Model;
use crate::online::{DOUBTS_ARTICLE, Servers, fix, project, servers};

/// The validator the XLIFF and TMX tests run (skipped without it).
pub const XMLLINT: Tool = Tool {
    program: "xmllint",
    install: "apt-get install libxml2-utils",
};

const GUIDE: &str = "# Einrichtung\n\n\
    Setze `max_idle` auf 5, siehe [die Doku](https://example.org/doku).\n\n\
    Der zweite Absatz ist kurz.\n";

/// A project with a draft pass (its mock servers returned, to keep serving) where `name`
/// holds `german`, after `fix FILES --view none --report REPORT` succeeded; fix's output.
async fn fixed(
    model: Model,
    (name, german): (&str, &str),
    files: &[&str],
    report: &str,
) -> (Servers, TestEnv, Output) {
    let servers = servers(model).await;
    let env = project(&servers, true);
    env.write(name, german);
    let args = [files, &["--view", "none", "--report", report]].concat();
    let out = fix(&env, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    (servers, env, out)
}

fn review(env: &TestEnv, args: &[&str]) -> Output {
    env.cmd().arg("review").args(args).output().expect("runs")
}

fn text(env: &TestEnv, file: &str) -> String {
    String::from_utf8(env.read(file)).expect("UTF-8")
}

/// `xmllint` validates `file` against the vendored XLIFF 1.2 strict schema, offline.
fn assert_valid(env: &TestEnv, file: &str) {
    if !have(&XMLLINT) {
        return;
    }
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs/xliff-core-1.2-strict.xsd");
    let out = Command::new(XMLLINT.program)
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg(env.path(file))
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{file} is not valid XLIFF 1.2:\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        text(env, file)
    );
}

/// The text of `xml` with every `<ph …>…</ph>` taken out: what a translator can type over.
fn outside_codes(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<ph ") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("</ph>").expect("a closed <ph>") + start + 5;
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Where unit `id`'s own `<target>` opens and its content starts and ends.
fn target_of(xml: &str, id: &str) -> (usize, usize, usize) {
    let unit = xml
        .find(&format!("<trans-unit id=\"{id}\""))
        .unwrap_or_else(|| panic!("unit {id} in {xml}"));
    let open = xml[unit..].find("<target ").expect("a target") + unit;
    let start = xml[open..].find('>').expect("the tag ends") + open + 1;
    let end = xml[start..].find("</target>").expect("the target ends") + start;
    (open, start, end)
}

fn set_target(xml: &str, id: &str, content: &str) -> String {
    let (_, start, end) = target_of(xml, id);
    format!("{}{content}{}", &xml[..start], &xml[end..])
}

fn target(xml: &str, id: &str) -> String {
    let (_, start, end) = target_of(xml, id);
    xml[start..end].to_owned()
}

fn set_state(xml: &str, id: &str, state: &str) -> String {
    let (open, start, _) = target_of(xml, id);
    let tag = &xml[open..start];
    let at = tag.find("state=\"").expect("a state") + 7;
    let len = tag[at..].find('"').expect("quoted");
    let tag = format!("{}{state}{}", &tag[..at], &tag[at + len..]);
    format!("{}{tag}{}", &xml[..open], &xml[start..])
}

/// The draft klartext offered for unit `id` (its `<alt-trans>` target).
fn draft(xml: &str, id: &str) -> String {
    let unit = xml.find(&format!("<trans-unit id=\"{id}\"")).expect("unit");
    let alt = xml[unit..].find("<alt-trans").expect("a draft") + unit;
    target(
        &xml[alt..].replacen("<alt-trans", &format!("<trans-unit id=\"{id}\""), 1),
        id,
    )
}

#[tokio::test]
async fn fix_writes_valid_xliff_with_protected_spans_as_inline_codes() {
    let (_servers, env, out) = fixed(
        Model::Good,
        ("guide.de.md", GUIDE),
        &["guide.de.md"],
        "run.xlf",
    )
    .await;
    assert!(
        stderr_of(&out).contains("wrote run.xlf"),
        "{}",
        stderr_of(&out)
    );
    let xml = text(&env, "run.xlf");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xliff version=\"1.2\""));
    assert!(
        xml.contains("<file original=\"guide.de.md\" source-language=\"de\" target-language=\"en\" datatype=\"x-markdown\""),
        "{xml}"
    );
    let code = "<ph id=\"1\" ctype=\"x-code\" equiv-text=\"`max_idle`\">`max_idle`</ph>";
    let link = "ctype=\"x-link\" equiv-text=\"](https://example.org/doku)\">](https://example.org/doku)</ph>";
    let unit = &xml[xml.find("<trans-unit id=\"s1\"").expect("unit s1")..];
    let unit = &unit[..unit.find("</trans-unit>").expect("closed")];
    let source = &unit[..unit.find("</source>").expect("source")];
    let final_ = target(&xml, "s1");
    for (side, part) in [("source", source), ("target", final_.as_str())] {
        assert!(part.contains(code), "{side}: {part}");
        assert!(part.contains(link), "{side}: {part}");
    }
    // Nowhere as plain text a translator could break.
    let plain = outside_codes(&xml);
    for span in ["max_idle`", "example.org/doku)"] {
        assert!(!plain.contains(span), "{span}: {plain}");
        assert!(
            !outside_codes(source).contains(span),
            "{span} in the source: {source}"
        );
        assert!(
            !outside_codes(&final_).contains(span),
            "{span} in the target: {final_}"
        );
    }
    assert_valid(&env, "run.xlf");
}

#[tokio::test]
async fn an_xliff_edited_elsewhere_is_applied_by_review() {
    let (_servers, env, _) = fixed(
        Model::Doubts,
        ("article.de.txt", DOUBTS_ARTICLE),
        &["article.de.txt"],
        "run.xlf",
    )
    .await;
    assert_valid(&env, "run.xlf");
    let xml = text(&env, "run.xlf");
    // The model doubted s1: it asks for review, with the doubt as a note; the others do not.
    for (id, state) in [
        ("s0", "translated"),
        ("s1", "needs-review-translation"),
        ("s2", "translated"),
    ] {
        let (open, start, _) = target_of(&xml, id);
        assert!(
            xml[open..start].contains(&format!("state=\"{state}\"")),
            "{id}: {xml}"
        );
    }
    assert!(
        xml.contains("<note from=\"model\" priority=\"2\" annotates=\"target\">warning · model: The sentence seems cut off"),
        "{xml}"
    );
    let before = text(&env, "article.en.txt");
    let s1 = target(&xml, "s1");

    // A reviewer in a CAT tool: takes the draft for s0, rewrites s2, confirms s1.
    let s0_draft = draft(&xml, "s0");
    let edited = set_target(&xml, "s0", &s0_draft);
    let edited = set_target(
        &edited,
        "s2",
        "The team keeps working on the plan &amp; more.",
    );
    let edited = set_state(&edited, "s1", "signed-off");
    env.write("edited.xlf", &edited);

    let out = review(&env, &["article.en.txt", "--apply", "edited.xlf", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("edited.xlf: applied 2 accepted, 1 rejected, 1 edited"),
        "{}",
        stderr_of(&out)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout_of(&out)).expect("JSON");
    assert_eq!(summary[0]["accepted"], 2, "{summary}");
    assert_eq!(summary[0]["rejected"], 1, "{summary}");
    assert_eq!(summary[0]["edited"], 1, "{summary}");
    assert_eq!(summary[0]["pending"], 0, "{summary}");
    assert_eq!(summary[0]["written"], true, "{summary}");

    let after = text(&env, "article.en.txt");
    assert_ne!(after, before);
    let paragraphs: Vec<&str> = after.split("\n\n").map(str::trim).collect();
    assert_eq!(paragraphs[0], s0_draft, "{after}");
    assert_eq!(paragraphs[1], s1, "{after}");
    assert_eq!(
        paragraphs[2], "The team keeps working on the plan & more.",
        "{after}"
    );
    let saved: serde_json::Value =
        serde_json::from_slice(&env.read(".klartext/article.en.txt.review.json")).expect("saved");
    let decision = |id: &str| {
        saved["paragraphs"]
            .as_array()
            .and_then(|all| all.iter().rev().find(|p| p["id"] == id))
            .map(|p| p["decision"].clone())
    };
    assert_eq!(decision("s0"), Some("reject".into()), "{saved}");
    assert_eq!(decision("s1"), Some("accept".into()), "{saved}");
    assert_eq!(decision("s2"), Some("edit".into()), "{saved}");
}

#[tokio::test]
async fn review_refuses_an_xliff_whose_inline_code_was_broken() {
    let (_servers, env, _) = fixed(
        Model::Good,
        ("guide.de.md", GUIDE),
        &["guide.de.md"],
        "run.xlf",
    )
    .await;
    let xml = text(&env, "run.xlf");
    let before = text(&env, "guide.en.md");

    // Taken back unchanged, the inline codes turn into the protected text again.
    let out = review(&env, &["guide.en.md", "--apply", "run.xlf"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(text(&env, "guide.en.md"), before);
    assert!(before.contains("`max_idle`") && before.contains("](https://example.org/doku)"));

    // A translator typed over the code: the file is refused, naming the file and the unit.
    let final_ = target(&xml, "s1");
    let broken = final_.replacen(
        "<ph id=\"1\" ctype=\"x-code\" equiv-text=\"`max_idle`\">`max_idle`</ph>",
        "max_idle",
        1,
    );
    assert_ne!(broken, final_);
    env.write("broken.xlf", set_target(&xml, "s1", &broken));
    let out = review(&env, &["guide.en.md", "--apply", "broken.xlf"]);
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    for part in [
        "broken.xlf",
        "file guide.de.md",
        "unit s1",
        "inline code 1",
        "removed",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    assert_eq!(text(&env, "guide.en.md"), before, "nothing written");

    // An altered code is refused too.
    let altered = final_.replacen(">`max_idle`</ph>", ">`max_busy`</ph>", 1);
    env.write("altered.xlf", set_target(&xml, "s1", &altered));
    let out = review(&env, &["guide.en.md", "--apply", "altered.xlf"]);
    assert_ne!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("was changed"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn diff_refuses_an_xliff_report() {
    let env = TestEnv::new();
    env.write("a.txt", "Eins.\n");
    env.write("b.txt", "Zwei.\n");
    let out = env
        .cmd()
        .args(["diff", "a.txt", "b.txt", "--report", "d.xlf"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("only fix writes one"),
        "{}",
        stderr_of(&out)
    );
    assert!(!env.path("d.xlf").exists());
}

#[tokio::test]
async fn a_run_over_several_files_writes_one_xliff_and_review_applies_it_to_each() {
    let (_servers, env, _) = fixed(
        Model::Good,
        ("guide.de.md", GUIDE),
        &["guide.de.md", "article.de.txt"],
        "run.xliff",
    )
    .await;
    assert_valid(&env, "run.xliff");
    let xml = text(&env, "run.xliff");
    assert_eq!(xml.matches("<file ").count(), 2, "{xml}");
    let guide = xml.find("original=\"guide.de.md\"").expect("the guide");
    let article = xml
        .find("original=\"article.de.txt\"")
        .expect("the article");
    assert!(guide < article, "in the run's order: {xml}");

    // One edit in each file, applied to the folder's outputs.
    let (_, start, end) = target_of(&xml[article..], "s0");
    let edited = format!(
        "{}My article starts here.{}",
        &xml[..article + start],
        &xml[article + end..]
    );
    let edited = set_target(&edited, "s2", "My second paragraph.");
    env.write("edited.xliff", &edited);
    let out = review(&env, &[".", "--apply", "edited.xliff", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(text(&env, "guide.en.md").contains("My second paragraph."));
    assert!(text(&env, "article.en.txt").starts_with("My article starts here."));
}

#[test]
fn an_offline_run_has_no_xliff_to_write() {
    let env = TestEnv::new();
    env.write("a.de.txt", "Das ist ein Satz ,der repariert wird.\n");
    let out = env
        .cmd()
        .args(["fix", "a.de.txt", "--report", "a.xlf"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("an XLIFF report holds translations"),
        "{stderr}"
    );
    assert!(!env.path("a.xlf").exists());
    assert!(
        !env.path("a.txt").exists(),
        "refused before anything was written"
    );
}
