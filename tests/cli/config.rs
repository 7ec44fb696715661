use crate::common::{TestEnv, stderr_of, stdout_of};

const SECRET: &str = "sk-test-never-print-me-123";

#[test]
fn show_lists_values_with_sources_and_redacts_keys() {
    let env = TestEnv::new();
    env.write(
        "config/config.toml",
        "color = \"never\"\n[passes]\nrestore = \"openai\"\n[backends.openai]\nkind = \"openai\"\nmodel = \"gpt-4.1-mini\"\n",
    );
    env.write(".klartext.toml", "width = 90\n");
    let out = env
        .cmd()
        .args(["config", "show"])
        .env("OPENAI_API_KEY", SECRET)
        .env("KLARTEXT_VIEW", "stacked")
        .output()
        .expect("runs");
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(!stdout.contains(SECRET), "{stdout}");
    for expected in [
        "backends.openai.model",
        "gpt-4.1-mini",
        "passes.restore",
        "user file",
        "project file",
        "env KLARTEXT_VIEW",
        "default",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?}:\n{stdout}");
    }
    let json = env
        .cmd()
        .args(["config", "show", "--json"])
        .env("OPENAI_API_KEY", SECRET)
        .output()
        .expect("runs");
    assert!(!stdout_of(&json).contains(SECRET));
    serde_json::from_slice::<serde_json::Value>(&json.stdout).expect("valid JSON");
}

#[test]
fn unknown_keys_and_bad_values_name_the_key_and_the_file() {
    let env = TestEnv::new();
    env.write(".klartext.toml", "colour = \"never\"\n");
    let out = env.cmd().args(["config", "show"]).output().expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("colour") && stderr.contains(".klartext.toml"),
        "{stderr}"
    );

    let env = TestEnv::new();
    let out = env
        .cmd()
        .args(["config", "show"])
        .env("KLARTEXT_COLOR", "sometimes")
        .output()
        .expect("runs");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("KLARTEXT_COLOR") && stderr.contains("sometimes"),
        "{stderr}"
    );
}

#[test]
fn path_names_the_files() {
    let env = TestEnv::new();
    let out = env.cmd().args(["config", "path"]).output().expect("runs");
    let stdout = stdout_of(&out);
    assert!(
        stdout.contains(&env.path("config/config.toml").display().to_string()),
        "{stdout}"
    );
    assert!(stdout.contains(".klartext.toml"));
}
