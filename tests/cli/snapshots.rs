//! Whole-command snapshots: the `--help` of every command, and complete runs (command, exit
//! code, stdout, stderr, files written) of the real binary in the hermetic [`TestEnv`] at 100
//! columns. They pin today's behaviour as a baseline for refactoring; what varies between runs
//! (the temporary folder, timings, ports) is normalised before comparing.

use std::process::Output;

use crate::common::{TestEnv, sample, stderr_of, stdout_of};
use crate::mocks::Model;
use crate::online;

/// Placeholders for what differs from run to run but is not behaviour.
const FILTERS: [(&str, &str); 3] = [
    (r" in \d+\.\d s\b", " in [SECONDS] s"),
    (r#""seconds": [0-9.e-]+"#, r#""seconds": "[SECONDS]""#),
    (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
];

/// The run as a reader sees it: the command line, the exit code, both streams.
fn transcript(command: &str, out: &Output) -> String {
    let code = out
        .status
        .code()
        .map_or_else(|| "none (a signal)".to_owned(), |c| c.to_string());
    format!(
        "$ klartext {command}\nexit code: {code}\n--- stdout\n{}--- stderr\n{}",
        stdout_of(out),
        stderr_of(out)
    )
}

/// Snapshot `text` with the temporary folder replaced by `[TMP]` and [`FILTERS`] applied.
fn assert_run(name: &str, env: &TestEnv, text: &str) {
    let root = env.root().display().to_string();
    let text = text.replace(&root, "[TMP]");
    insta::with_settings!({filters => FILTERS.to_vec()}, {
        insta::assert_snapshot!(name, text);
    });
}

/// The subcommands listed under `Commands:` in a help text, `help` aside.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        // Names sit at two spaces; wrapped descriptions are indented further.
        .filter_map(|line| line.strip_prefix("  "))
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command and subcommand found by following `Commands:` from `klartext --help`, each
/// help as its own snapshot, plus the list of commands, so one added or removed shows too.
#[test]
fn help_of_every_command() {
    let env = TestEnv::new();
    let mut commands: Vec<Vec<String>> = vec![Vec::new()];
    let mut next = 0;
    while let Some(command) = commands.get(next).cloned() {
        next += 1;
        let out = env
            .cmd()
            .args(&command)
            .arg("--help")
            .output()
            .expect("runs");
        let help = stdout_of(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{command:?}: {}",
            stderr_of(&out)
        );
        assert_eq!(stderr_of(&out), "", "{command:?}");
        commands.extend(subcommands(&help).into_iter().map(|name| {
            let mut sub = command.clone();
            sub.push(name);
            sub
        }));
        let name = ["help", "klartext"]
            .into_iter()
            .chain(command.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join("_");
        insta::assert_snapshot!(name, help);
    }
    let listing: Vec<String> = commands
        .iter()
        .map(|c| format!("klartext {}", c.join(" ")).trim_end().to_owned())
        .collect();
    insta::assert_snapshot!("help_commands", listing.join("\n"));
}

/// `fix` offline on every file in `samples/`, copied into the temporary folder so the names
/// are short. `interview.de.txt` runs with `--color debug`, which shows styles as tags, so the
/// styling is pinned as well as the plain markers of `--color never`.
#[test]
fn fix_offline_of_every_sample() {
    let env = TestEnv::new();
    let folder = sample("");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .expect("samples/ is part of the repository")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for name in &names {
        env.write(name, std::fs::read(sample(name)).expect("sample"));
        let color = if name == "interview.de.txt" {
            "debug"
        } else {
            "never"
        };
        let args = [
            "fix", name, "--color", color, "--width", "100", "--paging", "never",
        ];
        let out = env.cmd().args(args).output().expect("runs");
        let snapshot = format!("fix_offline_{}", name.replace(['.', '-'], "_"));
        assert_run(&snapshot, &env, &transcript(&args.join(" "), &out));
    }
}

#[test]
fn fix_json_and_check_json() {
    let env = TestEnv::new();
    for name in ["cloud-report.de.md", "interview.de.txt"] {
        env.write(name, std::fs::read(sample(name)).expect("sample"));
    }
    for (snapshot, args) in [
        (
            "fix_json_cloud_report",
            ["fix", "--json", "cloud-report.de.md"],
        ),
        (
            "check_json_interview",
            ["check", "--json", "interview.de.txt"],
        ),
    ] {
        let out = env.cmd().args(args).output().expect("runs");
        assert_run(snapshot, &env, &transcript(&args.join(" "), &out));
    }
}

#[test]
fn diff_of_two_small_files() {
    let env = TestEnv::new();
    env.write(
        "old.txt",
        "# Notes\n\nThe company was caught on the rear foot by the costs.\n\n\
         This paragraph stays.\n\nThis one is dropped.\n\nThe bill rose to 2.9 million euros - \
         nobody had counted the traffic.\n",
    );
    env.write(
        "new.txt",
        "# Notes\n\nThe costs caught the company on the back foot.\n\nThis paragraph stays.\n\n\
         The bill rose to 2.9 million euros – nobody had counted the traffic.\n\n\
         A new closing paragraph.\n",
    );
    let args = [
        "diff", "old.txt", "new.txt", "--color", "debug", "--width", "100", "--paging", "never",
    ];
    let out = env.cmd().args(args).output().expect("runs");
    assert_run("diff_debug", &env, &transcript(&args.join(" "), &out));
}

/// `config show` with a user file, a project file, a variable and a key; `config path`.
#[test]
fn config_show_and_path() {
    let env = TestEnv::new();
    env.write(
        "config/config.toml",
        "color = \"never\"\n[passes]\nrestore = \"openai\"\n[backends.openai]\n\
         model = \"gpt-4.1-mini\"\n",
    );
    env.write(".klartext.toml", "width = 90\n");
    let out = env
        .cmd()
        .args(["config", "show"])
        .env("KLARTEXT_VIEW", "stacked")
        .env("OPENAI_API_KEY", "sk-test-never-shown")
        // Relative, unlike the other tests: an absolute temporary path would set the width of
        // the value column, which would then depend on $TMPDIR.
        .env("KLARTEXT_CACHE_DIR", "cache")
        .output()
        .expect("runs");
    assert_run("config_show", &env, &transcript("config show", &out));
    let out = env.cmd().args(["config", "path"]).output().expect("runs");
    assert_run("config_path", &env, &transcript("config path", &out));
}

/// One file through the DeepL draft and the OpenAI restore (local stand-ins), with the English
/// it writes. `online::fix` adds `--fail-on never`, as the transcript shows.
#[tokio::test]
async fn fix_online_of_one_file() {
    let servers = online::servers(Model::Good).await;
    let env = online::project(&servers, true);
    let args = [
        "article.de.txt",
        "--color",
        "never",
        "--width",
        "100",
        "--paging",
        "never",
    ];
    let out = online::fix(&env, &args);
    let english = String::from_utf8(env.read("article.en.txt")).expect("UTF-8");
    let text = format!(
        "{}--- article.en.txt\n{english}",
        transcript(&format!("fix --fail-on never {}", args.join(" ")), &out)
    );
    assert_run("fix_online_one_file", &env, &text);
}

/// The model's notes under their paragraphs by default: the doubt marked ⚠ (and counted as a
/// warning), the routine notes ℹ; the unchanged paragraph with the doubt is shown, the one
/// without notes folded. The restore reply has the literal English (no draft pass).
#[tokio::test]
async fn fix_online_with_model_doubts() {
    let servers = online::servers(Model::Doubts).await;
    let env = online::project(&servers, false);
    env.write("article.de.txt", online::DOUBTS_ARTICLE);
    let args = [
        "article.de.txt",
        "--color",
        "never",
        "--width",
        "100",
        "--paging",
        "never",
    ];
    let out = online::fix(&env, &args);
    let text = transcript(&format!("fix --fail-on never {}", args.join(" ")), &out);
    assert_run("fix_online_model_doubts", &env, &text);
}

/// The HTML report of the same run: the doubt listed ⚠ under its (unchanged) paragraph, which
/// stands on its own instead of folded with the unchanged paragraph without notes.
#[tokio::test]
async fn fix_online_report_with_model_doubts() {
    let servers = online::servers(Model::Doubts).await;
    let env = online::project(&servers, false);
    env.write("article.de.txt", online::DOUBTS_ARTICLE);
    let out = online::fix(
        &env,
        &["article.de.txt", "--report", "run.html", "--view", "none"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let html = String::from_utf8(env.read("run.html")).expect("UTF-8");
    let start = html
        .find("<section id=\"p2\"")
        .expect("¶ 2 has its own section");
    let end =
        start + html[start..].find("</section>").expect("the section ends") + "</section>".len();
    assert!(
        html.contains("<summary>1 unchanged paragraph (¶ 4)</summary>"),
        "only ¶ 4 is folded: {html}"
    );
    assert_run("fix_online_report_model_doubts", &env, &html[start..end]);
}

/// A folder through both passes: the summary on stderr and `OUT/klartext-report.json`.
#[tokio::test]
async fn fix_online_of_a_folder() {
    let servers = online::servers(Model::Good).await;
    let env = online::project(&servers, true);
    env.write(
        "in/news.de.txt",
        std::fs::read(sample("tech-news.de.txt")).expect("sample"),
    );
    env.write(
        "in/reports/cloud.de.md",
        std::fs::read(sample("cloud-report.de.md")).expect("sample"),
    );
    let args = ["in", "-o", "out"];
    let out = online::fix(&env, &args);
    let report = String::from_utf8(env.read("out/klartext-report.json")).expect("UTF-8");
    let text = format!(
        "{}--- out/klartext-report.json\n{report}\n",
        transcript(&format!("fix --fail-on never {}", args.join(" ")), &out)
    );
    assert_run("fix_online_folder", &env, &text);
}
