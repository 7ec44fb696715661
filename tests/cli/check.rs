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
        stdout_of(&out).contains("¶ 2 ⚠ form/unmatched-paragraph"),
        "{}",
        stdout_of(&out)
    );
}

/// A human original paragraphs differently from the German: a heading on its own line, a
/// list split otherwise, an extra sentence. `check` pairs paragraphs by content, so a correct
/// translation raises no error, and a wrong number is still caught in the right paragraph
/// (issue 13).
#[test]
fn a_translation_with_other_paragraphing_is_paired_by_content() {
    let env = TestEnv::new();
    env.write(
        "kb.de.txt",
        "Neue Preise für Azure Speicher Ab dem 1. März 2025 steigen die Preise für Blob Storage um 9 Prozent.\n\n\
         Kunden mit Verträgen vor 2024 zahlen weiterhin 0,02 US-Dollar pro GB.\n\n\
         Schritt 1: Öffnen Sie das Azure-Portal. Schritt 2: Wählen Sie Speicherkonten.\n\n\
         Schritt 3: Prüfen Sie die Tarifstufe.\n\n\
         Weitere Informationen finden Sie unter https://learn.microsoft.com/azure/storage.\n",
    );
    let english = "New prices for Azure Storage\n\n\
         From March 1, 2025, prices for Blob Storage rise by 9 percent.\n\n\
         Customers with contracts from before 2024 keep paying $0.02 per GB.\n\n\
         Step 1: Open the Azure portal.\n\n\
         Step 2: Select Storage accounts.\n\n\
         Step 3: Check the tier.\n\n\
         For more information, see https://learn.microsoft.com/azure/storage.\n";
    env.write("kb.en.txt", english);
    let audit = |file: &str| {
        let out = env
            .cmd()
            .args(["check", "kb.de.txt", file, "--json", "--fail-on", "never"])
            .output()
            .expect("runs");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON")
    };
    let report = audit("kb.en.txt");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["warnings"], 0, "{report:#}");
    // The same translation with one wrong number: caught, in the German paragraph it belongs to.
    env.write("wrong.en.txt", english.replace("$0.02", "$0.20"));
    let report = audit("wrong.en.txt");
    assert_eq!(report["errors"], 1, "{report:#}");
    assert_eq!(report["findings"][0]["segment"], "s1", "{report:#}");
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
