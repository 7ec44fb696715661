//! A reader who closes stdout early (`| head`, `| true`, a pager quit) is not an error: every
//! command and output format exits 0 quietly (issue 12, item 10).

use crate::common::TestEnv;

/// Run klartext with a stdout whose reading end is already closed, so its first write fails
/// with a broken pipe (no race with a reader that might still be there).
fn with_closed_stdout(env: &TestEnv, args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = env.std_cmd();
    cmd.args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped());
    cmd.output().expect("run klartext")
}

#[test]
fn a_closed_stdout_exits_zero_quietly_for_every_command_and_format() {
    let env = TestEnv::new();
    let mut german = String::new();
    for i in 0..150 {
        german.push_str(&format!(
            "Der Bericht Nr. {i} nannte 4 Billionen Euro,,die Kosten\".\n\n"
        ));
    }
    env.write("a.de.txt", &german);
    env.write("b.de.txt", german.replace("Euro", "Dollar"));
    let runs: &[&[&str]] = &[
        &["completions", "zsh"],
        &["completions", "bash"],
        &["--help"],
        &["fix", "--help"],
        &["check", "a.de.txt"],
        &["check", "a.de.txt", "--json"],
        &["fix", "a.de.txt"],
        &["fix", "a.de.txt", "--json"],
        &["fix", "a.de.txt", "--dry-run", "--json"],
        &["fix", "a.de.txt", "-o", "-"],
        &["diff", "a.de.txt", "b.de.txt", "--json"],
        &["diff", "a.de.txt", "b.de.txt", "--view", "inline"],
        &["config", "show"],
        &["backends", "--json"],
    ];
    for args in runs {
        let output = with_closed_stdout(&env, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "klartext {args:?} complained about a closed stdout:\n{stderr}"
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "klartext {args:?}:\n{stderr}"
        );
    }
}
