use crate::common::{TestEnv, sample, stderr_of, stdout_of};

#[test]
fn the_german_alone_gets_source_warnings() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .arg("check")
        .arg(sample("tech-news.de.txt"))
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings only: {}",
        stderr_of(&out)
    );
    for expected in [
        "source/scale-word",
        "source/fused-heading",
        "source/glued-quote",
    ] {
        assert!(stdout.contains(expected), "{expected} missing:\n{stdout}");
    }
    let strict = env
        .cmd()
        .arg("check")
        .arg(sample("tech-news.de.txt"))
        .args(["--fail-on", "warning"])
        .output()
        .expect("runs");
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn a_translation_is_audited_paragraph_by_paragraph() {
    let env = TestEnv::new();
    env.write(
        "a.de.txt",
        "Nvidia nähert sich einer 4-Billionen-Dollar-Bewertung.\n\nDer Umsatz stieg um 3,4 Prozent auf 1.400 Millionen Euro.\n",
    );
    env.write(
        "a.en.txt",
        "Nvidia is nearing a $4 billion valuation.\n\nRevenue rose 3.4 percent to €1,400 million.\n",
    );
    let out = env
        .cmd()
        .args(["check", "a.de.txt", "a.en.txt"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("¶ 1 ✗ quantity/wrong-scale"), "{stdout}");
    assert!(
        !stdout.contains("¶ 2 ✗"),
        "the second paragraph is right: {stdout}"
    );

    let json = env
        .cmd()
        .args([
            "check",
            "a.de.txt",
            "a.en.txt",
            "--json",
            "--fail-on",
            "never",
        ])
        .output()
        .expect("runs");
    assert_eq!(json.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(report["schema"], "klartext.check/1");
    assert_eq!(report["errors"], 1);
    assert_eq!(report["findings"][0]["rule"], "wrong-scale");

    env.write(
        "short.en.txt",
        "Nvidia is nearing a $4 trillion valuation.\n",
    );
    let out = env
        .cmd()
        .args(["check", "a.de.txt", "short.en.txt"])
        .output()
        .expect("runs");
    assert!(
        stdout_of(&out).contains("form/segment-count"),
        "{}",
        stdout_of(&out)
    );
}

#[test]
fn a_missing_file_is_a_failure() {
    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["check", "nope.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("nope.txt"));
}

#[test]
fn a_name_kept_in_one_paragraph_and_changed_in_another_is_a_warning() {
    let env = TestEnv::new();
    env.write(
        "a.de.txt",
        "Openai wächst schnell.\n\nOpenai und Microsoft streiten.\n\nOpenai plant mehr.\n",
    );
    env.write(
        "a.en.txt",
        "Openai is growing fast.\n\nOpenAI and Microsoft are arguing.\n\nOpenai plans more.\n",
    );
    let out = env
        .cmd()
        .args(["check", "a.de.txt", "a.en.txt"])
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "warnings only: {stdout}");
    let found: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("consistency/term-variants"))
        .collect();
    assert_eq!(found.len(), 1, "{stdout}");
    assert!(found[0].starts_with("¶ 2 "), "{stdout}");
    assert!(found[0].contains("\"OpenAI\""), "{stdout}");
}
