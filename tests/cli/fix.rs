use crate::common::{TestEnv, sample, stderr_of, stdout_of, widest_line};

const GARBLED: &str =
    "Der Sprecher erklärte:”Wir liefern  morgen.”\n\nDie AWS-und Azure-Kunden warten.\n";
const REPAIRED: &str =
    "Der Sprecher erklärte: „Wir liefern morgen.“\n\nDie AWS- und Azure-Kunden warten.\n";

#[test]
fn sample_runs_offline_with_a_side_by_side_diff() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .arg("fix")
        .arg(sample("tech-news.de.txt"))
        .output()
        .expect("runs");
    let (stdout, stderr) = (stdout_of(&out), stderr_of(&out));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains(" │ "), "two panes:\n{stdout}");
    assert!(stdout.contains("{+"), "marked insertions:\n{stdout}");
    assert!(widest_line(&stdout) <= 100, "fits the width");
    let repairs: usize = stderr
        .split_whitespace()
        .zip(stderr.split_whitespace().skip(1))
        .find(|(_, w)| w.starts_with("repair"))
        .and_then(|(n, _)| n.parse().ok())
        .expect("a summary with the number of repairs");
    assert!(repairs >= 3, "several repairs: {stderr}");
    assert!(stderr.contains("configure a backend"), "{stderr}");
    assert!(!env.path("samples").exists(), "nothing written without -o");
}

#[test]
fn writes_the_repaired_german_with_o() {
    let env = TestEnv::new();
    env.write("a.de.txt", GARBLED);
    env.cmd()
        .args(["fix", "a.de.txt", "-o", "a.fixed.de.txt", "--view", "none"])
        .assert()
        .success();
    assert_eq!(env.read("a.fixed.de.txt"), REPAIRED.as_bytes());
    assert_eq!(env.read("a.de.txt"), GARBLED.as_bytes(), "input untouched");
}

#[test]
fn o_folder_uses_the_output_name() {
    let env = TestEnv::new();
    env.write("a.de.txt", GARBLED);
    std::fs::create_dir(env.path("out")).expect("mkdir");
    env.cmd()
        .args(["fix", "a.de.txt", "-o", "out", "--view", "none"])
        .assert()
        .success();
    assert_eq!(env.read("out/a.fixed.de.txt"), REPAIRED.as_bytes());
}

#[test]
fn windows_1252_is_read_and_written_back_as_windows_1252() {
    let env = TestEnv::new();
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(GARBLED);
    env.write("legacy.txt", &bytes);
    env.cmd()
        .args(["fix", "legacy.txt", "-o", "out.txt"])
        .assert()
        .success();
    let (expected, _, _) = encoding_rs::WINDOWS_1252.encode(REPAIRED);
    assert_eq!(env.read("out.txt"), expected.as_ref());
}

