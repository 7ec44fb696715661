use crate::common::{TestEnv, stderr_of, stdout_of, widest_line};

const OLD: &str = "The decision was made at the back foot, as rivals like Amazon accelerate their own plans for custom silicon.\n\nThis paragraph stays the same.\n\nA third paragraph with a long address https://example.org/a/very/long/path/that/does/not/fit/in/one/pane/at/all.html inside.\n";
const NEW: &str = "The company was on the back foot as rivals such as Amazon accelerated their own custom silicon plans.\n\nThis paragraph stays the same.\n\nA third paragraph with a long address https://example.org/a/very/long/path/that/does/not/fit/in/one/pane/at/all.html in it.\n";

#[test]
fn different_files_exit_1_and_fit_the_width() {
    let env = TestEnv::new();
    env.write("old.txt", OLD);
    env.write("new.txt", NEW);
    let out = env
        .cmd()
        .args(["diff", "old.txt", "new.txt", "--width", "80"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(stdout.contains(" │ "), "{stdout}");
    assert!(widest_line(&stdout) <= 80, "{stdout}");
    assert!(
        stdout.contains("unchanged"),
        "the equal paragraph is folded:\n{stdout}"
    );
}

#[test]
fn identical_files_exit_0() {
    let env = TestEnv::new();
    env.write("a.txt", OLD);
    env.write("b.txt", OLD);
    env.cmd().args(["diff", "a.txt", "b.txt"]).assert().code(0);
}

#[test]
fn every_view_fits_and_json_is_valid() {
    let env = TestEnv::new();
    env.write("old.txt", OLD);
    env.write("new.txt", NEW);
    for view in ["side-by-side", "stacked", "inline"] {
        for width in ["40", "80", "200"] {
            let out = env
                .cmd()
                .args([
                    "diff", "old.txt", "new.txt", "--view", view, "--width", width,
                ])
                .output()
                .expect("runs");
            let limit: usize = width.parse().expect("number");
            assert!(widest_line(&stdout_of(&out)) <= limit, "{view} at {width}");
        }
    }
    let out = env
        .cmd()
        .args(["diff", "--json", "old.txt", "new.txt"])
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["identical"], false);
    assert_eq!(json["pairs"].as_array().map(Vec::len), Some(3));
}

#[test]
fn errors_exit_2() {
    let env = TestEnv::new();
    env.write("a.txt", OLD);
    let out = env
        .cmd()
        .args(["diff", "a.txt", "nope.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("nope.txt"));
}

#[test]
fn control_characters_are_never_emitted_raw() {
    let env = TestEnv::new();
    env.write("a.txt", "Harmless text.\n");
    env.write("b.txt", "Harmless \x1b[2Jtext\u{202e}.\n");
    let out = env
        .cmd()
        .args(["diff", "a.txt", "b.txt"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\u{202e}'),
        "{stdout:?}"
    );
}

#[test]
fn paging_goes_through_the_configured_pager() {
    let env = TestEnv::new();
    env.write("old.txt", OLD);
    env.write("new.txt", NEW);
    let out = env
        .cmd()
        .args(["diff", "old.txt", "new.txt", "--paging", "always"])
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KLARTEXT_PAGER", "tee paged.txt")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let paged = String::from_utf8(env.read("paged.txt")).expect("UTF-8");
    assert!(paged.contains(" │ "), "{paged}");
    // Never on a pipe unless asked.
    let out = env
        .cmd()
        .args(["diff", "old.txt", "new.txt"])
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KLARTEXT_PAGER", "tee paged-again.txt")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(!env.path("paged-again.txt").exists());
}

#[test]
fn reports_and_unified_output() {
    let env = TestEnv::new();
    env.write("old.txt", OLD);
    env.write("new.txt", NEW);
    for name in ["r.html", "r.md", "r.json"] {
        let out = env
            .cmd()
            .args([
                "diff", "old.txt", "new.txt", "--report", name, "--view", "none",
            ])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
        assert!(!env.read(name).is_empty(), "{name} written");
    }
    let html = String::from_utf8(env.read("r.html")).expect("UTF-8");
    assert!(
        html.starts_with("<!DOCTYPE html>") && html.contains("<del"),
        "{html}"
    );
    let md = String::from_utf8(env.read("r.md")).expect("UTF-8");
    assert!(md.contains("{~~") || md.contains("{--"), "{md}");
    let json: serde_json::Value = serde_json::from_slice(&env.read("r.json")).expect("JSON");
    assert_eq!(json["schema"], "klartext.report/1");
    let bad = env
        .cmd()
        .args(["diff", "old.txt", "new.txt", "--report", "r.pdf"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr_of(&bad).contains("FILE.html"));
    let unified = env
        .cmd()
        .args(["diff", "old.txt", "new.txt", "--format", "unified"])
        .output()
        .expect("runs");
    let text = stdout_of(&unified);
    assert!(
        text.starts_with("--- old.txt") && text.contains("+++ new.txt"),
        "{text}"
    );
}

/// Headers number paragraphs by their places in each text, never by the pair's index: after
/// an inserted or deleted paragraph the numbers on the two sides differ, and no header names
/// a paragraph its side does not have (issue 12, item 16).
#[test]
fn headers_number_paragraphs_by_their_place_in_each_text() {
    let env = TestEnv::new();
    let old =
        "Alpha one two three.\n\nBeta four five six.\n\nGamma seven eight.\n\nDelta nine ten.\n";
    let inserted = "Alpha one two three.\n\nA new paragraph here.\n\nBeta four five six.\n\nGamma seven eight nine.\n\nDelta nine ten.\n";
    let deleted = "Alpha one two three.\n\nGamma seven eight.\n\nDelta nine ten, changed.\n";
    env.write("old.txt", old);
    env.write("inserted.txt", inserted);
    env.write("deleted.txt", deleted);
    let headers = |new: &str| -> Vec<String> {
        let out = env
            .cmd()
            .args(["diff", "old.txt", new, "--full", "--view", "stacked"])
            .output()
            .expect("runs");
        stdout_of(&out)
            .lines()
            .filter(|l| l.starts_with('¶'))
            .map(|l| l.split(" · ").take(2).collect::<Vec<_>>().join(" · "))
            .collect()
    };
    assert_eq!(
        headers("inserted.txt"),
        [
            "¶ 1 · unchanged",
            "¶ 2 · new",
            "¶ 2 → 3 · unchanged",
            "¶ 3 → 4 · 1 change",
            "¶ 4 → 5 · unchanged"
        ]
    );
    assert_eq!(
        headers("deleted.txt"),
        [
            "¶ 1 · unchanged",
            "¶ 2 · deleted",
            "¶ 3 → 2 · unchanged",
            "¶ 4 → 3 · 1 change"
        ]
    );
}

/// `diff --report` follows fix's rule: a file klartext did not write is never replaced without
/// `--force`; one it wrote is replaced freely (issue 12, item 1).
#[test]
fn a_report_never_replaces_a_file_klartext_did_not_write() {
    let env = TestEnv::new();
    env.write("old.txt", OLD);
    env.write("new.txt", NEW);
    env.write("mine.html", "my own page");
    let out = env
        .cmd()
        .args(["diff", "old.txt", "new.txt", "--report", "mine.html"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("mine.html"), "{}", stderr_of(&out));
    assert_eq!(env.read("mine.html"), b"my own page");
    for _ in 0..2 {
        env.cmd()
            .args(["diff", "old.txt", "new.txt", "--report", "ours.html"])
            .assert()
            .code(1);
    }
    env.cmd()
        .args([
            "diff",
            "old.txt",
            "new.txt",
            "--report",
            "mine.html",
            "--force",
        ])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&env.read("mine.html")).contains("<html"));
}