#[test]
fn utf16_with_bom_round_trips() {
    let env = TestEnv::new();
    let utf16 = |text: &str| -> Vec<u8> {
        [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect()
    };
    env.write("wide.txt", utf16(GARBLED));
    env.cmd()
        .args(["fix", "wide.txt", "-o", "out.txt"])
        .assert()
        .success();
    assert_eq!(env.read("out.txt"), utf16(REPAIRED));
}

/// Text is read as text: a stray control character is shown, not a reason to call the file
/// binary; UTF-16 without a BOM is recognised; UTF-8 with a bad byte is refused with where
/// that byte is, never read as Windows-1252 (which would garble every umlaut).
#[test]
fn text_that_is_not_plain_utf8_is_read_or_named_never_called_binary() {
    let env = TestEnv::new();
    env.write("esc.txt", "Hallo \x1b Welt.\n");
    let out = env
        .cmd()
        .args(["fix", "esc.txt", "-o", "esc.out.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(env.read("esc.out.txt"), b"Hallo \x1b Welt.\n");

    let utf16 =
        |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    env.write("wide.txt", utf16(GARBLED));
    let out = env
        .cmd()
        .args(["fix", "wide.txt", "-o", "wide.out.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(env.read("wide.out.txt"), utf16(REPAIRED), "no BOM added");

    env.write(
        "mixed.txt",
        b"Die Stra\xC3\x9Fe ist sch\xC3\xB6n.\nDer Mann gr\xFC\xDFt.\n",
    );
    assert_fails(
        &env,
        &["fix", "mixed.txt"],
        &[
            "mixed.txt",
            "not valid UTF-8",
            "line 2, byte 12",
            "0xFC",
            "iconv",
        ],
    );
    let out = env.cmd().args(["fix", "mixed.txt"]).output().expect("runs");
    assert!(!stderr_of(&out).contains("binary"), "{}", stderr_of(&out));
}

#[test]
fn crlf_is_preserved() {
    let env = TestEnv::new();
    env.write("dos.txt", GARBLED.replace('\n', "\r\n"));
    env.cmd()
        .args(["fix", "dos.txt", "-o", "out.txt"])
        .assert()
        .success();
    assert_eq!(
        env.read("out.txt"),
        REPAIRED.replace('\n', "\r\n").as_bytes()
    );
}

#[test]
fn empty_input_is_nothing_to_do() {
    let env = TestEnv::new();
    env.write("empty.txt", " \n\n");
    let out = env.cmd().args(["fix", "empty.txt"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr_of(&out).contains("empty.txt: empty, nothing to do"));
}

/// Each bad input gets one clear error line naming the file and the cause, and exit 2.
fn assert_fails(env: &TestEnv, args: &[&str], expected: &[&str]) {
    let out = env.cmd().args(args).output().expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.starts_with("klartext: error: "), "{stderr}");
    for part in expected {
        assert!(
            stderr.contains(part),
            "{args:?}: expected {part:?} in {stderr}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_inputs_fail_clearly() {
    let env = TestEnv::new();
    env.write("blob.bin", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0");
    env.write("folder/x.txt", "Text.");
    env.write("ok.txt", GARBLED);
    assert_fails(&env, &["fix", "blob.bin"], &["blob.bin", "binary"]);
    assert_fails(
        &env,
        &["fix", "missing.txt"],
        &["missing.txt", "no such file"],
    );
    assert_fails(
        &env,
        &["fix", "ok.txt", "-o", "nowhere/out.txt"],
        &["nowhere/out.txt", "does not exist"],
    );
    assert_fails(&env, &["fix", "ok.txt", "-o", "ok.txt"], &["input itself"]);
    assert_fails(
        &env,
        &["fix", "ok.txt", "folder/x.txt", "-o", "x"],
        &["one output"],
    );
}

#[test]
fn a_folder_offline_is_repaired_and_summarized() {
    let env = TestEnv::new();
    env.write("in/a.txt", GARBLED);
    env.write("in/sub/b.md", GARBLED);
    let out = env
        .cmd()
        .args(["fix", "in", "-o", "out"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("2 files: 2 ok"), "{stderr}");
    assert_eq!(env.read("out/a.fixed.txt"), REPAIRED.as_bytes());
    assert_eq!(env.read("out/sub/b.fixed.md"), REPAIRED.as_bytes());
    assert!(env.path("out/klartext-report.json").exists());
    assert_fails(
        &env,
        &["fix", "in", "-o", "in/out"],
        &["inside the input folder", "--exclude"],
    );
    env.cmd()
        .args(["fix", "in", "-o", "in/out", "--exclude", "out/"])
        .assert()
        .success();
}

#[test]
fn unreadable_file_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let path = env.write("locked.txt", GARBLED);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::read(&path).is_ok() {
        eprintln!("skipped: running as a user who can read mode-000 files (root)");
        return;
    }
    assert_fails(&env, &["fix", "locked.txt"], &["cannot read", "locked.txt"]);
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let env = TestEnv::new();
    env.write("good.txt", GARBLED);
    let out = env
        .cmd()
        .args([
            "fix",
            "missing.txt",
            "good.txt",
            "--in-place",
            "--no-backup",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(env.read("good.txt"), REPAIRED.as_bytes());
    assert!(stderr_of(&out).contains("1 of 2 inputs failed"));
}

#[test]
fn never_overwrites_a_foreign_output_without_force() {
    let env = TestEnv::new();
    env.write("a.txt", GARBLED);
    env.write("out.txt", "my own notes");
    assert_fails(
        &env,
        &["fix", "a.txt", "-o", "out.txt"],
        &["out.txt", "not written by klartext", "--force"],
    );
    assert_eq!(env.read("out.txt"), b"my own notes");
    env.cmd()
        .args(["fix", "a.txt", "-o", "out.txt", "--force"])
        .assert()
        .success();
    // Now it is ours: a re-run may replace it without --force.
    env.cmd()
        .args(["fix", "a.txt", "-o", "out.txt"])
        .assert()
        .success();
    assert_eq!(env.read("out.txt"), REPAIRED.as_bytes());
}

#[test]
fn in_place_keeps_a_backup() {
    let env = TestEnv::new();
    env.write("a.txt", GARBLED);
    env.cmd()
        .args(["fix", "a.txt", "--in-place"])
        .assert()
        .success();
    assert_eq!(env.read("a.txt"), REPAIRED.as_bytes());
    assert_eq!(env.read("a.txt.bak"), GARBLED.as_bytes());
    // A clean file is left alone: no rewrite, no backup.
    env.write("clean.txt", REPAIRED);
    env.cmd()
        .args(["fix", "clean.txt", "--in-place"])
        .assert()
        .success()
        .stderr(predicates::str::contains("nothing to change"));
    assert!(!env.path("clean.txt.bak").exists());
}

/// A backup never replaces a file: one klartext did not write keeps its name (even with
/// --force), and the backup takes the first free name, which klartext names.
#[test]
fn in_place_never_replaces_a_file_for_its_backup() {
    let env = TestEnv::new();
    env.write("a.txt", GARBLED);
    env.write("a.txt.bak", "keep");
    let out = env
        .cmd()
        .args(["fix", "a.txt", "--in-place", "--force"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(env.read("a.txt"), REPAIRED.as_bytes());
    assert_eq!(env.read("a.txt.bak"), b"keep", "not klartext's: {stderr}");
    assert_eq!(env.read("a.txt.1.bak"), GARBLED.as_bytes());
    assert!(
        stderr.contains("a.txt.bak") && stderr.contains("a.txt.1.bak"),
        "says where the backup went: {stderr}"
    );
}

/// Running --in-place again keeps the backup of the original: a file that still holds what
/// klartext wrote needs no new backup, and one edited since gets its own.
#[test]
fn in_place_again_keeps_the_backup_of_the_original() {
    let env = TestEnv::new();
    env.write("a.txt", GARBLED);
    env.cmd()
        .args(["fix", "a.txt", "--in-place"])
        .assert()
        .success();
    let edited = GARBLED.replace("morgen", "übermorgen");
    env.write("a.txt", &edited);
    env.cmd()
        .args(["fix", "a.txt", "--in-place"])
        .assert()
        .success();
    assert_eq!(env.read("a.txt.bak"), GARBLED.as_bytes(), "the original");
    assert_eq!(
        env.read("a.txt.1.bak"),
        edited.as_bytes(),
        "the edit, kept too"
    );
    assert_eq!(
        env.read("a.txt"),
        REPAIRED.replace("morgen", "übermorgen").as_bytes()
    );
}

/// Every file a folder run writes goes through the same check as its outputs: the report too.
#[test]
fn a_folder_run_never_replaces_a_report_it_did_not_write() {
    let env = TestEnv::new();
    env.write("in/a.txt", GARBLED);
    env.write("out/klartext-report.json", "my notes");
    let out = env
        .cmd()
        .args(["fix", "in", "-o", "out"])
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("klartext-report.json") && stderr.contains("not written by klartext"),
        "{stderr}"
    );
    assert_eq!(env.read("out/klartext-report.json"), b"my notes");
    env.cmd()
        .args(["fix", "in", "-o", "out", "--force"])
        .assert()
        .success();
    // Klartext's own now: the next run replaces it without --force.
    env.cmd()
        .args(["fix", "in", "-o", "out"])
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&env.read("out/klartext-report.json")).expect("JSON");
    assert_eq!(report["totals"]["ok"], 1, "{report}");

    env.write("notes.html", "my page");
    let out = env
        .cmd()
        .args(["fix", "in/a.txt", "--report", "notes.html"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr_of(&out));
    assert_eq!(env.read("notes.html"), b"my page");
}

#[test]
fn stdin_to_stdout() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["fix", "-"])
        .write_stdin(GARBLED)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), REPAIRED);
}

#[test]
fn json_report() {
    let env = TestEnv::new();
    env.write("a.txt", GARBLED);
    let out = env
        .cmd()
        .args(["fix", "--json", "a.txt", "missing.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(report["schema"], "klartext.fix/2");
    let files = report["files"].as_array().expect("files");
    assert_eq!(files[0]["status"], "ok");
    assert!(files[0]["repairs"].as_u64() >= Some(3));
    let rule = &files[0]["repaired"][0]["repairs"][0]["rule"];
    assert!(rule.is_string(), "{report}");
    assert_eq!(files[1]["status"], "failed");
    assert!(
        files[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing.txt"))
    );
}

#[test]
fn colour_follows_no_color_and_flags() {
    let env = TestEnv::new();
    env.write("a.txt", GARBLED);
    let run = |extra: &[(&str, &str)], args: &[&str]| {
        let mut cmd = env.cmd();
        cmd.args(["fix", "a.txt"]).args(args);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        stdout_of(&cmd.output().expect("runs"))
    };
    assert!(
        !run(&[], &[]).contains('\x1b'),
        "no colour when not a terminal"
    );
    assert!(run(&[("CLICOLOR_FORCE", "1")], &[]).contains('\x1b'));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]).contains('\x1b'));
    assert!(run(&[("NO_COLOR", "1")], &["--color", "always"]).contains('\x1b'));
}

#[test]
fn narrow_output_is_stacked_and_fits() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .arg("fix")
        .arg(sample("interview.de.txt"))
        .args(["--width", "40"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout.contains(" │ "), "stacked below 70 columns");
    assert!(widest_line(&stdout) <= 40, "{stdout}");
}

#[test]
fn help_teaches_with_examples() {
    let env = TestEnv::new();
    for sub in [
        &["fix"][..],
        &["diff"],
        &["check"],
        &["config"],
        &["config", "show"],
        &["config", "path"],
        &["completions"],
    ] {
        let out = env.cmd().args(sub).arg("--help").output().expect("runs");
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout_of(&out).contains("Examples:"), "{sub:?} --help");
    }
    env.cmd()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicates::str::contains("klartext"));
}

#[test]
fn offline_report_context_and_debug_colour() {
    let env = TestEnv::new();
    env.write(
        "a.txt",
        format!("Eins.\n\nZwei.\n\nDrei.\n\n{GARBLED}\nVier.\n\nFünf.\n\nSechs.\n"),
    );
    let out = env
        .cmd()
        .args([
            "fix",
            "a.txt",
            "--context",
            "1",
            "--color",
            "debug",
            "--report",
            "a.md",
        ])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stdout.contains("<del>") && stdout.contains("<fold>"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Drei.") && !stdout.contains("Zwei."),
        "one paragraph of context:\n{stdout}"
    );
    let md = String::from_utf8(env.read("a.md")).expect("UTF-8");
    assert!(md.contains("{~~") || md.contains("{++"), "{md}");
}
